"""The architecture, checked: layers, no import cycles, no private reach-ins,
a light start-up.

The rules (docs/architecture.md):

* each layer imports only the layers below it (:data:`ALLOWED`); the library
  never imports the command line;
* no import cycles between kinmatch's modules;
* no module imports another module's private (underscore) names or private
  modules, tests included;
* no kinmatch import inside a function (the usual way to hide a cycle);
* ``import kinmatch`` and ``kinmatch --help`` load neither NumPy nor SciPy;
  the commands that keep the shared case's database (``kinmatch db``,
  ``audit``, ``admin``) load neither the numerics nor the web service.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import defaultdict
from functools import cache, lru_cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from kinmatch.cli.main import BLAS_THREAD_VARIABLES, COMMANDS, limit_blas_threads, main

SRC = Path(__file__).resolve().parents[1] / "src"
TESTS = Path(__file__).resolve().parent

#: The core model: people, markers, mutation models, relationships.
CORE = ("errors", "alleles", "markers", "mutation", "pedigree", "relationships", "ibd",
        "simulate")

#: layer -> the layers it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "algorithms": {"core"},  # its limits raise KinmatchErrors
    "schemas": set(),
    "likelihood": {"core"},
    "lineage": {"core"},
    "kinship": {"core", "likelihood", "lineage"},
    "dvi": {"core", "likelihood", "lineage", "algorithms"},
    "planning": {"core", "likelihood", "lineage", "dvi", "kinship"},
    "formats": {"core", "dvi", "kinship", "lineage", "schemas"},
    "scenarios": {"core", "dvi", "lineage", "formats"},  # formats: the shipped norSTR table
    "report": {"core", "dvi", "kinship", "lineage", "kinmatch"},
    "kinmatch": {"core", "dvi", "formats", "kinship"},
    # the shared case: storage is the database, service the web API over it
    "storage": {"core", "dvi", "formats", "kinmatch"},
    "service": {"core", "dvi", "kinship", "lineage", "planning", "formats", "report",
                "scenarios", "storage", "kinmatch"},
    "cli": {"core", "algorithms", "schemas", "likelihood", "lineage", "kinship", "dvi",
            "planning", "formats", "scenarios", "report", "kinmatch", "storage", "service"},
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "kinmatch"
    if len(parts) == 2 and parts[1] in CORE:
        return "core"
    return parts[1]


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def kinmatch_imports(path: Path, module: str) -> list[tuple[ast.ImportFrom | ast.Import, bool,
                                                             str]]:
    """(node, inside a function, imported module) of every kinmatch import,
    leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[ast.ImportFrom | ast.Import, bool, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                target = resolve(module, path.name == "__init__.py", child)
                if target.split(".")[0] == "kinmatch":
                    found.append((child, inner, target))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "kinmatch":
                        found.append((child, inner, alias.name))
            visit(child, inner)

    visit(tree, False)
    return found


@lru_cache(maxsize=1)
def source_modules() -> dict[str, Path]:
    return {module_name(p, SRC): p for p in sorted((SRC / "kinmatch").rglob("*.py"))}


@lru_cache(maxsize=1)
def import_graph() -> dict[str, set[str]]:
    modules = source_modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for node, _, target in kinmatch_imports(path, module):
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            for dep in submodules or [target]:
                if dep in modules and dep != module:
                    graph[module].add(dep)
    return graph


def test_layers_import_only_the_layers_below() -> None:
    wrong = []
    for module, deps in import_graph().items():
        for dep in deps:
            a, b = layer(module), layer(dep)
            if a != b and b not in ALLOWED[a]:
                wrong.append(f"{module} ({a}) imports {dep} ({b})")
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep):], dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(source_modules()):
        if module not in state:
            visit(module, [])
    assert cycles == []


@pytest.mark.parametrize("root", [SRC / "kinmatch", TESTS], ids=["src", "tests"])
def test_no_private_names_imported_from_other_modules(root: Path) -> None:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, SRC) if root != TESTS else f"tests.{path.stem}"
        for node, _, target in kinmatch_imports(path, module):
            if any(part.startswith("_") and not part.startswith("__")
                   for part in target.split(".")):
                wrong.append(f"{path.name}: imports the private module {target}")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        wrong.append(f"{path.name}: imports {target}.{alias.name}")
    assert wrong == []


def test_tests_patch_no_private_names() -> None:
    """``monkeypatch.setattr(module, "_name", ...)`` reaches into a module as an
    import would."""
    wrong = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "setattr" and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and str(node.args[1].value).startswith("_")):
                wrong.append(f"{path.name}:{node.lineno} patches {node.args[1].value}")
    assert wrong == []


def test_no_kinmatch_imports_inside_functions() -> None:
    wrong = [f"{path.relative_to(SRC)}:{node.lineno} imports {target}"
             for module, path in source_modules().items()
             for node, inside, target in kinmatch_imports(path, module) if inside]
    assert wrong == []


def test_the_library_never_imports_the_command_line() -> None:
    wrong = [f"{module} imports {dep}" for module, deps in import_graph().items()
             if layer(module) != "cli" for dep in deps if layer(dep) == "cli"]
    assert wrong == []


@pytest.mark.parametrize("code", ["import kinmatch", "import kinmatch.cli",
                                  "from kinmatch.cli.main import main"])
def test_start_up_loads_no_numerics(code: str) -> None:
    probe = (f"{code}\nimport sys\n"
             "print(sorted(m for m in ('numpy', 'scipy', 'scipy.stats', 'rich', 'jsonschema') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_commands_hold_blas_to_one_thread_unless_the_user_chose(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BLAS_THREAD_VARIABLES:  # restored as they were after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    limit_blas_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    limit_blas_threads()
    assert "OPENBLAS_NUM_THREADS" not in os.environ and "MKL_NUM_THREADS" not in os.environ
    # a command run in a fresh process: NumPy is loaded after the limit is set
    probe = ("import os, sys\nfrom kinmatch.cli.main import main\n"
             "main.get_command(None, 'lr')\n"
             "print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.split() == ["1", "True"]


def test_the_database_commands_start_without_numerics_or_the_web_service() -> None:
    """``kinmatch db``, ``audit`` and ``admin`` load the database layer and
    the accounts, not the formats, NumPy, SciPy, FastAPI or Uvicorn."""
    heavy = ("numpy", "scipy", "fastapi", "uvicorn", "kinmatch.formats", "kinmatch.dvi",
             "kinmatch.service.app")
    probe = ("import sys\nfrom kinmatch.cli.main import main\n"
             "for name in ('db', 'audit', 'admin'):\n"
             "    assert main.get_command(None, name) is not None\n"
             f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_every_command_with_its_own_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    shown = " ".join(result.output.split())
    for name, (_, _, summary) in COMMANDS.items():
        command = main.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        assert command.get_short_help_str(limit=200) == summary
        assert f"{name} {summary}" in shown


def test_public_api_names_resolve() -> None:
    import kinmatch

    for name in kinmatch.__all__:
        assert getattr(kinmatch, name) is not None
    with pytest.raises(AttributeError):
        _ = kinmatch.no_such_name  # type: ignore[attr-defined]
