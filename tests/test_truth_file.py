"""A simulated case's truth file is read with located errors, before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import EXAMPLES, run_cli

from kinmatch.errors import CaseFormatError
from kinmatch.formats.truth_json import parse_truth, read_truth

TRUTH = EXAMPLES / "chosei" / "truth.json"
SMALL_CASE = EXAMPLES / "dvi_case.json"


def test_the_shipped_truth_reads() -> None:
    truth = read_truth(TRUTH)
    case = json.loads((EXAMPLES / "chosei" / "case.json").read_text(encoding="utf-8"))
    # every sample of the case is a fragment, of one of the 40 recovered miners (the default
    # of kinmatch simulate chosei --recovered)
    assert set(truth["fragments"]) == {sample["id"] for sample in case["samples"]}
    assert len(truth["recovered"]) == 40
    assert set(truth["fragments"].values()) == set(truth["recovered"])


@pytest.mark.parametrize("text, field, words", [
    ('{"fragments": {"R1": "K001"}, "recovered": ["K001"', "/", "not valid JSON"),
    ('[1, 2]', "/", "a truth file holds a JSON object"),
    ('{"format": "kinmatch-dvi-case", "version": 1}', "/format", "not the truth"),
    ('{"recovered": []}', "/", "missing required field 'fragments'"),
    ('{"fragments": {"R1": 3}, "recovered": []}', "/fragments/R1", "name of a miner"),
    ('{"fragments": {}, "recovered": "K001"}', "/recovered", "expected"),
    ('{"fragments": {}, "recovered": [], "families": {"F": {}}}', "/families/F",
     "missing required field 'miner'"),
])
def test_a_malformed_truth_is_a_located_error(text: str, field: str, words: str) -> None:
    with pytest.raises(CaseFormatError, match=words) as err:
        parse_truth(text, "truth.json")
    assert err.value.location.file == "truth.json"
    if field != "/":
        assert err.value.location.field == field
        assert err.value.location.line is not None


def test_kinmatch_dvi_refuses_a_bad_truth_before_solving(tmp_path: Path) -> None:
    for name, content in [("case.json", SMALL_CASE.read_text()), ("cut.json", '{"fragments": {')]:
        path = tmp_path / name
        path.write_text(content)
        res = run_cli("dvi", str(SMALL_CASE), "--truth", str(path), "--no-progress")
        assert res.exit_code == 2, res.output
        assert str(path) in res.output and "Traceback" not in res.output


def test_kinmatch_dvi_scores_against_a_good_truth(tmp_path: Path) -> None:
    truth = {"fragments": {"V1": "M1", "V2": "M2"}, "recovered": ["M1", "M2"],
             "families": {"F1": {"miner": "M1"}, "F2": {"miner": "M2"}}}
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(truth))
    res = run_cli("dvi", str(SMALL_CASE), "--truth", str(path), "--json", "--no-progress")
    assert res.exit_code == 0, res.output
    scores = json.loads(res.output)["truth"]
    assert scores["correct"] == 1 and scores["false"] == 0


def test_names_with_a_slash_are_located_at_their_own_field() -> None:
    with pytest.raises(CaseFormatError) as err:
        parse_truth('{"fragments": {\n "R1/a": 3}, "recovered": []}', "truth.json")
    assert err.value.location.field == "/fragments/R1~1a"  # RFC 6901, as the case readers
