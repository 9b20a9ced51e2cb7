"""`kinmatch convert` and table-based cases for `kinmatch lr`, through the command line."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from support import DATA, EXAMPLES, FORMATS, run_cli

from kinmatch.dvi.case import prepare_case
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.errors import KinmatchWarning
from kinmatch.formats.case_json import read_case, read_hypotheses_file
from kinmatch.formats.detect import detect_input
from kinmatch.formats.dvi_json import read_dvi_case
from kinmatch.formats.familias.convert import familias_to_dvi_case
from kinmatch.formats.familias.parse import read_familias
from kinmatch.formats.frequencies import read_frequency_database
from kinmatch.formats.pedigree_tables import read_ped_families, read_plink_fam
from kinmatch.formats.profiles import read_profiles

PROFILES = str(FORMATS / "genemapper_export.txt")
FREQUENCIES = str(FORMATS / "frequencies_familias.txt")
PEDIGREE = str(FORMATS / "missing_son.ped")
HYPOTHESES = str(FORMATS / "missing_son_hypotheses.json")
STEPWISE = ["--mutation", "stepwise", "--mutation-rate", "0.002", "--mutation-rate2", "1e-6",
            "--mutation-range", "0.1"]
MISSING_SON = ["--pedigree", PEDIGREE, "--missing", "Missing-Son", "--poi", "UHR-2024-007"]


def lr_json(*args: str) -> dict:
    res = run_cli("lr", *args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.output[res.output.index("{"):res.output.rindex("}") + 1])


def hypothesis(out: dict, name: str) -> dict:
    return next(h for h in out["hypotheses"] if h["name"] == name)


# -- the worked example of docs/cli.md ----------------------------------------------


def test_table_case_equals_the_json_case_route(tmp_path):
    """The documented example: the LR from the tables equals the LR of the JSON case
    the tables convert to, and of the shipped JSON case, to 1e-12."""
    tables = lr_json("--profiles", PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON, *STEPWISE)
    by_hypotheses = lr_json("--profiles", PROFILES, "--frequencies", FREQUENCIES,
                            "--hypotheses", HYPOTHESES, *STEPWISE)
    out = tmp_path / "case.json"
    res = run_cli("convert", PROFILES, str(out), "--frequencies", FREQUENCIES, *MISSING_SON,
                  *STEPWISE)
    assert res.exit_code == 0, res.output
    converted = lr_json(str(out))
    shipped = lr_json(str(FORMATS / "missing_son_case.json"))
    lr = hypothesis(tables, "missing_person")["lr"]
    assert lr == pytest.approx(0.9353706964778002, rel=1e-9)
    for other in (by_hypotheses, converted, shipped):
        assert hypothesis(other, "missing_person")["lr"] == pytest.approx(lr, rel=1e-12)
        assert hypothesis(other, "missing_person")["lr_per_marker"] == pytest.approx(
            hypothesis(tables, "missing_person")["lr_per_marker"], rel=1e-12)
    assert tables["reference"] == "unrelated"
    # D8S1179 is off-ladder (OL) for the POI: untyped, so its LR is exactly 1
    d8 = tables["markers"].index("D8S1179")
    assert hypothesis(tables, "missing_person")["lr_per_marker"][d8] == 1.0
    want = json.loads((FORMATS / "missing_son_case.json").read_text())
    assert json.loads(out.read_text()) == want


def test_table_case_table_output_and_warnings():
    res = run_cli("lr", "--profiles", PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON,
                  *STEPWISE)
    assert res.exit_code == 0, res.output
    assert "LR missing_person : unrelated" in res.output
    assert "0.9354" in res.output
    assert "warning:" in res.output and "off-ladder" in res.output


def test_genotype_table_as_case_argument_and_plain_mutation_models():
    a = lr_json(PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON)
    b = lr_json("--profiles", PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON,
                "--mutation", "none")
    assert hypothesis(a, "missing_person")["lr"] == hypothesis(b, "missing_person")["lr"]
    # without mutation the LR differs from the stepwise one, but not by much
    assert hypothesis(a, "missing_person")["lr"] == pytest.approx(0.9354, rel=0.05)
    eq = lr_json(PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON, "--mutation", "equal",
                 "--mutation-rate", "0.005", "--stationary", "--theta", "0.01")
    assert eq["theta"] == 0.01
    assert math.isfinite(hypothesis(eq, "missing_person")["log_lr"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--profiles", PROFILES, "--frequencies", FREQUENCIES], "give the hypotheses either"),
        (["--profiles", PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON,
          "--hypotheses", HYPOTHESES], "not both"),
        (["--profiles", PROFILES, *MISSING_SON], "give the frequency database too"),
        ([PROFILES], "this is a genotype table"),
        (["--profiles", PROFILES, "--frequencies", FREQUENCIES, "--pedigree", PEDIGREE,
          "--missing", "Missing-Son", "--poi", "UHR-2024-999"],
         "the person of interest 'UHR-2024-999' is not a sample"),
        (["--profiles", PROFILES, "--frequencies", FREQUENCIES, "--pedigree", PEDIGREE,
          "--missing", "Son", "--poi", "UHR-2024-007"], "the missing person 'Son' is not in"),
        (["--profiles", PROFILES, "--frequencies", str(FORMATS / "frequencies_long.csv"),
          *MISSING_SON], "marker D16S539 is typed but is not in the frequency database"),
        (["--profiles", PROFILES, "--frequencies", FREQUENCIES, *MISSING_SON,
          "--mutation", "stepwise", "--mutation-rate", "0.002"], "--mutation-rate2"),
        ([str(DATA / "familias" / "synthetic_dvi.fam")], "holds a DVI case"),
        ([str(EXAMPLES / "dvi_case.json")], "holds a DVI case"),
        ([PEDIGREE], "is a PED-style pedigree table, not a case"),
        ([], "give a case file"),
    ],
)
def test_lr_input_errors_are_one_line(args, message):
    res = run_cli("lr", *args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_hypotheses_file_errors_are_located(tmp_path):
    doc = json.loads(Path(HYPOTHESES).read_text())
    doc["hypotheses"][1]["pedigree"] = [p for p in doc["hypotheses"][1]["pedigree"]
                                        if p["id"] != "Ref-Brother-02"]
    path = tmp_path / "hyp.json"
    text = json.dumps(doc, indent=1)
    path.write_text(text)
    line = [ln.strip() for ln in text.splitlines()].index('"name": "unrelated",')  # H2 opens above
    res = run_cli("lr", "--profiles", PROFILES, "--frequencies", FREQUENCIES,
                  "--hypotheses", str(path))
    assert res.exit_code == 2
    assert (f"{path}, line {line}, column 3: field '/hypotheses/1': typed person "
            "'Ref-Brother-02' is missing from hypothesis 'unrelated'"
            ) in " ".join(res.output.split())


# -- cases: Familias <-> JSON -------------------------------------------------------


def test_familias_kinship_file_to_json_and_back_keeps_the_pedsuite_lr(tmp_path, pedsuite_cases):
    ref = pedsuite_cases["mp_mother_brother"]
    fam = DATA / "fam" / ref["fam_file"]
    as_json, back = tmp_path / "case.json", tmp_path / "back.fam"
    assert run_cli("convert", str(fam), str(as_json)).exit_code == 0
    assert detect_input(as_json) == "kinship-json"
    assert json.loads(as_json.read_text())["version"] == 1
    res = run_cli("convert", str(as_json), str(back))
    assert res.exit_code == 0, res.output
    assert back.read_bytes().startswith(b'"Output from Familias')
    assert b"\r\n" in back.read_bytes()
    for path in (as_json, back):
        out = lr_json(str(path), "--reference", "H2")
        assert math.exp(hypothesis(out, "H1")["log_lr"]) == pytest.approx(
            ref["expected"]["LR_total"], rel=1e-9)


def test_familias_dvi_file_to_json_and_back(tmp_path):
    source = DATA / "familias" / "synthetic_dvi.fam"
    as_json, back = tmp_path / "dvi.json", tmp_path / "dvi.fam"
    res = run_cli("convert", str(source), str(as_json))
    assert res.exit_code == 0, res.output
    assert "the DVI case of" in res.output
    doc = json.loads(as_json.read_text())
    assert doc["format"] == "kinmatch-dvi-case" and doc["version"] == 1
    assert [s["id"] for s in doc["samples"]] == ["V1", "V2"]
    assert doc["families"][0]["missing"] == ["Missing person"]
    assert run_cli("convert", str(as_json), str(back)).exit_code == 0
    original = pairwise_lr(prepare_case(familias_to_dvi_case(read_familias(source))))
    for case in (read_dvi_case(as_json), familias_to_dvi_case(read_familias(back))):
        again = pairwise_lr(prepare_case(case))
        assert again.missing == original.missing and again.samples == original.samples
        assert np.allclose(again.log_lr_per_marker, original.log_lr_per_marker, rtol=1e-12,
                           equal_nan=True)


def test_dvi_json_to_familias_renames_missing_persons(tmp_path):
    out = tmp_path / "dvi.fam"
    res = run_cli("convert", str(EXAMPLES / "dvi_case.json"), str(out))
    assert res.exit_code == 0, res.output
    assert "renamed: M1 → Missing M1" in res.output
    case = familias_to_dvi_case(read_familias(out))
    assert [f.missing for f in case.families] == [("Missing M1",), ("Missing M2",),
                                                  ("Missing M3",)]
    a = pairwise_lr(prepare_case(read_dvi_case(EXAMPLES / "dvi_case.json")))
    b = pairwise_lr(prepare_case(case))
    assert np.allclose(a.log_lr_per_marker, b.log_lr_per_marker, rtol=1e-12, equal_nan=True)


def test_kinship_case_to_ped_one_family_per_hypothesis(tmp_path):
    out = tmp_path / "hyp.ped"
    assert run_cli("convert", str(EXAMPLES / "paternity.json"), str(out)).exit_code == 0
    families = read_ped_families(out)
    assert list(families) == ["paternity", "unrelated"]
    assert families["paternity"].parents("B") is not None
    assert families["unrelated"].parents("B") is None


# -- pedigrees ----------------------------------------------------------------------


def test_ped_plink_and_hypotheses_json(tmp_path):
    plink = tmp_path / "family.fam"
    res = run_cli("convert", str(FORMATS / "family.ped"), str(plink))
    assert res.exit_code == 0, res.output
    assert detect_input(plink) == "plink-fam"
    assert plink.read_text().splitlines()[4] == "family Missing-Son Father Mother 1 -9"
    hyp = tmp_path / "two.json"
    assert run_cli("convert", str(FORMATS / "plink_two_families.fam"), str(hyp)).exit_code == 0
    hf = read_hypotheses_file(hyp)
    assert [h.name for h in hf.hypotheses] == ["FAM1", "FAM2"]
    ped = tmp_path / "two.ped"
    assert run_cli("convert", str(hyp), str(ped)).exit_code == 0
    original, again = read_plink_fam(FORMATS / "plink_two_families.fam"), read_ped_families(ped)
    assert list(again) == list(original)
    for name in original:
        assert [(p.id, p.sex, p.father, p.mother) for p in again[name]] == [
            (p.id, p.sex, p.father, p.mother) for p in original[name]]
    res = run_cli("convert", str(FORMATS / "family.ped"), str(tmp_path / "one.json"))
    assert res.exit_code == 2 and "needs two or more hypotheses" in res.output


def test_plink_and_familias_fam_are_told_apart():
    assert detect_input(FORMATS / "plink_two_families.fam") == "plink-fam"
    assert detect_input(DATA / "fam" / "pair_full_sibs_equal.fam") == "familias"
    assert detect_input(DATA / "familias" / "synthetic_dvi.fam") == "familias"
    assert detect_input(FORMATS / "family.ped") == "ped"
    assert detect_input(FORMATS / "frequencies_familias.txt") == "frequencies"
    assert detect_input(FORMATS / "frequencies_wide.csv") == "frequencies"
    assert detect_input(FORMATS / "profiles_wide.csv") == "genotypes"
    assert detect_input(HYPOTHESES) == "hypotheses-json"


# -- frequencies and genotypes ------------------------------------------------------


def test_frequency_databases_convert_among_the_three_formats(tmp_path):
    source = FORMATS / "frequencies_long.csv"
    familias, wide, long = tmp_path / "db.txt", tmp_path / "wide.csv", tmp_path / "long.csv"
    assert run_cli("convert", str(source), str(familias)).exit_code == 0
    assert run_cli("convert", str(familias), str(wide), "--to", "wide-csv").exit_code == 0
    assert run_cli("convert", str(wide), str(long)).exit_code == 0
    assert familias.read_text().startswith("D3S1358\n14\t0.052\n")
    assert wide.read_text().splitlines()[0] == "Allele,D3S1358,vWA,TH01"
    a = read_frequency_database(source)
    for path in (familias, wide, long):
        b = read_frequency_database(path)
        assert list(b.frequencies) == list(a.frequencies)
        for name, (alleles, freqs) in a.frequencies.items():
            assert b.frequencies[name][0] == alleles
            assert np.array_equal(b.frequencies[name][1], freqs)


def test_genemapper_export_to_wide_genotype_csv(tmp_path):
    out = tmp_path / "profiles.csv"
    assert run_cli("convert", PROFILES, str(out)).exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("Sample,AMEL,D3S1358,vWA")
    assert lines[1].startswith("Ref-Mother-01,X/X,15/16,17/18")
    with pytest.warns(KinmatchWarning, match="off-ladder"):
        original = read_profiles(PROFILES)
    assert read_profiles(out).profiles == original.profiles


# -- all or nothing -----------------------------------------------------------------


def test_never_overwrites_the_input_and_refuses_existing_outputs(tmp_path):
    case = tmp_path / "case.json"
    case.write_text((EXAMPLES / "paternity.json").read_text())
    before = case.read_bytes()
    res = run_cli("convert", str(case), str(case), "--force")
    assert res.exit_code == 2 and "would overwrite the input file" in res.output
    res = run_cli("convert", str(case), str(tmp_path / "." / "case.json"), "--to", "json",
                  "--force")
    assert res.exit_code == 2 and "would overwrite the input file" in res.output
    assert case.read_bytes() == before
    other = tmp_path / "other.json"
    other.write_text("keep me")
    res = run_cli("convert", str(case), str(other))
    assert res.exit_code == 2 and "exists" in res.output and "--force" in res.output
    assert other.read_text() == "keep me"
    assert run_cli("convert", str(case), str(other), "--force").exit_code == 0
    assert read_case(other).hypotheses[0].name == "paternity"


def test_a_failed_conversion_leaves_nothing_behind(tmp_path):
    doc = json.loads((EXAMPLES / "paternity.json").read_text())
    doc["markers"][0]["chromosome"] = "X"  # Familias has no X-linked markers
    doc["profiles"]["A"]["M1"] = ["12"]
    case = tmp_path / "x.json"
    case.write_text(json.dumps(doc))
    target = tmp_path / "x.fam"
    res = run_cli("convert", str(case), str(target))
    assert res.exit_code == 2 and "X-linked" in res.output
    assert not target.exists()
    # replacing an existing file: it is kept whole when the conversion fails
    target.write_text("old")
    res = run_cli("convert", str(case), str(target), "--force")
    assert res.exit_code == 2
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["x.fam", "x.json"]


def test_unknown_output_and_unsupported_conversions(tmp_path):
    res = run_cli("convert", str(EXAMPLES / "paternity.json"), str(tmp_path / "case.xyz"))
    assert res.exit_code == 2 and "give --to" in res.output
    res = run_cli("convert", str(FORMATS / "frequencies_long.csv"), str(tmp_path / "db.json"))
    assert res.exit_code == 2 and "cannot convert an allele frequency database" in res.output
    res = run_cli("convert", PROFILES, str(tmp_path / "case.json"))
    assert res.exit_code == 2 and "a genotype table alone is not a case" in res.output
    res = run_cli("convert", str(tmp_path / "missing.json"), str(tmp_path / "out.fam"))
    assert res.exit_code == 2 and "file not found" in res.output
    assert os.listdir(tmp_path) == []
