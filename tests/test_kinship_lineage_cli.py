"""Lineage markers in kinship cases: the JSON case format (Y haplotypes, mtDNA profiles,
the ``lineage`` block), and `kinmatch lr` showing autosomal × Y × mtDNA part by part."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from support import EXAMPLES, quietly, run_cli

from kinmatch.errors import CaseFormatError
from kinmatch.formats.case_json import case_to_dict, parse_case, read_case, write_case
from kinmatch.kinship.lineage import kinship_lineage_lr, lineage_poi
from kinmatch.kinship.lr import kinship_lr
from kinmatch.lineage.mtdna import MtDatabase, parse_mt_profile
from kinmatch.lineage.settings import LineageSettings
from kinmatch.lineage.ystr import YDatabase, YLocus, YLocusTable, make_haplotype

EXAMPLE = EXAMPLES / "missing_person_lineage.json"


def run(*args: str, width: int = 80):
    """The command line with a terminal of ``width`` columns."""
    return run_cli(*args, width=width)


def _doc() -> dict:
    return json.loads(EXAMPLE.read_text())


def _write(tmp_path: Path, doc: dict, name: str = "case.json") -> Path:
    """Write ``doc`` next to a copy of the example's database folder (relative paths hold)."""
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1))
    lineage = tmp_path / "lineage"
    if not lineage.exists():
        lineage.symlink_to(EXAMPLES / "lineage", target_is_directory=True)
    return path


def _direct(case, reference: str | None = None):
    """kinship_lineage_lr called directly on the case, as the command should."""
    auto = kinship_lr(case.hypotheses, case.markers, case.profiles, theta=case.theta,
                      reference=reference or case.reference,
                      minimum_frequency=case.minimum_frequency)
    by_name = {h.name: h for h in case.hypotheses}
    h1 = by_name["missing_man"]
    return kinship_lineage_lr(
        auto, h1, "POI", y_haplotype=case.y_haplotypes["POI"], mtdna=case.mtdna_profiles["POI"],
        relatives_y={"NB": case.y_haplotypes["NB"]},
        relatives_mtdna={"NS": case.mtdna_profiles["NS"]}, settings=case.lineage,
        reference_pedigree=by_name[auto.reference].pedigree)


# -- the format ---------------------------------------------------------------------------


def test_the_example_reads_with_its_lineage_data():
    case = quietly(read_case, EXAMPLE)
    assert set(case.y_haplotypes) == {"POI", "NB"}
    assert set(case.mtdna_profiles) == {"POI", "NS"}
    assert case.poi == "POI"
    assert case.lineage is not None
    assert set(case.lineage.sources) == {"y_database", "y_loci", "mt_database"}
    assert len(case.lineage.y_database.haplotypes) == 200
    assert len(case.lineage.mt_database.profiles) == 200


def test_lineage_fields_are_optional_and_default_to_none():
    case = quietly(read_case, EXAMPLES / "missing_person.json")
    assert case.y_haplotypes == {} and case.mtdna_profiles == {}
    assert case.lineage is None and case.poi is None and not case.has_lineage
    doc = case_to_dict(case)
    assert not {"y_haplotypes", "mtdna_profiles", "lineage", "poi"} & set(doc)


def test_round_trip_with_database_files(tmp_path):
    case = quietly(read_case, EXAMPLE)
    path = tmp_path / "sub" / "copy.json"
    path.parent.mkdir()
    write_case(case, path)
    doc = json.loads(path.read_text())
    assert doc["lineage"]["y_database"] == "../../examples/lineage/y_database_synthetic.tsv" \
        or Path(path.parent / doc["lineage"]["y_database"]).resolve() == \
        (EXAMPLES / "lineage" / "y_database_synthetic.tsv").resolve()
    assert not Path(doc["lineage"]["mt_database"]).is_absolute()
    again = quietly(read_case, path)
    assert again.y_haplotypes == case.y_haplotypes
    assert again.mtdna_profiles == case.mtdna_profiles
    assert again.poi == case.poi
    assert again.lineage.sources == case.lineage.sources
    assert case_to_dict(again, path.parent) == case_to_dict(case, path.parent)
    a, b = _direct(case), _direct(again)
    assert a.to_dict() == b.to_dict()


def test_round_trip_inline_databases():
    loci = YLocusTable([YLocus("DYS19", 0.01), YLocus("DYS390", 0.002),
                        YLocus("DYS385", 0.006, 2)])
    hap = {"DYS19": "14", "DYS390": "23", "DYS385": "11,14"}
    y_db = YDatabase(tuple(make_haplotype(f"D{i}", {**hap, "DYS19": str(10 + i)}, loci)
                           for i in range(5)), loci, "tiny")
    mt_db = MtDatabase(tuple(parse_mt_profile(f"263G 1622{i}T", "16024-16569,1-576", f"P{i}")
                             for i in range(3)), "tiny-mt")
    settings = LineageSettings(y_database=y_db, y_loci=loci, mt_database=mt_db,
                               y_frequency_method="clopper_pearson", mt_mutation_rate=0.001)
    case = quietly(read_case, EXAMPLES / "missing_person.json")
    case.y_haplotypes = {"POI": make_haplotype("POI", hap, loci),
                         "G1": make_haplotype("G1", {**hap, "DYS390": "24"}, loci)}
    case.mtdna_profiles = {"POI": parse_mt_profile("T16093Y 73G 263G", "16024-16569,1-576",
                                                   "POI")}
    case.lineage = settings
    case.poi = "POI"
    doc = case_to_dict(case)
    assert "haplotypes" in doc["lineage"]["y_database"]  # built in memory: written inline
    assert doc["y_haplotypes"]["G1"]["DYS385"] == "11,14"
    assert doc["mtdna_profiles"]["POI"]["variants"] == "73G 263G T16093Y"  # sorted, base kept
    again = parse_case(json.dumps(doc), "again.json")
    assert again.y_haplotypes == case.y_haplotypes
    assert again.mtdna_profiles == case.mtdna_profiles
    assert again.lineage.y_database.haplotypes == y_db.haplotypes
    assert again.lineage.mt_database.profiles == mt_db.profiles
    assert again.lineage.y_frequency_method == "clopper_pearson"
    assert again.lineage.mt_mutation_rate == 0.001
    assert case_to_dict(again) == doc


def _locate(tmp_path: Path, doc: dict) -> CaseFormatError:
    path = _write(tmp_path, doc)
    with pytest.raises(CaseFormatError) as info:
        quietly(read_case, path)
    err = info.value
    assert err.location.file == str(path)
    assert err.location.line is not None and err.location.line > 1
    res = run("lr", str(path))  # and the command line says it in one line, no traceback
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"line {err.location.line}" in res.output
    return err


def test_unknown_locus_is_located(tmp_path):
    doc = _doc()
    doc["y_haplotypes"]["NB"]["DYS999"] = "12"
    err = _locate(tmp_path, doc)
    assert err.location.field == "/y_haplotypes/NB/DYS999"
    assert "DYS999" in err.message and "NB" in err.message


def test_malformed_mtdna_token_is_located(tmp_path):
    doc = _doc()
    doc["mtdna_profiles"]["NS"]["variants"] = "73G 263G 16x23Q"
    err = _locate(tmp_path, doc)
    assert err.location.field == "/mtdna_profiles/NS/variants"
    assert "NS" in err.message and "16x23Q" in err.message


def test_missing_database_file_is_located(tmp_path):
    doc = _doc()
    doc["lineage"]["y_database"] = "lineage/no_such_database.tsv"
    err = _locate(tmp_path, doc)
    assert err.location.field == "/lineage/y_database"
    assert "Y haplotype database" in err.message and "no_such_database.tsv" in err.message


@pytest.mark.parametrize("edit, field, needle", [
    (lambda d: d["y_haplotypes"].update(X9={"DYS19": "14"}), "/y_haplotypes/X9",
     "typed person 'X9' is missing from hypothesis"),
    (lambda d: d["mtdna_profiles"].update(GM={"variants": "263G"}), "/mtdna_profiles/GM", None),
    (lambda d: d["y_haplotypes"].update(S={"DYS19": "14"}), "/y_haplotypes/S", "is female"),
    (lambda d: d["lineage"].update(y_frequency_method="guess"), "/lineage/y_frequency_method",
     "expected one of"),
    (lambda d: d["lineage"].update(y_databse="x.tsv"), "/lineage/y_databse", "unknown field"),
    (lambda d: d.update(poi="NOBODY"), "/poi", "'NOBODY' is missing from hypothesis"),
    (lambda d: d["mtdna_profiles"].update(NS="263G"), "/mtdna_profiles/NS", "mtDNA profile"),
])
def test_other_lineage_mistakes_are_located(tmp_path, edit, field, needle):
    doc = _doc()
    edit(doc)
    if needle is None:  # GM is in both hypotheses: a valid typed person, read fine
        path = _write(tmp_path, doc)
        assert "GM" in quietly(read_case, path).mtdna_profiles
        return
    err = _locate(tmp_path, doc)
    assert err.location.field == field
    assert needle in err.message


# -- kinmatch lr ---------------------------------------------------------------------------


def test_lr_table_shows_each_part_and_the_combined_lr():
    case = quietly(read_case, EXAMPLE)
    direct = _direct(case)
    res = run("lr", str(EXAMPLE), width=160)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "LR missing_man : unrelated" in out  # the per-marker table is still there
    assert "Lineage markers" in out
    for text in ("Autosomal", "Y-STR", "mtDNA", "Combined", "NB (3 meioses)",
                 "NS (3 meioses)", "count_plus_one", "clopper_pearson", "0/200", "3/200",
                 "cannot exclude", "DYS576"):
        assert text in out, text
    for value in (direct.autosomal_lr, direct.y_lr, direct.mtdna_lr, direct.lr):
        assert f"{value:.4g}" in out
    # the worked example of docs/lineage.md: Y 2.987 (2.963 before DYS389 was compared as
    # DYS389I and DYS389II - I), mtDNA 26.1
    assert direct.y_lr == pytest.approx(2.987, rel=1e-3)
    assert direct.mtdna_lr == pytest.approx(26.1, rel=1e-2)


def test_lr_json_has_the_parts_equal_to_kinship_lineage_lr():
    case = quietly(read_case, EXAMPLE)
    direct = _direct(case)
    res = run("lr", str(EXAMPLE), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    lineage = out["lineage"]
    assert lineage["poi"] == "POI" and lineage["not_applicable"] == {}
    (got,) = lineage["results"]
    assert got["hypothesis"] == "missing_man" and got["reference"] == "unrelated"
    for key in ("autosomal_lr", "y_lr", "mtdna_lr", "lr", "log10_lr"):
        assert got[key] == pytest.approx(direct.to_dict()[key], rel=1e-12, abs=0), key
    assert got["lr"] == pytest.approx(got["autosomal_lr"] * got["y_lr"] * got["mtdna_lr"],
                                      rel=1e-12)
    h1 = next(h for h in out["hypotheses"] if h["name"] == "missing_man")
    assert got["autosomal_lr"] == pytest.approx(h1["lr"], rel=1e-12)
    assert got["y"]["relative"] == "NB" and got["y"]["meioses"] == 3
    assert got["y"]["frequency"]["method"] == "count_plus_one"
    assert got["y"]["frequency"]["value"] == pytest.approx(1 / 201, rel=1e-12)
    assert got["mtdna"]["relative"] == "NS" and got["mtdna"]["meioses"] == 3
    assert got["mtdna"]["conclusion"] == "cannot exclude"
    assert got["mtdna"]["frequency"]["method"] == "clopper_pearson"
    assert got["mtdna"]["frequency"]["value"] == pytest.approx(
        direct.mtdna.frequency.value, rel=1e-12)


def test_the_poi_is_found_when_not_named(tmp_path):
    doc = _doc()
    del doc["poi"]
    path = _write(tmp_path, doc)
    case = quietly(read_case, path)
    assert lineage_poi(case.hypotheses, "unrelated", ["POI", "NB", "NS"]) == "POI"
    res = run("lr", str(path), "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)["lineage"]["results"][0]
    assert got["person"] == "POI"
    assert got["lr"] == pytest.approx(_direct(quietly(read_case, EXAMPLE)).lr, rel=1e-12)


def test_a_reference_on_the_poi_line_is_not_applicable():
    res = run("lr", str(EXAMPLE), "--json", "--reference", "missing_man")
    assert res.exit_code == 0, res.output
    lineage = json.loads(res.output)["lineage"]
    assert lineage["results"] == []
    assert "reference hypothesis puts POI on the Y line of NB" in \
        lineage["not_applicable"]["unrelated"]
    res = run("lr", str(EXAMPLE), "--reference", "missing_man")
    assert res.exit_code == 0 and "lineage LR not applicable to unrelated" in res.output


def test_a_y_exclusion_gives_a_combined_lr_of_zero(tmp_path):
    doc = _doc()
    doc["y_haplotypes"]["NB"].update(DYS19="11", DYS390="20", DYS391="13")
    path = _write(tmp_path, doc)
    res = run("lr", str(path), "--json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)["lineage"]["results"][0]
    assert got["y_lr"] == 0 and got["lr"] == 0 and got["log10_lr"] is None
    direct = _direct(quietly(read_case, EXAMPLE))
    assert got["mtdna_lr"] == pytest.approx(direct.mtdna_lr, rel=1e-12)


def test_without_lineage_data_the_output_is_unchanged(tmp_path):
    doc = _doc()
    for key in ("y_haplotypes", "mtdna_profiles", "lineage", "poi"):
        del doc[key]
    plain = _write(tmp_path, doc, "plain.json")
    full = _write(tmp_path, _doc(), "full.json")
    a, b = run("lr", str(plain)), run("lr", str(full))
    assert a.exit_code == 0 and b.exit_code == 0
    assert "Lineage markers" not in a.output and "Combined" not in a.output
    assert "Lineage markers" in b.output and "Combined" in b.output
    assert b.output.startswith(a.output)  # the lineage table only comes after
    ja, jb = json.loads(run("lr", str(plain), "--json").output), \
        json.loads(run("lr", str(full), "--json").output)
    assert "lineage" not in ja
    del jb["lineage"]
    ja.pop("case"), jb.pop("case")
    assert ja == jb
    # and the shipped example without lineage data keeps its exact output keys
    out = json.loads(run("lr", str(EXAMPLES / "missing_person.json"), "--json").output)
    assert "lineage" not in out
    assert math.isclose(next(h for h in out["hypotheses"] if h["name"] == "missing_son")["lr"],
                        3156.08113499255, rel_tol=1e-9)


def test_a_family_that_contradicts_itself_is_reported_not_an_exclusion(tmp_path):
    # issue 13: the brother B, typed equal to the POI, and his son NB differ by 4 repeats
    # at DYS390 over one meiosis. Old: Y "exclusion" (excluded by NB), combined LR 0.
    doc = _doc()
    doc["y_haplotypes"]["B"] = dict(doc["y_haplotypes"]["POI"])
    nb = dict(doc["y_haplotypes"]["POI"])
    nb["DYS390"] = str(int(nb["DYS390"]) + 4)
    doc["y_haplotypes"]["NB"] = nb
    path = _write(tmp_path, doc)
    res = run("lr", str(path), "--json", width=200)
    assert res.exit_code != 0
    out = " ".join(res.output.split())
    assert "impossible on their own" in out and "B and NB, 1 meiosis apart" in out
    assert "not an exclusion" in out
