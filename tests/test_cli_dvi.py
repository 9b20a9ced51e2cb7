"""`kinmatch dvi` end to end: reading, solving, JSON, the HTML report."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from xml.etree import ElementTree

import pytest
from dvir_cases import load_dvir_case
from support import DATA, EXAMPLES, FORMATS, quiet, run_cli

from kinmatch.dvi.case import PostMortemSample, prepare_case
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.dvi.solve import solve_case
from kinmatch.formats.dvi_json import read_dvi_case, write_dvi_case

EXAMPLE = EXAMPLES / "dvi_case.json"
FAMILIAS_DVI = DATA / "familias" / "synthetic_dvi.fam"
SIM = DATA / "dvir" / "dvi_sim_30fam_50pm.json"


def _run(*args: str) -> tuple[int, str]:
    result = run_cli("dvi", "--no-progress", *args)
    return result.exit_code, result.output


def test_table_output_names_every_missing_person():
    code, out = _run(str(EXAMPLE))
    assert code == 0, out
    case = read_dvi_case(EXAMPLE)
    for fam in case.families:
        for mp in fam.missing:
            assert mp in out
    assert "Undisputed" in out
    assert "missing persons identified" in out


def test_json_output_equals_the_library(tmp_path):
    code, out = _run(str(EXAMPLE), "--json")
    assert code == 0, out
    data = json.loads(out)
    case = read_dvi_case(EXAMPLE)
    with quiet():
        expected = solve_case(case).to_dict()
        pw = pairwise_lr(prepare_case(case))
    assert data["solution"]["missing_persons"] == expected["missing_persons"]
    assert data["solution"]["samples"] == expected["samples"]
    assert data["pairwise"]["samples"] == list(pw.samples)
    for row, want in zip(data["pairwise"]["log10_lr"], pw.log_lr):
        for got, w in zip(row, want):
            if math.isfinite(w):
                assert got == pytest.approx(w / math.log(10), rel=1e-12, abs=1e-12)
            else:
                assert got is None
    joint = data["joint"]
    assert joint is not None and joint["top"]
    posterior = joint["posterior"]["values"]
    assert all(sum(row) == pytest.approx(1.0, abs=1e-9) for row in posterior)
    assert joint["top"][0]["lr_vs_best"] == 1.0


def test_dvir_case_through_the_cli_gives_dvirs_conclusions(tmp_path):
    """The simulated dvir case, written as a kinmatch JSON DVI case and solved
    by the command, reproduces dvir's dviSolve tables."""
    case, data = load_dvir_case(SIM)
    path = tmp_path / "sim.json"
    write_dvi_case(case, path)
    code, out = _run(str(path), "--json", "--threshold", str(data["dviSolve"]["threshold"]))
    assert code == 0, out
    got = json.loads(out)["solution"]
    for want, have in zip(data["dviSolve"]["AM"], got["missing_persons"]):
        assert have["missing_person"] == want["Missing"]
        assert have["conclusion"] == want["Conclusion"]
        assert have["sample"] == want.get("Sample")
        if isinstance(want.get("LR"), (int, float)):
            assert have["lr"] == pytest.approx(want["LR"], rel=5e-9)


def test_familias_dvi_file_and_html_report(tmp_path):
    report = tmp_path / "report.html"
    code, out = _run(str(FAMILIAS_DVI), "--report", str(report))
    assert code == 0, out
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 1
    # every drawing is well-formed XML
    start = 0
    while (i := html.find("<svg", start)) >= 0:
        j = html.index("</svg>", i) + len("</svg>")
        ElementTree.fromstring(html[i:j])
        start = j
    assert "Missing persons" in html and "How the case was solved" in html


def test_report_marks_identified_samples(tmp_path):
    report = tmp_path / "r.html"
    code, out = _run(str(EXAMPLE), "--report", str(report))
    assert code == 0, out
    html = report.read_text(encoding="utf-8")
    with quiet():
        solution = solve_case(read_dvi_case(EXAMPLE))
    undisputed = [r for r in solution.missing_persons if r.conclusion == "Undisputed"]
    assert undisputed
    for r in undisputed:
        assert f"identified as sample {r.sample}" in html  # in the pedigree drawing
        assert f"Evidence per marker: sample {r.sample} as {r.missing_person}" in html


def test_merge_fragments_option(tmp_path):
    """Two fragments of one sample are merged before solving."""
    case = read_dvi_case(EXAMPLE)
    first = case.samples[0]
    half = dict(list(first.profile.items())[: len(first.profile) // 2 + 3])
    other = dict(list(first.profile.items())[len(first.profile) // 2 - 3:])

    split = replace(case, samples=[PostMortemSample(first.id + "a", half, first.sex),
                                   PostMortemSample(first.id + "b", other, first.sex),
                                   *case.samples[1:]])
    path = tmp_path / "split.json"
    write_dvi_case(split, path)
    code, out = _run(str(path), "--json", "--merge-fragments", "--identity-threshold", "100")
    assert code == 0, out
    data = json.loads(out)
    merged = f"{first.id}a+{first.id}b"
    assert data["fragments"] == {merged: [first.id + "a", first.id + "b"]}
    assert merged in data["pairwise"]["samples"]


def test_a_kinship_case_is_refused_with_a_message():
    code, out = _run(str(FORMATS / "missing_son_case.json"))
    assert code == 2
    assert "kinship case" in out and "kinmatch lr" in out


def test_missing_file():
    code, _ = _run("no/such/case.json")
    assert code == 2
