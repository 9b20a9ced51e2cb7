"""No command writes over a file it reads; an interrupted write leaves nothing behind.

Every refusal is one line naming both paths, exit status 2, before anything
is computed: the same path, a relative and an absolute path, a symbolic
link, a lineage database named by the case, the files of a table-based
case (``convert --force``). ``simulate chosei`` replaces its files only
with ``--force``. An atomic write that fails (any exception, Ctrl-C,
SIGTERM) removes its temporary file and leaves the target as it was.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from support import EXAMPLES, FORMATS, ROOT, run_cli

from kinmatch.cli.main import handle_termination
from kinmatch.errors import KinmatchError
from kinmatch.formats.convert import conversion_inputs, convert
from kinmatch.formats.files import atomic_write_text, refuse_overwriting_inputs
from kinmatch.formats.lineage_json import case_input_paths

PROFILES = FORMATS / "genemapper_export.txt"
FREQUENCIES = FORMATS / "frequencies_familias.txt"
PEDIGREE = FORMATS / "missing_son.ped"
HYPOTHESES = FORMATS / "missing_son_hypotheses.json"
LINEAGE_FILES = ("yfiler_plus_rates.tsv", "y_database_synthetic.tsv",
                 "mt_database_synthetic.tsv")


def one_line_refusal(res, *paths: str) -> None:
    """Exit status 2, one line, naming every path."""
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1, res.output
    assert "would overwrite the input file" in lines[0]
    for path in paths:
        assert path in lines[0], (path, lines[0])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (links as what they point to) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def dvi_case(tmp_path: Path) -> Path:
    case = tmp_path / "case.json"
    shutil.copy(EXAMPLES / "dvi_case.json", case)
    return case


def _copy_with_lineage(example: Path, folder: Path) -> Path:
    """A copy of an example case in ``folder``, with the lineage databases it
    names by relative path (lineage/...) beside it."""
    case = folder / example.name
    shutil.copy(example, case)
    (folder / "lineage").mkdir()
    for name in LINEAGE_FILES:
        shutil.copy(EXAMPLES / "lineage" / name, folder / "lineage" / name)
    return case


@pytest.fixture
def lineage_case(tmp_path: Path) -> Path:
    """A DVI case naming its lineage databases by relative path (lineage/...)."""
    return _copy_with_lineage(EXAMPLES / "dvi_case_lineage.json", tmp_path)


# -- kinmatch dvi --report -----------------------------------------------------


def test_dvi_report_over_the_case_is_refused(dvi_case: Path, tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    res = run_cli("dvi", str(dvi_case), "--report", str(dvi_case), "--no-progress")
    one_line_refusal(res, str(dvi_case))
    assert snapshot(tmp_path) == before


def test_dvi_report_relative_and_absolute_paths(dvi_case: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    before = snapshot(tmp_path)
    for case, report in ((str(dvi_case), "../case.json"),
                         (str(dvi_case), "../sub/./../case.json"),
                         ("../case.json", str(dvi_case))):
        res = run_cli("dvi", case, "--report", report, "--no-progress")
        one_line_refusal(res, report, case)
    assert snapshot(tmp_path) == before


def test_dvi_report_through_a_symbolic_link(dvi_case: Path, tmp_path: Path) -> None:
    link = tmp_path / "report.html"
    link.symlink_to(dvi_case)
    before = dvi_case.read_bytes()
    res = run_cli("dvi", str(dvi_case), "--report", str(link), "--no-progress")
    one_line_refusal(res, str(link), str(dvi_case))
    assert dvi_case.read_bytes() == before and link.is_symlink()
    # and a case read through a link is protected under its own name
    case_link = tmp_path / "linked_case.json"
    case_link.symlink_to(dvi_case)
    res = run_cli("dvi", str(case_link), "--report", str(dvi_case), "--no-progress")
    one_line_refusal(res, str(dvi_case), str(case_link))
    assert dvi_case.read_bytes() == before


def test_dvi_report_over_a_hard_link_of_the_case(dvi_case: Path, tmp_path: Path) -> None:
    hard = tmp_path / "hard.html"
    os.link(dvi_case, hard)
    res = run_cli("dvi", str(dvi_case), "--report", str(hard), "--no-progress")
    one_line_refusal(res, str(hard), str(dvi_case))


@pytest.mark.parametrize("database", LINEAGE_FILES)
def test_dvi_report_over_a_lineage_database_of_the_case(lineage_case: Path, tmp_path: Path,
                                                        database: str) -> None:
    before = snapshot(tmp_path)
    target = tmp_path / "lineage" / database
    res = run_cli("dvi", str(lineage_case), "--report", str(target), "--no-progress")
    one_line_refusal(res, str(target))
    assert snapshot(tmp_path) == before


def test_dvi_report_over_the_truth_is_refused(dvi_case: Path, tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text("{}")
    res = run_cli("dvi", str(dvi_case), "--truth", str(truth), "--report", str(truth),
                  "--no-progress")
    one_line_refusal(res, str(truth))
    assert truth.read_text() == "{}"


def test_case_input_paths(lineage_case: Path, dvi_case: Path, tmp_path: Path) -> None:
    paths = case_input_paths(lineage_case)
    assert paths[0] == lineage_case
    assert sorted(p.resolve() for p in paths[1:]) == sorted(
        (tmp_path / "lineage" / name).resolve() for name in LINEAGE_FILES)
    assert case_input_paths(dvi_case) == [dvi_case]
    # not JSON, not readable, not an object: only the file itself
    for name, text in (("x.fam", "Output from Familias"), ("bad.json", "{not json"),
                       ("list.json", "[1, 2]")):
        (tmp_path / name).write_text(text)
        assert case_input_paths(tmp_path / name) == [tmp_path / name]
    assert case_input_paths(tmp_path / "absent.json") == [tmp_path / "absent.json"]


# -- kinmatch convert --------------------------------------------------------------


@pytest.mark.parametrize("option", ["--frequencies", "--pedigree", "--profiles"])
def test_convert_force_onto_a_table_case_input(tmp_path: Path, option: str) -> None:
    files = {"--frequencies": tmp_path / "db.txt", "--pedigree": tmp_path / "family.ped",
             "--profiles": tmp_path / "profiles.txt"}
    for source, copy in ((FREQUENCIES, files["--frequencies"]), (PEDIGREE, files["--pedigree"]),
                         (PROFILES, files["--profiles"])):
        shutil.copy(source, copy)
    before = snapshot(tmp_path)
    output = files[option]
    res = run_cli("convert", "--profiles", str(files["--profiles"]), str(output),
                  "--frequencies", str(files["--frequencies"]), "--pedigree",
                  str(files["--pedigree"]), "--missing", "Missing-Son", "--poi",
                  "UHR-2024-007", "--to", "json", "--force")
    one_line_refusal(res, str(output))
    assert snapshot(tmp_path) == before


def test_convert_force_onto_the_hypotheses(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(HYPOTHESES, tmp_path / "hyp.json")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    res = run_cli("convert", str(PROFILES), str(tmp_path / "hyp.json"),
                  "--frequencies", str(FREQUENCIES), "--hypotheses", "hyp.json", "--force")
    one_line_refusal(res, str(tmp_path / "hyp.json"), "hyp.json")
    assert snapshot(tmp_path) == before


def test_convert_force_onto_a_lineage_database_of_the_case(tmp_path: Path) -> None:
    case = _copy_with_lineage(EXAMPLES / "missing_person_lineage.json", tmp_path)
    before = snapshot(tmp_path)
    target = tmp_path / "lineage" / "mt_database_synthetic.tsv"
    res = run_cli("convert", str(case), str(target), "--to", "json", "--force")
    one_line_refusal(res, str(target))
    assert snapshot(tmp_path) == before
    # a symbolic link to the database is refused too
    link = tmp_path / "out.json"
    link.symlink_to(target)
    res = run_cli("convert", str(case), str(link), "--force")
    one_line_refusal(res, str(link))
    database = before["lineage/mt_database_synthetic.tsv"]
    assert snapshot(tmp_path) == {**before, "out.json": database}


def test_the_library_refuses_too(tmp_path: Path) -> None:
    db = tmp_path / "db.txt"
    shutil.copy(FREQUENCIES, db)
    before = db.read_bytes()
    settings = {"frequencies": str(db), "pedigree": str(PEDIGREE), "missing": "Missing-Son",
                "poi": "UHR-2024-007"}
    assert conversion_inputs(PROFILES, settings) == [PROFILES, db, PEDIGREE]
    with pytest.raises(KinmatchError, match="would overwrite the input file"):
        convert(PROFILES, db, to="json", overwrite=True, table_case=settings)
    assert db.read_bytes() == before
    with pytest.raises(KinmatchError, match="would overwrite the input file"):
        refuse_overwriting_inputs([tmp_path / "x", tmp_path / "." / "db.txt"], [db])
    refuse_overwriting_inputs(tmp_path / "new.txt", [db])  # a new file is fine


# -- kinmatch simulate chosei ------------------------------------------------------


def test_simulate_replaces_its_files_only_with_force(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    out.mkdir()
    (out / "truth.json").write_text("keep me")
    res = run_cli("simulate", "chosei", "--out", str(out), "--recovered", "2")
    assert res.exit_code == 2, res.output
    assert "truth.json" in res.output and "--force" in res.output
    assert len([line for line in res.output.splitlines() if line.strip()]) == 1
    assert sorted(os.listdir(out)) == ["truth.json"]
    assert (out / "truth.json").read_text() == "keep me"
    res = run_cli("simulate", "chosei", "--out", str(out), "--recovered", "2", "--force")
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(out)) == ["case.json", "truth.json"]
    assert (out / "truth.json").read_text() != "keep me"
    # case.json alone is enough to refuse
    (out / "truth.json").unlink()
    res = run_cli("simulate", "chosei", "--out", str(out), "--recovered", "2")
    assert res.exit_code == 2 and "case.json" in res.output


# -- interrupted writes ------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt(),
                                   SystemExit(143)])
def test_an_interrupted_write_leaves_no_temporary_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       error: BaseException) -> None:
    target = tmp_path / "out.json"
    target.write_text("original")

    def fail(fd: int) -> None:
        raise error

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(type(error)):
        atomic_write_text(target, "new text")
    assert os.listdir(tmp_path) == ["out.json"]
    assert target.read_text() == "original"
    # a new file: nothing at all is left
    with pytest.raises(type(error)):
        atomic_write_text(tmp_path / "new.json", "new text")
    assert os.listdir(tmp_path) == ["out.json"]


def test_a_failed_rename_leaves_no_temporary_file(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("original")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new text")
    assert os.listdir(tmp_path) == ["out.json"]
    assert target.read_text() == "original"


def test_sigterm_raises_systemexit_while_a_command_runs() -> None:
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by the test runner")
    ctx = click.Context(click.Command("x"))
    handle_termination(ctx)
    try:
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        with pytest.raises(SystemExit) as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
        assert stop.value.code == 128 + signal.SIGTERM
    finally:
        ctx.close()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_ignored_signals_stay_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        ctx = click.Context(click.Command("x"))
        handle_termination(ctx)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        ctx.close()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """A real process: SIGTERM arrives while the temporary file is open."""
    target = tmp_path / "out.json"
    target.write_text("original")
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        import click
        from kinmatch.cli.main import handle_termination
        from kinmatch.formats.files import atomic_write_text

        def fsync(fd):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)

        os.fsync = fsync
        with click.Context(click.Command("x")) as ctx:
            handle_termination(ctx)
            atomic_write_text({str(target)!r}, "new text")
        sys.exit(0)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert os.listdir(tmp_path) == ["out.json"]
    assert target.read_text() == "original"


def test_dvi_report_in_a_missing_folder_is_refused_before_solving(dvi_case: Path,
                                                                  tmp_path: Path) -> None:
    res = run_cli("dvi", str(dvi_case), "--report", str(tmp_path / "no" / "r.html"),
                  "--no-progress")
    assert res.exit_code == 2 and "does not exist" in res.output
    assert "identified" not in res.output  # nothing was solved
