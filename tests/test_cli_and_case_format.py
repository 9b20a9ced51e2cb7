"""The JSON case format and the `kinmatch lr` command, as a user meets them."""

from __future__ import annotations

import json
import math

import pytest
from reference_cases import load_reference
from support import DATA, EXAMPLES, run_cli

from kinmatch.errors import CaseFormatError
from kinmatch.formats.case_json import case_to_dict, parse_case, read_case
from kinmatch.kinship.lr import kinship_lr

REF = {c["id"]: c for c in load_reference()}


def test_lr_table_on_the_shipped_example():
    res = run_cli("lr", str(EXAMPLES / "missing_person.json"))
    assert res.exit_code == 0, res.output
    assert "LR missing_son : unrelated" in res.output
    assert "Total" in res.output and "3156" in res.output  # pedprobr: 3156.08113499255


def test_lr_json_equals_the_pedsuite():
    res = run_cli("lr", str(EXAMPLES / "missing_person.json"), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    exp = REF["mp_three_generation_stepwise"]["expected"]
    h1 = next(h for h in out["hypotheses"] if h["name"] == "missing_son")
    h2 = next(h for h in out["hypotheses"] if h["name"] == "unrelated")
    assert out["reference"] == "unrelated"
    assert h1["loglik"] == pytest.approx(exp["loglik_H1"], rel=1e-9)
    assert h2["loglik"] == pytest.approx(exp["loglik_H2"], rel=1e-9)
    assert h1["lr"] == pytest.approx(exp["LR_total"], rel=1e-9)
    assert h1["lr_per_marker"] == pytest.approx(exp["LR_per_marker"], rel=1e-9)
    assert [math.exp(v) for v in h1["loglik_per_marker"]] == pytest.approx(
        exp["likelihood_H1_per_marker"], rel=1e-9)
    assert h2["lr"] == 1.0


def test_relationship_hypotheses_and_reference_option():
    res = run_cli("lr", str(EXAMPLES / "paternity.json"), "--json", "--reference", "paternity")
    out = json.loads(res.output)
    unrelated = next(h for h in out["hypotheses"] if h["name"] == "unrelated")
    lr_total = REF["pair_parent_child_stepwise"]["expected"]["LR_total"]
    assert unrelated["lr"] == pytest.approx(1 / lr_total, rel=1e-9)


def test_round_trip_through_the_json_format(tmp_path):
    case = read_case(EXAMPLES / "missing_person.json")
    text = json.dumps(case_to_dict(case))
    again = parse_case(text, "roundtrip.json")
    a = kinship_lr(case.hypotheses, case.markers, case.profiles, reference=case.reference)
    b = kinship_lr(again.hypotheses, again.markers, again.profiles, reference=again.reference)
    assert a.loglik.tolist() == b.loglik.tolist()


def _case_text(**changes):
    base = json.loads((EXAMPLES / "paternity.json").read_text())
    base.update(changes)
    return json.dumps(base, indent=1)


@pytest.mark.parametrize(
    "mutate, where, message",
    [
        (lambda d: d["markers"][1].update(frequencies=[0.5, "x"]), "/markers/1/frequencies/1",
         "expected a number"),
        (lambda d: d["markers"][0].update(frequencies=[0.1] * len(d["markers"][0]["alleles"])),
         "/markers/0", "sum to"),
        (lambda d: d["profiles"]["A"].update(M9=["1", "2"]), "/profiles/A/M9", "not defined"),
        (lambda d: d["hypotheses"][0].update(relationship="cousin"), "/hypotheses/0/relationship",
         "unknown relationship"),
        (lambda d: d.update(version=7), "/version", "reads version 1"),
        (lambda d: d.update(theta=1.5), "/theta", "theta must be"),
        (lambda d: d["markers"][0].update(mutation={"model": "stepwise", "rate": 0.01}),
         "/markers/0", "needs the parameter 'rate2'"),
        (lambda d: d.update(reference="H9"), "/reference", "not one of the hypotheses"),
        (lambda d: d["hypotheses"].clear(), "/hypotheses", "at least one hypothesis"),
        (lambda d: d.update(extra=1), "/extra", "unknown field"),
    ],
)
def test_bad_case_files_name_line_and_field(tmp_path, mutate, where, message):
    data = json.loads((EXAMPLES / "paternity.json").read_text())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=1))
    with pytest.raises(CaseFormatError) as info:
        read_case(path)
    err = info.value
    assert err.location.file == str(path)
    assert err.location.field == where
    assert err.location.line is not None and err.location.line > 1
    assert message in err.message
    # and the command line says it in one line, exit status 2, no traceback
    res = run_cli("lr", str(path))
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert f"line {err.location.line}" in res.output and message in res.output


def test_pedigree_errors_are_located(tmp_path):
    data = json.loads((EXAMPLES / "missing_person.json").read_text())
    data["hypotheses"][0]["pedigree"][2]["father"] = "Mo"  # a mother as father
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=1))
    with pytest.raises(CaseFormatError, match="'Mo' is the father of 'C1' but has sex 2") as info:
        read_case(path)
    assert info.value.location.field == "/hypotheses/0/pedigree"


def test_invalid_json_and_missing_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "kinmatch-case",\n  "version": 1,,\n}')
    res = run_cli("lr", str(path))
    assert res.exit_code == 2 and "line 3" in res.output and "not valid JSON" in res.output
    res = run_cli("lr", str(tmp_path / "nope.json"))
    assert res.exit_code == 2 and "file not found" in res.output
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    res = run_cli("lr", str(tmp_path / "bin.json"))
    assert res.exit_code == 2 and "error:" in res.output


def test_unseen_allele_warns_on_the_command_line(tmp_path):
    data = json.loads((EXAMPLES / "paternity.json").read_text())
    data["profiles"]["A"]["M1"] = ["12", "25"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data))
    res = run_cli("lr", str(path))
    assert res.exit_code == 0
    assert "warning:" in res.output and "25" in res.output


def _x_case():
    return {
        "format": "kinmatch-case", "version": 1,
        "markers": [{"name": "DXS10135", "chromosome": "X", "alleles": ["17", "18", "19"],
                     "frequencies": [0.3, 0.3, 0.4]}],
        "profiles": {"F": {"DXS10135": ["17", "18"]}, "D": {"DXS10135": "17/19"}},
        "hypotheses": [
            {"name": "father", "relationship": "parent_child", "between": ["F", "D"],
             "sexes": {"F": "male", "D": "female"}},
            {"name": "unrelated", "relationship": "unrelated", "between": ["F", "D"],
             "sexes": {"F": "male", "D": "female"}},
        ],
    }


def test_heterozygous_male_at_x_marker_is_located(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(_x_case(), indent=1))
    with pytest.raises(CaseFormatError, match="male but heterozygous") as info:
        read_case(path)
    assert info.value.location.field == "/profiles/F/DXS10135"
    data = _x_case()
    data["profiles"]["F"]["DXS10135"] = ["17"]
    path.write_text(json.dumps(data))
    out = json.loads(run_cli("lr", str(path), "--json").output)
    # father-daughter at X: LR = 1 / (2 p_17) when the daughter is 17/19
    assert out["hypotheses"][0]["lr"] == pytest.approx(1 / (2 * 0.3), rel=1e-12)


def test_sex_conflict_between_hypotheses_is_located(tmp_path):
    data = _x_case()
    data["profiles"]["F"]["DXS10135"] = ["17"]
    data["hypotheses"][1]["sexes"]["F"] = "female"
    path = tmp_path / "x.json"
    path.write_text(json.dumps(data, indent=1))
    with pytest.raises(CaseFormatError,
                       match="'F' is female in hypothesis 'unrelated' but male") as info:
        read_case(path)
    assert info.value.location.field == "/hypotheses"


def test_lr_reads_a_familias_file(tmp_path, pedsuite_cases):
    """`kinmatch lr` takes a Familias .fam file; its pedigrees are the hypotheses,
    and the LR is the pedsuite's."""
    case = pedsuite_cases["mp_mother_brother"]
    fam = DATA / "fam" / case["fam_file"]
    res = run_cli("lr", str(fam), "--json", "--reference", "H2")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [h["name"] for h in out["hypotheses"]] == ["H1", "H2"]
    h1 = out["hypotheses"][0]
    assert math.exp(h1["log_lr"]) == pytest.approx(case["expected"]["LR_total"], rel=1e-9)
    missing = run_cli("lr", str(tmp_path / "nope.fam"))
    assert missing.exit_code == 2 and "file not found" in missing.output
