"""Bad input is refused with a located error, never a traceback or a silent
wrong answer (issue 13); and a mutation rate of 0 under the stationary (PM)
transformation is no mutation."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from support import DATA, EXAMPLES, FORMATS, quiet, run_cli

from kinmatch.dvi.pipeline import run_dvi_case
from kinmatch.errors import CaseFormatError, KinmatchError, KinmatchWarning
from kinmatch.formats.case_json import parse_case
from kinmatch.formats.cases import read_dvi_case
from kinmatch.formats.detect import detect_input
from kinmatch.formats.dvi_json import parse_dvi_case
from kinmatch.formats.familias.parse import parse_familias
from kinmatch.formats.frequencies import (
    parse_familias_frequencies,
    parse_long_frequencies,
    parse_wide_frequencies,
)
from kinmatch.formats.genemapper import parse_genemapper
from kinmatch.formats.genotype_tables import parse_wide_genotypes
from kinmatch.formats.json_reader import load_json
from kinmatch.formats.profiles import read_profiles
from kinmatch.mutation import make_stationary, mutation_matrix
from kinmatch.schemas import fast_validator, validator

PATERNITY = EXAMPLES / "paternity.json"
DVI_EXAMPLE = EXAMPLES / "dvi_case.json"
FAMILIAS_DVI = DATA / "familias" / "synthetic_dvi.fam"
PARENT_CHILD_FAM = DATA / "fam" / "pair_parent_child_stepwise.fam"
GENEMAPPER = FORMATS / "genemapper_export.txt"
FREQUENCIES = str(FORMATS / "frequencies_familias.txt")
MISSING_SON = ["--pedigree", str(FORMATS / "missing_son.ped"), "--missing", "Missing-Son",
               "--poi", "UHR-2024-007"]


def lr_json(*args: str) -> dict:
    res = run_cli("lr", *args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.output[res.output.index("{"):res.output.rindex("}") + 1])


def lrs(out: dict) -> list[float]:
    return [h["lr"] for h in out["hypotheses"]]


def failure(*args: str) -> str:
    """The output of a command that must fail with a clean error (exit 2, no traceback)."""
    res = run_cli(*args)
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    return res.output


# -- 1. the PM transformation of a model with rate 0 -------------------------------------


def test_make_stationary_of_the_identity_is_the_identity():
    p = np.array([0.2, 0.3, 0.5])
    np.testing.assert_array_equal(make_stationary(np.eye(3), p), np.eye(3))
    for kind, params in (("proportional", {"rate": 0}), ("equal", {"rate": 0}),
                         ("stepwise", {"rate": 0, "rate2": 0, "range": 0.1})):
        m = mutation_matrix(kind, ["10", "11", "12"], p, transform="PM", **params)
        assert m.is_trivial and m.transform == "PM"


def test_pm_with_rate_0_in_a_json_case_is_no_mutation(tmp_path):
    doc = json.loads(PATERNITY.read_text())
    for marker in doc["markers"]:
        marker.pop("mutation", None)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(doc))
    for marker in doc["markers"]:
        marker["mutation"] = {"model": "proportional", "rate": 0, "transform": "PM"}
    pm = tmp_path / "pm.json"
    pm.write_text(json.dumps(doc))
    assert lrs(lr_json(str(pm))) == lrs(lr_json(str(plain)))


def test_pm_with_rate_0_on_the_command_line_is_no_mutation():
    tables = ("--profiles", str(GENEMAPPER), "--frequencies", FREQUENCIES, *MISSING_SON)
    with quiet():
        none = lr_json(*tables, "--mutation", "none")
        pm = lr_json(*tables, "--mutation", "proportional", "--mutation-rate", "0",
                     "--stationary")
    assert lrs(pm) == lrs(none)


def _familias_rates(female: str, male: str, model: str = "3") -> str:
    """The parent-child Familias case with every locus' rates and model set (the
    female rate2 0), the typed parent made the mother and the untyped parent the father."""
    lines = PARENT_CHILD_FAM.read_text().splitlines()
    # persons: "A" (typed parent) becomes female, "2" (untyped parent) male
    assert lines[5] == '"A"' and lines[9] == "#TRUE#"
    assert lines[26] == '"2"' and lines[30] == "#FALSE#"
    lines[9], lines[30] = "#FALSE#", "#TRUE#"
    start = next(i for i, ln in enumerate(lines) if ln.startswith("#FALSE# (#Databases"))
    loci = [i for i, ln in enumerate(lines) if i > start and re.fullmatch(r'"M\d+"', ln)]
    assert loci
    for i in loci:
        lines[i + 1: i + 5] = [female, male, model, model]
        lines[i + 8] = "0"  # no female mutations between microvariant groups either
    return "\n".join(lines) + "\n"


def test_stationary_stepwise_familias_locus_with_female_rate_0(tmp_path):
    """Female rate 0 (the identity) used to fail with a singular matrix; the
    father is untyped and his stationary model keeps the allele frequencies,
    so the LR is the LR without mutation."""
    pm = tmp_path / "pm.fam"
    pm.write_text(_familias_rates("0", "0.003"))
    none = tmp_path / "none.fam"
    none.write_text(_familias_rates("0", "0", model="0"))
    got, want = lrs(lr_json(str(pm))), lrs(lr_json(str(none)))
    assert got == pytest.approx(want, rel=1e-9)
    assert want[0] != 1.0


# -- 2. JSON syntax: cut-off files, deep nesting, huge integers ---------------------------


@pytest.mark.parametrize("command", ["dvi", "lr", "plan", "convert"])
@pytest.mark.parametrize("example", [DVI_EXAMPLE, PATERNITY])
def test_a_cut_off_json_file_is_a_json_syntax_error_for_every_command(tmp_path, command,
                                                                       example):
    text = example.read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    args = [command, str(path)] + ([str(tmp_path / "out.json")] if command == "convert" else [])
    out = failure(*args)
    assert "not valid JSON" in out and "cut off" in out
    assert re.search(r"line \d+, column \d+", out)
    with pytest.raises(CaseFormatError, match="not valid JSON") as err:
        detect_input(path)
    assert err.value.location.line is not None and err.value.location.column is not None


def test_json_nested_too_deeply_is_a_located_error(tmp_path):
    text = '{"format": "kinmatch-case", "x": ' + "[" * 2000 + "]" * 2000 + "}"
    path = tmp_path / "deep.json"
    path.write_text(text)
    for read in (detect_input, read_dvi_case):
        with pytest.raises(CaseFormatError, match="nested too deeply") as err:
            read(path)
        assert err.value.location.line == 1 and err.value.location.column is not None
    with pytest.raises(CaseFormatError, match="nested too deeply"):
        parse_case(text, "deep.json")


def test_an_integer_too_long_for_python_is_a_located_error(tmp_path):
    text = '{\n "format": "kinmatch-case",\n "theta": ' + "1" * 10_000 + "\n}"
    for parse in (parse_case, parse_dvi_case):
        with pytest.raises(CaseFormatError, match="10000 digits") as err:
            parse(text, "big.json")
        assert (err.value.location.line, err.value.location.column) == (3, 11)
    path = tmp_path / "big.json"
    path.write_text(text)
    assert "10000 digits" in failure("lr", str(path))
    # digits inside a string are text, not a number
    assert load_json('{"a": "' + "1" * 10_000 + '"}', "x.json") == {"a": "1" * 10_000}


def test_a_familias_integer_too_long_for_python_is_a_located_error():
    text = PARENT_CHILD_FAM.read_text().splitlines()
    assert text[4] == "3"  # the number of persons
    text[4] = "1" * 10_000
    with pytest.raises(CaseFormatError, match="too large") as err:
        parse_familias("\n".join(text), "big.fam")
    assert err.value.location.line == 5


# -- 3. duplicate keys --------------------------------------------------------------------


def test_a_key_given_twice_is_refused_where_it_is_given_again(tmp_path):
    text = PATERNITY.read_text()
    at = text.index('"rate": 0.003')
    line = text.count("\n", 0, at) + 1
    column = at - text.rfind("\n", 0, at)
    bad = text[:at] + '"rate": 0.9, ' + text[at:]
    with pytest.raises(CaseFormatError, match="'rate' is given twice") as err:
        parse_case(bad, "dup.json")
    # the second "rate" (the original one, now after the inserted one) is reported
    assert (err.value.location.line, err.value.location.column) == (line, column + 13)
    path = tmp_path / "dup.json"
    path.write_text(bad)
    assert "given twice" in failure("lr", str(path))


def test_duplicates_in_nested_and_top_level_objects():
    with pytest.raises(CaseFormatError, match="'b' is given twice") as err:
        load_json('{"a": {"x": 1},\n "b": [{"b": 1, "c": {"d": 2}}],\n  "b": 2}', "f")
    assert (err.value.location.line, err.value.location.column) == (3, 3)
    with pytest.raises(CaseFormatError, match="'d' is given twice") as err:
        load_json('{"a": {"x": 1},\n "b": [{"b": 1, "c": {"d": 2,  "d": 3}}]}', "f")
    assert (err.value.location.line, err.value.location.column) == (2, 32)
    assert load_json('{"a": {"a": 1}, "b": [{"a": 2}]}', "f") == {"a": {"a": 1},
                                                                   "b": [{"a": 2}]}


# -- 4. GeneMapper exports lacking a column, and tables without samples ----------------------


def _drop_column(title: str) -> str:
    rows = [r.split("\t") for r in GENEMAPPER.read_text().splitlines()]
    j = rows[0].index(title)
    return "".join("\t".join(r[:j] + r[j + 1:]) + "\n" for r in rows)


@pytest.mark.parametrize("title", ["Sample Name", "Marker", "Allele 1", "Allele 2"])
def test_a_genemapper_export_lacking_a_column_names_it(tmp_path, title):
    path = tmp_path / "export.txt"
    path.write_text(_drop_column(title))
    with pytest.raises(CaseFormatError, match=f"lacks the column '{title}'") as err:
        read_profiles(path)
    assert err.value.location.line == 1
    assert detect_input(path) == "genotypes"


def test_header_only_genotype_tables_hold_no_samples(tmp_path):
    header = GENEMAPPER.read_text().splitlines()[0] + "\n"
    with pytest.raises(CaseFormatError, match="no samples"):
        parse_genemapper(header, "gm.txt")
    with pytest.raises(CaseFormatError, match="no samples"):
        parse_wide_genotypes("Sample,D3S1358,vWA\n", "wide.csv")
    path = tmp_path / "empty.txt"
    path.write_text(header)
    assert "no samples" in failure("convert", str(path), str(tmp_path / "out.csv"))


# -- 5. allele names in frequency databases ------------------------------------------------


@pytest.mark.parametrize("allele", ["abc", "-0.25", "OL"])
def test_frequency_databases_refuse_non_repeat_alleles_at_an_str(allele):
    with pytest.raises(CaseFormatError, match="allele designation") as err:
        parse_familias_frequencies(f"D3S1358\n14\t0.5\n{allele}\t0.5\n", "db.txt")
    assert (err.value.location.line, err.value.location.field) == (3, "allele")
    with pytest.raises(CaseFormatError, match="allele designation") as err:
        parse_long_frequencies(f"marker,allele,frequency\nvWA,14,0.5\nvWA,{allele},0.5\n",
                               "db.csv")
    assert err.value.location.line == 3
    with pytest.raises(CaseFormatError, match="allele designation") as err:
        parse_wide_frequencies(f"Allele,TH01\n9.3,0.5\n{allele},0.5\n", "db.csv")
    assert (err.value.location.line, err.value.location.column) == (3, 2)


def test_frequency_databases_keep_other_names_at_other_markers():
    db = parse_familias_frequencies("rs1234\nA\t0.5\nG\t0.5\n", "snp.txt")
    assert list(db.frequencies["rs1234"][0]) == ["A", "G"]


# -- 6. Familias locus settings --------------------------------------------------------------


def _locus_info(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("old, new, words", [
    ("Dropout probability = 0 ", "Dropout probability = 2 ", "dropout probability of M1 must"),
    ("Minor allele frequency = 0 ", "Minor allele frequency = 1.5 ",
     "minor allele frequency of M1 must"),
    ("DatabaseSize = 1000 ", "DatabaseSize = -3 ", "database size of M1 must"),
])
def test_familias_locus_settings_out_of_range_are_refused(old, new, words):
    text = _locus_info(PARENT_CHILD_FAM.read_text(), old, new)
    with pytest.raises(CaseFormatError, match=words) as err:
        parse_familias(text, "bad.fam")
    line = text.splitlines().index(next(ln for ln in text.splitlines() if new.strip() in ln))
    assert err.value.location.line == line + 1


def test_a_negative_silent_allele_frequency_is_refused():
    lines = PARENT_CHILD_FAM.read_text().splitlines()
    info = next(i for i, ln in enumerate(lines) if "Dropout probability" in ln)
    assert lines[info - 1] == "0" and lines[info - 2] == "#FALSE#"  # silent frequency, flag
    lines[info - 1] = "-0.1"
    with pytest.raises(CaseFormatError, match="silent allele frequency of M1") as err:
        parse_familias("\n".join(lines), "bad.fam")
    assert err.value.location.line == info


# -- 7. DVI files without families or samples ----------------------------------------------


def test_a_familias_dvi_file_without_its_reference_families_line(tmp_path):
    data = FAMILIAS_DVI.read_bytes()
    path = tmp_path / "dvi.fam"
    path.write_bytes(re.sub(rb"\[\[Reference Families\]\]\r?\n", b"", data, count=1))
    with pytest.raises(CaseFormatError, match="no reference families") as err:
        read_dvi_case(path)
    assert err.value.location.line is not None
    assert "no reference families" in failure("dvi", "--no-progress", str(path))


def test_a_json_dvi_case_without_families(tmp_path):
    doc = json.loads(DVI_EXAMPLE.read_text())
    doc["families"] = []
    path = tmp_path / "dvi.json"
    path.write_text(json.dumps(doc, indent=1))
    with pytest.raises(CaseFormatError, match="at least one reference family") as err:
        read_dvi_case(path)
    assert err.value.location.field == "/families"


def test_a_case_without_samples_can_be_planned_not_solved(tmp_path):
    """Families without remains are what a programme plans its sampling on:
    read and planned, refused by the DVI pipeline with a message."""
    doc = json.loads(DVI_EXAMPLE.read_text())
    doc["samples"] = []
    path = tmp_path / "dvi.json"
    path.write_text(json.dumps(doc, indent=1))
    case = read_dvi_case(path)
    assert case.samples == [] and case.families
    with pytest.raises(KinmatchError, match="no post-mortem samples: there is nothing to"):
        run_dvi_case(case)
    assert "nothing to identify" in failure("dvi", "--no-progress", str(path))
    res = run_cli("plan", str(path), "--simulations", "20", "--seed", "1", "--no-progress")
    assert res.exit_code == 0, res.output


def test_a_familias_dvi_file_without_samples_warns(tmp_path):
    """'nPersons= 0' under [[Unidentified persons]]: the families are read
    (with a warning), as for planning; without the section's line the file
    is malformed and refused."""
    text = FAMILIAS_DVI.read_bytes()
    start = text.index(b"[[Unidentified persons]]")
    stop = text.index(b"[[Notes]]")
    path = tmp_path / "dvi.fam"
    path.write_bytes(text[:start] + b"[[Unidentified persons]]\r\nnPersons= 0\r\n" + text[stop:])
    with pytest.warns(KinmatchWarning, match="no unidentified persons"):
        case = read_dvi_case(path)
    assert case.samples == [] and len(case.families) == 1
    broken = tmp_path / "broken.fam"
    broken.write_bytes(re.sub(rb"\[\[Unidentified persons\]\]\r?\n", b"", text, count=1))
    with pytest.raises(CaseFormatError) as err:
        read_dvi_case(broken)
    assert err.value.location.line is not None


# -- 8. misspelt field names ----------------------------------------------------------------


@pytest.mark.parametrize("example, right, wrong, parse", [
    (DVI_EXAMPLE, "families", "familes", parse_dvi_case),
    (DVI_EXAMPLE, "samples", "sampels", parse_dvi_case),
    (PATERNITY, "hypotheses", "hypothesis", parse_case),
    (PATERNITY, "format", "fromat", parse_case),
])
def test_a_misspelt_required_field_suggests_the_right_name(example, right, wrong, parse):
    doc = json.loads(example.read_text())
    doc[wrong] = doc.pop(right)
    text = json.dumps(doc, indent=1)
    with pytest.raises(CaseFormatError, match=f"did you mean '{right}'") as err:
        parse(text, "case.json")
    assert err.value.location.field == f"/{wrong}"
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if f'"{wrong}"' in ln)
    assert err.value.location.line == line


def test_a_misspelt_optional_field_suggests_the_right_name():
    doc = json.loads(PATERNITY.read_text())
    doc["markers"][0]["chromosme"] = "X"
    with pytest.raises(CaseFormatError, match="did you mean 'chromosome'"):
        parse_case(json.dumps(doc), "case.json")
    doc = json.loads(PATERNITY.read_text())
    doc["zzz"] = 1
    with pytest.raises(CaseFormatError, match="unknown field 'zzz'") as err:
        parse_case(json.dumps(doc), "case.json")
    assert "did you mean" not in err.value.message


@pytest.mark.parametrize("sex", ["M", " male ", "M\ufeff", "M\u00a0", "M\x1c", "x", "2\n"])
def test_the_compiled_and_the_python_schema_validators_agree(sex):
    """The compiled validator decides validity; the Python one words the
    errors: they must agree, or a bad file would pass (regex dialects differ
    on what whitespace is, so the schemas spell it out)."""
    doc = json.loads(DVI_EXAMPLE.read_text())
    doc["samples"][0]["sex"] = sex
    fast = fast_validator("dvi-case").is_valid(doc)
    slow = not list(validator("dvi-case").iter_errors(doc))
    assert fast == slow


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_that_are_not_finite_are_located_errors(tmp_path, token):
    """json.loads takes NaN, Infinity and 1e999 (as inf); a case file must not:
    a θ of NaN used to pass the Python schema check."""
    text = DVI_EXAMPLE.read_text()
    doc = json.loads(text)
    doc["theta"] = 0.5
    path = tmp_path / "case.json"
    path.write_text(json.dumps(doc, indent=1).replace('"theta": 0.5', f'"theta": {token}'))
    with pytest.raises(CaseFormatError, match=f"the number '{re.escape(token)}' is not finite"):
        read_dvi_case(path)
    res = run_cli("dvi", "--no-progress", str(path))
    assert res.exit_code == 2 and "line" in res.output
