"""The published JSON Schemas of kinmatch's case files, the format version,
and the DVI JSON format."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dvir_cases import load_dvir_case
from jsonschema import Draft202012Validator
from support import DATA, EXAMPLES, ROOT, quiet, slow_param

from kinmatch.dvi.case import prepare_case
from kinmatch.dvi.pairwise import pairwise_lr
from kinmatch.errors import CaseFormatError
from kinmatch.formats.case_json import (
    case_to_dict,
    parse_case,
    parse_hypotheses_file,
    read_case,
    read_hypotheses_file,
)
from kinmatch.formats.dvi_json import (
    dvi_case_to_dict,
    format_dvi_case,
    parse_dvi_case,
    read_dvi_case,
)
from kinmatch.formats.familias.convert import familias_to_dvi_case, familias_to_kinship_case
from kinmatch.formats.familias.parse import read_familias
from kinmatch.formats.json_reader import FORMAT_VERSION
from kinmatch.kinship.lr import kinship_lr
from kinmatch.schemas import SCHEMA_NAMES, load_schema, schema_text, validator

# -- the schemas themselves ---------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schemas_are_valid_draft_2020_12_and_shipped(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(schema_text(name)) == schema
    shipped = ROOT / "src" / "kinmatch" / "schemas" / f"{name}.schema.json"
    assert shipped.is_file()


def test_case_format_doc_links_the_schemas():
    doc = (ROOT / "docs" / "case-format.md").read_text()
    for name in SCHEMA_NAMES:
        assert f"../src/kinmatch/schemas/{name}.schema.json" in doc


# -- every case we ship or test with validates --------------------------------------


def _errors(schema: str, doc: dict) -> list[str]:
    return [e.message for e in validator(schema).iter_errors(doc)]


_CASE_FILES = [p for p in sorted(EXAMPLES.glob("*.json")) + sorted(EXAMPLES.glob("*/*.json"))
               if p.name != "truth.json"]  # a simulation's truth is not a case file


@pytest.mark.parametrize("path", [slow_param(p) if p.stat().st_size > 1_000_000 else p
                                  for p in _CASE_FILES], ids=lambda p: p.name)
def test_every_shipped_example_validates(path):
    doc = json.loads(path.read_text())
    schema = {"kinmatch-case": "kinship-case", "kinmatch-dvi-case": "dvi-case",
              "kinmatch-hypotheses": "hypotheses"}[doc["format"]]
    assert _errors(schema, doc) == []
    assert doc["version"] == FORMAT_VERSION


@pytest.mark.parametrize("path", sorted((DATA / "fam").glob("*.fam")), ids=lambda p: p.name)
def test_every_familias_test_case_validates_as_json(path):
    with quiet():
        case = familias_to_kinship_case(read_familias(path))
    doc = case_to_dict(case)
    assert _errors("kinship-case", doc) == []
    again = parse_case(json.dumps(doc), "again.json")
    a = kinship_lr(case.hypotheses, case.markers, case.profiles, theta=case.theta)
    b = kinship_lr(again.hypotheses, again.markers, again.profiles, theta=again.theta)
    assert np.array_equal(a.loglik, b.loglik)


def test_the_dvi_test_cases_validate_as_json():
    with quiet():
        cases = [familias_to_dvi_case(read_familias(DATA / "familias" / "synthetic_dvi.fam"))]
        cases += [load_dvir_case(p)[0] for p in sorted((DATA / "dvir").glob("dvi_*.json"))]
    for case in cases:
        assert _errors("dvi-case", dvi_case_to_dict(case)) == []


# -- the version field --------------------------------------------------------------


def test_a_file_without_version_is_version_1():
    doc = json.loads((EXAMPLES / "paternity.json").read_text())
    with_version = parse_case(json.dumps(doc))
    del doc["version"]
    without = parse_case(json.dumps(doc))
    a = kinship_lr(with_version.hypotheses, with_version.markers, with_version.profiles)
    b = kinship_lr(without.hypotheses, without.markers, without.profiles)
    assert a.loglik.tolist() == b.loglik.tolist()
    assert case_to_dict(without)["version"] == 1  # the writer always writes it


def test_a_future_version_is_refused_clearly(tmp_path):
    doc = json.loads((EXAMPLES / "paternity.json").read_text())
    doc["version"] = 2
    path = tmp_path / "future.json"
    path.write_text(json.dumps(doc, indent=1))
    with pytest.raises(CaseFormatError) as info:
        read_case(path)
    err = info.value
    assert err.location.field == "/version"
    assert (err.location.line, err.location.column) == (3, 2)
    assert err.message == ("this file is version 2 of the format; this kinmatch reads "
                           "version 1: update kinmatch")


def test_another_kinmatch_file_is_named_for_what_it_is(tmp_path):
    path = tmp_path / "dvi.json"
    path.write_text((EXAMPLES / "dvi_case.json").read_text())
    with pytest.raises(CaseFormatError, match=r"holds a DVI case \(\"kinmatch-dvi-case\"\), "
                                              r"not a kinship case") as info:
        read_case(path)
    assert info.value.location.line == 2
    with pytest.raises(CaseFormatError, match="holds a kinship case"):
        read_dvi_case(EXAMPLES / "paternity.json")


# -- typical mistakes: located, worded for people -----------------------------------


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _ped(d: dict) -> dict:
    """The second hypothesis of the paternity example, written as a pedigree."""
    d["hypotheses"][1] = {"name": "unrelated", "pedigree": [{"id": "A", "sex": 1},
                                                            {"id": "B", "sex": 1}]}
    return d["hypotheses"][1]


MISTAKES = [
    # (edit, field, the text on the reported line, message)
    (lambda d: d["markers"][0].update(frequencies="0.5, 0.5"), "/markers/0/frequencies",
     '"frequencies"', "expected a list, found text '0.5, 0.5'"),
    (lambda d: d["markers"][0].update(chromosome="Y"), "/markers/0/chromosome",
     '"chromosome"', "expected one of autosomal, X, found text 'Y'"),
    (lambda d: d["markers"][0].update(freqs=[1]), "/markers/0/freqs", '"freqs"',
     ("unknown field 'freqs' (expected one of alleles, chromosome, frequencies, mutation, "
      "name, rest_allele)")),
    (lambda d: d["markers"][0].pop("alleles"), "/markers/0", None,
     "missing required field 'alleles'"),
    (lambda d: d["markers"][0].update(mutation={"female": {"model": "equal", "rate": 0.001}}),
     "/markers/0/mutation", '"mutation"', "missing required field 'male'"),
    (lambda d: d["markers"][0]["mutation"].update(rate=-0.01), "/markers/0/mutation/rate",
     '"rate": -0.01', "expected a number >= 0, found -0.01"),
    (lambda d: d["profiles"]["A"].update(M1=["12", "13", "14"]), "/profiles/A/M1", '"M1": [',
     'a genotype is ["a", "b"], "a/b" or null (untyped), not a list of 3 items'),
    (lambda d: d["profiles"]["A"].update(M1=12), "/profiles/A/M1", '"M1": 12',
     'a genotype is ["a", "b"], "a/b" or null (untyped), not 12'),
    (lambda d: _ped(d)["pedigree"][0].update(sex="man"),
     "/hypotheses/1/pedigree/0/sex", '"sex": "man"',
     "sex must be 1 (male), 2 (female) or 0 (unknown), not text 'man'"),
    (lambda d: _ped(d)["pedigree"][0].update(dad="X"),
     "/hypotheses/1/pedigree/0/dad", '"dad"', "unknown field 'dad'"),
    (lambda d: d["hypotheses"][0].update(relationship="cousins"),
     "/hypotheses/0/relationship", '"relationship": "cousins"',
     "unknown relationship 'cousins'; expected one of unrelated, parent_child"),
    (lambda d: d["hypotheses"][0].pop("between"), "/hypotheses/0", None,
     "a relationship hypothesis names the two people"),
    (lambda d: _ped(d).update(relationship="full_siblings", between=["A", "B"]),
     "/hypotheses/1", None, "a hypothesis gives either 'pedigree' or 'relationship' (exactly one)"),
    (lambda d: d.update(theta=1), "/theta", '"theta"', "theta must be in [0, 1), not 1"),
    (lambda d: d.update(version="1"), "/version", '"version"',
     "expected a whole number, found text '1'"),
    (lambda d: d.update(options={"minimum_frequency": 0}), "/options/minimum_frequency",
     '"minimum_frequency"', "must be in (0, 1), not 0"),
]


@pytest.mark.parametrize("edit, field, needle, message", MISTAKES)
def test_the_schema_rejects_typical_mistakes_with_located_messages(tmp_path, edit, field, needle,
                                                                    message):
    doc = json.loads((EXAMPLES / "paternity.json").read_text())
    edit(doc)
    assert _errors("kinship-case", doc), "the schema itself must reject the mistake"
    text = json.dumps(doc, indent=1)
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CaseFormatError) as info:
        read_case(path)
    err = info.value
    assert err.location.file == str(path)
    assert err.location.field == field
    assert message in err.message
    assert err.location.line is not None and err.location.column is not None
    if needle is not None:
        assert err.location.line == _line_of(text, needle)
    else:
        # an object-level problem is placed where the object starts
        pointer_parts = field.strip("/").split("/")
        assert err.location.line > 1 and len(pointer_parts) >= 1


def test_the_first_problem_in_the_file_is_reported():
    doc = json.loads((EXAMPLES / "paternity.json").read_text())
    _ped(doc)["pedigree"][0]["sex"] = "x"
    doc["markers"][1]["frequencies"][0] = "y"
    with pytest.raises(CaseFormatError) as info:
        parse_case(json.dumps(doc, indent=1), "two.json")
    assert info.value.location.field == "/markers/1/frequencies/0"


# -- the DVI JSON format ------------------------------------------------------------


def _pairwise(case):
    with quiet():
        return pairwise_lr(prepare_case(case))


@pytest.mark.parametrize("source", ["familias", "dvir"])
def test_dvi_round_trip_gives_identical_pairwise_lrs(source):
    with quiet():
        if source == "familias":
            case = familias_to_dvi_case(read_familias(DATA / "familias" / "synthetic_dvi.fam"))
        else:
            case = load_dvir_case(DATA / "dvir" / "dvi_sim_30fam_50pm.json")[0]
    text = format_dvi_case(case)
    again = parse_dvi_case(text, "again.json")
    a, b = _pairwise(case), _pairwise(again)
    assert (a.samples, a.missing, a.families, a.markers) == (b.samples, b.missing, b.families,
                                                              b.markers)
    assert np.array_equal(a.log_lr_per_marker, b.log_lr_per_marker, equal_nan=True)
    assert np.array_equal(a.incompatible, b.incompatible)
    assert format_dvi_case(again) == text
    assert [s.sex for s in again.samples] == [s.sex for s in case.samples]


def test_the_shipped_dvi_example():
    case = read_dvi_case(EXAMPLES / "dvi_case.json")
    assert [s.id for s in case.samples] == ["V1", "V2", "V3", "U7", "U17"]
    assert [(f.name, f.missing) for f in case.families] == [("F1", ("M1",)), ("F2", ("M2",)),
                                                            ("F3", ("M3",))]
    lr = _pairwise(case)
    log10 = lr.log_lr_per_marker.sum(axis=2) / np.log(10)
    # V_i is M_i: the diagonal carries the evidence
    assert log10[0, 0] == pytest.approx(6.30, abs=0.01)
    assert log10[1, 1] == pytest.approx(3.14, abs=0.01)
    assert log10[2, 2] == pytest.approx(1.98, abs=0.01)
    assert log10[3].max() < 0 and log10[4].max() < 0


def _dvi_doc() -> dict:
    return json.loads((EXAMPLES / "dvi_case.json").read_text())


DVI_MISTAKES = [
    (lambda d: d["samples"][1].update(id="V1"), "/samples/1/id",
     "post-mortem sample 'V1' appears twice"),
    (lambda d: d["families"][0].update(missing=["Nobody"]), "/families/0/missing/0",
     "missing person 'Nobody' is not in the pedigree of family 'F1'"),
    (lambda d: d["families"][1].update(missing=["M1"]), "/families/1/missing/0",
     "missing person 'M1' is not in the pedigree of family 'F2'"),
    (lambda d: d["families"][0]["profiles"].update(M1={"D3S1358": ["15", "16"]}),
     "/families/0/profiles/M1", "missing person 'M1' is typed"),
    (lambda d: d["families"][0]["profiles"].update(X9={"D3S1358": ["15", "16"]}),
     "/families/0/profiles/X9", "typed person 'X9' is not in the pedigree"),
    (lambda d: d["samples"][0]["profile"].update(D99=["1", "2"]), "/samples/0/profile/D99",
     "marker 'D99' is not defined in /markers"),
    (lambda d: d["samples"][0].update(sex="woman"), "/samples/0/sex", "sex must be"),
    (lambda d: d["samples"][0].pop("profile"), "/samples/0", "missing required field 'profile'"),
    (lambda d: d["families"][0].update(missing=[]), "/families/0/missing",
     "a reference family needs at least one missing person"),
    (lambda d: d.update(pm=[]), "/pm", "unknown field 'pm'"),
    (lambda d: d.update(version=3), "/version", "reads version 1"),
]


@pytest.mark.parametrize("edit, field, message", DVI_MISTAKES)
def test_dvi_reader_errors_are_located(edit, field, message):
    doc = _dvi_doc()
    edit(doc)
    with pytest.raises(CaseFormatError) as info:
        parse_dvi_case(json.dumps(doc, indent=1), "bad_dvi.json")
    err = info.value
    assert err.location.file == "bad_dvi.json"
    assert err.location.field == field
    assert err.location.line is not None and err.location.line > 1
    assert message in err.message


def test_dvi_file_without_version_and_male_x_check():
    doc = _dvi_doc()
    del doc["version"]
    assert len(parse_dvi_case(json.dumps(doc)).samples) == 5
    doc["markers"][0]["chromosome"] = "X"
    doc["samples"][0]["profile"]["D3S1358"] = ["15", "17"]  # V1 is male
    with pytest.raises(CaseFormatError, match="male but heterozygous") as info:
        parse_dvi_case(json.dumps(doc, indent=1), "x.json")
    assert info.value.location.field == "/samples/0/profile/D3S1358"


# -- hypotheses files ---------------------------------------------------------------


def test_hypotheses_file():
    hf = read_hypotheses_file(EXAMPLES / "formats" / "missing_son_hypotheses.json")
    assert [h.name for h in hf.hypotheses] == ["missing_person", "unrelated"]
    assert hf.reference == "unrelated"
    assert hf.hypotheses[0].pedigree.parents("UHR-2024-007") == ("Father", "Ref-Mother-01")
    with pytest.raises(CaseFormatError, match="at least two hypotheses") as info:
        parse_hypotheses_file('{"format": "kinmatch-hypotheses",\n "hypotheses": [\n'
                              ' {"name": "a", "relationship": "unrelated",'
                              ' "between": ["A", "B"]}]}',
                              "h.json")
    assert (info.value.location.line, info.value.location.field) == (2, "/hypotheses")
