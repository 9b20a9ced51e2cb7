"""The shipped Chōsei example (``examples/chosei``): its frequency database, its files, and
what the README says about it.

The norSTR file is parsed here with a few lines of plain Python, not with kinmatch's reader,
and the README's counts are recounted from the example's files with plain JSON. The worked
example of the README is compared with what its command prints, and its truth line with a
recount from the printed table (slow tier: the whole main job runs).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from support import EXAMPLES, ROOT, run_cli, shared_reference_path

from kinmatch.formats.frequencies import read_familias_frequencies
from kinmatch.scenarios.chosei import GLOBALFILER, east_asian_database

CHOSEI = EXAMPLES / "chosei"
DATA = ROOT / "src" / "kinmatch" / "scenarios" / "data"
SHIPPED = DATA / "OstAsiaDB_v2023.txt"
README = ROOT / "README.md"
#: The conclusions that identify (docs/cli.md).
IDENTIFYING = ("Undisputed", "Match", "Match (GLR)", "Symmetric match")


def norstr_table(text: str) -> dict[str, list[tuple[str, float]]]:
    """norSTR's text format, read plainly: a marker name line, ``allele<TAB>frequency``
    lines, a blank line between markers."""
    table: dict[str, list[tuple[str, float]]] = {}
    for block in text.strip().split("\n\n"):
        name, *rows = block.splitlines()
        table[name] = [(a, float(f)) for a, f in (row.split("\t") for row in rows)]
    return table


def load(name: str) -> dict:
    return json.loads((CHOSEI / name).read_text(encoding="utf-8"))


def readme_text() -> str:
    """The README with its lines joined (a claim may be broken over lines)."""
    return " ".join(README.read_text(encoding="utf-8").split())


# -- the shipped database ------------------------------------------------------------------


def test_the_shipped_database_is_norstrs_file_unchanged():
    original = shared_reference_path("frequency-databases/OstAsiaDB_v2023.txt",
                                     "the norSTR databases")
    assert SHIPPED.read_bytes() == original.read_bytes()
    licence = original.with_name("LICENSE-norSTR")
    assert (DATA / "LICENSE-norSTR").read_bytes() == licence.read_bytes()


def test_the_shipped_database_has_its_licence_and_source():
    assert "norSTR authors" in (DATA / "LICENSE-norSTR").read_text(encoding="utf-8")
    readme = " ".join((DATA / "README.md").read_text(encoding="utf-8").split())
    for words in ("OstAsiaDB_v2023.txt", "version 2023", "https://github.com/magnusdv/norSTR",
                  "MIT licence", "LICENSE-norSTR", "SYNTHETIC"):
        assert words in readme, words


def test_the_reader_reads_the_shipped_copy():
    want = norstr_table(SHIPPED.read_text(encoding="ascii"))
    assert len(want) == 40
    for db in (read_familias_frequencies(SHIPPED), east_asian_database()):
        assert db.marker_names == list(want)
        for name, rows in want.items():
            alleles, freqs = db.frequencies[name]
            assert list(zip(alleles, freqs.tolist())) == rows, name
    assert east_asian_database().population == "norSTR East Asian v2023"


# -- the example's files -------------------------------------------------------------------


def test_the_example_has_the_east_asian_frequencies_and_labels_the_synthetic_databases():
    table = norstr_table(SHIPPED.read_text(encoding="ascii"))
    case, truth = load("case.json"), load("truth.json")
    assert [m["name"] for m in case["markers"]] == [name for name, *_ in GLOBALFILER]
    for marker in case["markers"]:  # every GlobalFiler locus is in the database
        assert list(zip(marker["alleles"], marker["frequencies"])) == table[marker["name"]]
    assert truth["synthetic_loci"] == []
    assert truth["autosomal_database"] == "norSTR East Asian v2023"
    assert "norSTR East Asian v2023" in case["title"]
    assert "Y-STR and mtDNA databases SYNTHETIC" in case["title"]
    for database in ("y_database", "mt_database"):
        assert case["lineage"][database]["name"].startswith("SYNTHETIC"), database


def test_the_readme_counts_are_those_of_the_example():
    case, truth = load("case.json"), load("truth.json")
    text = readme_text()
    miners = len(truth["miners"])
    with_family = len(case["families"])
    assert with_family == miners - len(truth["families_without_donor"])
    claim = re.search(r"Of the (\d+) miners, (\d+) have a reference family: for the other "
                      r"(\d+) no living relative", text)
    assert claim and tuple(map(int, claim.groups())) == (miners, with_family,
                                                         miners - with_family)
    fragments = len(case["samples"])
    claim = re.search(r"(\d+) miners, the relatives .*?, (\d+) degraded fragments of (\d+) "
                      r"recovered miners", text)
    assert claim and tuple(map(int, claim.groups())) == (miners, fragments,
                                                         len(truth["recovered"]))
    # the samples after re-association: as the worked example prints them (checked below)
    claim = re.search(r"The (\d+) fragments become (\d+) samples", text)
    printed = re.search(r"(\d+) samples, (\d+) families, (\d+) missing persons", text)
    assert claim and printed
    assert int(claim.group(1)) == fragments and claim.group(2) == printed.group(1)
    assert tuple(map(int, printed.groups()[1:])) == (with_family, with_family)
    identifiable = set(truth["recovered"]) - set(truth["families_without_donor"])
    assert f"of {len(identifiable)} recovered missing persons with reference donors" in text


@pytest.mark.slow
def test_the_example_is_what_kinmatch_simulate_writes(tmp_path: Path):
    """The shipped files are ``kinmatch simulate chosei`` with its defaults (seed 1942,
    40 recovered miners), byte for byte: a change of the scenario regenerates them."""
    res = run_cli("simulate", "chosei", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    for name in ("case.json", "truth.json"):
        assert (tmp_path / name).read_bytes() == (CHOSEI / name).read_bytes(), name


# -- the README's worked example ------------------------------------------------------------


def worked_example() -> tuple[list[str], list[str]]:
    """The arguments of the README's worked ``kinmatch dvi`` command and the lines it shows."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("$ uv run kinmatch dvi examples/chosei/case.json"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    args = shlex.split(lines[start].removeprefix("$ uv run kinmatch "))
    return args, lines[start + 1:end]


def shown_lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


@pytest.mark.slow
def test_the_readme_worked_example_is_what_the_command_prints(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    """A documentation check: the README shows the output of its command at a 120-column
    terminal; the truth line is recounted from the printed table and the truth file."""
    args, shown = worked_example()
    args = [str(ROOT / a) if a.startswith("examples/") else a for a in args]
    monkeypatch.chdir(tmp_path)  # the report is written here
    res = run_cli(*args, width=120)
    assert res.exit_code == 0, res.output
    assert shown_lines(res.output) == shown
    assert (tmp_path / "chosei-report.html").exists()
    # recount: an Undisputed row is correct when every fragment of its sample is that miner's
    fragments = load("truth.json")["fragments"]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in shown
            if line.startswith("│")]
    identified = [(row[0], row[1].split("+")) for row in rows if row[-1] in IDENTIFYING]
    correct = sum(all(fragments[f] == miner for f in parts) for miner, parts in identified)
    truth = load("truth.json")
    identifiable = len(set(truth["recovered"]) - set(truth["families_without_donor"]))
    assert shown[0] == (f"Against the truth: {correct} correct, {len(identified) - correct} "
                        f"false, {identifiable - correct} missed (of {identifiable} recovered "
                        "missing persons with reference donors)")
    assert any(line.startswith(f"{len(identified)} of {len(load('case.json')['families'])} "
                               "missing persons identified;") for line in shown)
