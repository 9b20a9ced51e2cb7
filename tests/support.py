"""Plain helpers shared by the test modules (fixtures are in conftest.py).

Where the test data are:

* ``tests/data``: data copied into the project (generated reference cases,
  Familias files written by pedFamilias, dvir's simulated case);
* ``examples``: the case files kinmatch ships;
* ``../shared/reference`` (beside the checkout): public reference data read
  in place and never copied (dvir's datasets, real Familias files, the norSTR
  frequency databases). The environment variable
  ``KINMATCH_SHARED_REFERENCE`` names another folder (a git worktree, say,
  whose ``..`` has no ``shared``). Tests that need a file there are skipped,
  saying what is absent and where it is read from, when it is not there.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from kinmatch.cli import main
from kinmatch.errors import CaseFormatError, Location
from kinmatch.pedigree import Pedigree, pedigree_from_records

#: The checkout (the folder holding ``src``, ``tests`` and ``examples``).
ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
#: Data copied into the project for the tests.
DATA = TESTS / "data"
#: The shipped examples.
EXAMPLES = ROOT / "examples"
#: The shipped examples of the table formats.
FORMATS = EXAMPLES / "formats"
#: Public reference data read in place (see the module docstring).
SHARED_REFERENCE = Path(os.environ.get("KINMATCH_SHARED_REFERENCE")
                        or ROOT.parent / "shared" / "reference").resolve()

T = TypeVar("T")


def shared_reference_path(relative: str, what: str) -> Path:
    """``../shared/reference/<relative>``, or skip the test: ``what`` says
    what is read from there (e.g. "dvir's datasets")."""
    path = SHARED_REFERENCE / relative
    if not path.exists():
        pytest.skip(shared_reference_absent(relative, what))
    return path


def shared_reference_absent(relative: str, what: str) -> str:
    """The skip message of an absent ``../shared/reference/<relative>``."""
    return (f"../shared/reference/{relative} is absent: {what} are read from "
            f"{SHARED_REFERENCE / relative} (public data, not copied into the project; "
            "set KINMATCH_SHARED_REFERENCE to read them elsewhere)")


def slow_param(*values: Any, id: str | None = None) -> Any:
    """A parametrize case of the slow tier (``pytest -m "not slow"`` leaves it out)."""
    return pytest.param(*values, marks=pytest.mark.slow, id=id)


def run_cli(*args: str, width: int | None = None) -> Result:
    """Run the ``kinmatch`` command line in-process; ``width``: the terminal's
    (``COLUMNS``) for table output."""
    env = {"COLUMNS": str(width)} if width is not None else None
    return CliRunner().invoke(main, list(args), env=env)


def located_error(parse: Callable[[str, str], object], text: str, file: str,
                  words: str) -> Location:
    """Where ``parse(text, file)`` says its input is wrong: it must raise a
    :class:`CaseFormatError` whose message matches ``words``."""
    with pytest.raises(CaseFormatError, match=words) as err:
        parse(text, file)
    return err.value.location


def read_json(path: Path) -> Any:
    """A JSON file's document."""
    return json.loads(path.read_text())


@contextmanager
def quiet(category: type[Warning] = Warning) -> Iterator[None]:
    """Silence the warnings of ``category`` (all by default) in the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield


def quietly(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` with every warning silenced."""
    with quiet():
        return fn(*args, **kwargs)


def pedigree(*rows: tuple[str, str | None, str | None, int],
             inbreeding: dict[str, float] | None = None) -> Pedigree:
    """A pedigree from ``(id, father, mother, sex)`` rows (sex 1 male, 2
    female), with optional founder inbreeding."""
    return pedigree_from_records([{"id": i, "father": f, "mother": m, "sex": s}
                                  for i, f, m, s in rows], inbreeding)
