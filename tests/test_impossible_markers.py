"""Markers where a hypothesis gives the genotypes likelihood 0: ``kinmatch lr``
never prints NaN. Impossible under every hypothesis is an error naming the
marker and the people whose genotypes conflict; impossible under the
reference (LR x/0) or under the reference and another hypothesis (0/0) is
explained in one line. ``kinmatch dvi`` names the marker and the relatives of
a family whose reference data are inconsistent on their own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import EXAMPLES, run_cli

from kinmatch.dvi.pipeline import run_dvi_case
from kinmatch.errors import KinmatchError
from kinmatch.formats.cases import read_dvi_case, read_kinship_case
from kinmatch.kinship.analysis import ImpossibleMarkersError, analyse_kinship_case

MARKERS = ["M1", "M2", "M3"]

FATHER = [{"id": "F", "sex": 1}, {"id": "Mo", "sex": 2},
          {"id": "C", "sex": 1, "father": "F", "mother": "Mo"}]
UNRELATED = [{"id": "F", "sex": 1}, {"id": "Mo", "sex": 2}, {"id": "X", "sex": 1},
             {"id": "C", "sex": 1, "father": "X", "mother": "Mo"}]
SON = [{"id": "Mo", "sex": 2}, {"id": "X", "sex": 1}, {"id": "W", "sex": 2},
       {"id": "C", "sex": 1, "father": "X", "mother": "Mo"},
       {"id": "F", "sex": 1, "father": "C", "mother": "W"}]


def write_case(path: Path, profiles: dict[str, dict[str, list[str]]],
               hypotheses: list[tuple[str, list[dict[str, Any]]]], reference: str,
               mutation: dict[str, Any] | None = None) -> Path:
    markers = []
    for name in MARKERS:
        marker: dict[str, Any] = {"name": name, "alleles": ["1", "2", "3", "4"],
                                  "frequencies": [0.25] * 4}
        if mutation is not None:
            marker["mutation"] = mutation
        markers.append(marker)
    doc = {"format": "kinmatch-case", "version": 1, "title": "Impossible markers",
           "markers": markers, "profiles": profiles,
           "hypotheses": [{"name": n, "pedigree": p} for n, p in hypotheses],
           "reference": reference}
    path.write_text(json.dumps(doc))
    return path


def profiles(**changes: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    base = {"F": {"M1": ["1", "2"], "M2": ["1", "3"], "M3": ["2", "4"]},
            "Mo": {"M1": ["3", "4"], "M2": ["2", "4"], "M3": ["1", "3"]},
            "C": {"M1": ["1", "3"], "M2": ["3", "4"], "M3": ["2", "3"]}}
    for person, markers in changes.items():
        base[person] = {**base[person], **markers}
    return base


def test_impossible_under_every_hypothesis_is_an_error_naming_marker_and_people(
        tmp_path: Path) -> None:
    # mother and child share no allele at M2 (everyone homozygous: a GeneMapper export read
    # without its "Allele 2" column looks like this), in both hypotheses
    path = write_case(tmp_path / "case.json",
                      profiles(Mo={"M2": ["1", "1"]}, C={"M2": ["2", "2"]}),
                      [("paternity", FATHER), ("unrelated", UNRELATED)], "unrelated")
    out = run_cli("lr", str(path))
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert "NaN" not in text
    assert "marker M2" in text
    assert "'Mo' 1/1 and 'C' 2/2 (parent-child) share no allele" in text
    assert "in every hypothesis" in text
    assert "Allele 2" in text and "mutation model" in text
    json_out = run_cli("lr", "--json", str(path))
    assert json_out.exit_code == 2 and "marker M2" in " ".join(json_out.output.split())

    with pytest.raises(ImpossibleMarkersError) as err:
        analyse_kinship_case(read_kinship_case(path))
    assert err.value.markers == ("M2",)


def test_a_trio_conflict_is_found_as_the_smallest_set(tmp_path: Path) -> None:
    # F 1/2, Mo 1/3 and C 1/4: C shares an allele with each parent, but one of C's
    # alleles must come from each of them
    path = write_case(tmp_path / "case.json",
                      profiles(F={"M1": ["1", "2"]}, Mo={"M1": ["1", "3"]}, C={"M1": ["1", "4"]}),
                      [("paternity", FATHER), ("paternity2", FATHER)], "paternity2")
    out = run_cli("lr", str(path))
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert "marker M1" in text and "'F' 1/2, 'Mo' 1/3 and 'C' 1/4" in text


def test_reference_impossible_is_explained_not_printed_as_inf_or_nan(tmp_path: Path) -> None:
    # F and C share no allele at M3: "F is C's father" (the reference here) and "C is F's
    # son's father" are impossible; "unrelated" is not
    path = write_case(tmp_path / "case.json",
                      profiles(F={"M3": ["1", "1"]}, C={"M3": ["2", "3"]}),
                      [("son", SON), ("unrelated", UNRELATED), ("paternity", FATHER)],
                      "paternity")
    out = run_cli("lr", str(path), width=200)
    assert out.exit_code == 0, out.output
    assert "NaN" not in out.output and "Inf" not in out.output
    assert "ref. impossible" in out.output  # unrelated : paternity at M3 (x/0)
    assert "undefined (0/0)" in out.output  # son : paternity at M3 (0/0)
    notes = [line for line in out.output.splitlines() if "note:" in line]
    assert len(notes) == 1
    note = " ".join(out.output[out.output.index("note:"):].split())
    assert note.startswith("note: M3: the reference hypothesis 'paternity' has likelihood 0")
    assert "'F' 1/1 and 'C' 2/3 (parent-child) share no allele" in note
    assert "infinite for unrelated" in note and "undefined (0/0) for son" in note

    data = json.loads(run_cli("lr", "--json", str(path)).output)
    json.dumps(data, allow_nan=False)
    assert data["notes"] and data["notes"][0].startswith("M3:")
    by = {h["name"]: h for h in data["hypotheses"]}
    assert by["paternity"]["impossible_markers"] == ["M3"]
    assert by["son"]["impossible_markers"] == ["M3"]
    assert by["unrelated"]["impossible_markers"] == []


def test_a_mutation_model_makes_the_marker_possible(tmp_path: Path) -> None:
    path = write_case(tmp_path / "case.json",
                      profiles(Mo={"M2": ["1", "1"]}, C={"M2": ["2", "2"]}),
                      [("paternity", FATHER), ("unrelated", UNRELATED)], "unrelated",
                      mutation={"model": "equal", "rate": 0.002})
    out = run_cli("lr", str(path))
    assert out.exit_code == 0, out.output
    assert "NaN" not in out.output


def inconsistent_dvi_case(tmp_path: Path) -> Path:
    doc = json.loads((EXAMPLES / "dvi_case.json").read_text())
    for marker in doc["markers"]:
        marker.pop("mutation", None)
    family = doc["families"][0]
    mother = family["profiles"]["MO1"]["TH01"]
    assert mother == ["6", "7"]
    family["profiles"]["R1"]["TH01"] = ["9.3", "9.3"]  # the mother's son shares no allele
    path = tmp_path / "dvi.json"
    path.write_text(json.dumps(doc))
    return path


def test_dvi_names_the_marker_and_relatives_of_an_inconsistent_family(tmp_path: Path) -> None:
    path = inconsistent_dvi_case(tmp_path)
    out = run_cli("dvi", str(path))
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert "family 'F1'" in text
    assert "marker TH01: 'MO1' 6/7 and 'R1' 9.3/9.3 (parent-child) share no allele" in text
    assert "mutation model" in text
    with pytest.raises(KinmatchError, match="marker TH01"):
        run_dvi_case(read_dvi_case(path))
