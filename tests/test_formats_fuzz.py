"""Property-based tests: on any input, a table parser returns a result or raises KinmatchError.

Arbitrary bytes, arbitrary text, randomly mutated copies of the shipped
examples, and random grids of awkward cells (in text and in Excel workbooks)
go to every parser. Nothing but a :class:`KinmatchError` may escape, and
what is returned must be well formed.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import EXAMPLES, FORMATS, quiet

from kinmatch.dvi.case import DVICase
from kinmatch.errors import KinmatchError
from kinmatch.formats.case_json import HypothesesFile, parse_case, parse_hypotheses_file
from kinmatch.formats.dvi_json import parse_dvi_case
from kinmatch.formats.frequencies import (
    parse_familias_frequencies,
    parse_long_frequencies,
    parse_wide_frequencies,
    sniff_frequency_format,
)
from kinmatch.formats.genemapper import parse_genemapper
from kinmatch.formats.genotype_tables import (
    GenotypeTable,
    parse_wide_genotypes,
    parse_wide_genotypes_xlsx,
)
from kinmatch.formats.marker_names import canonical_marker_name
from kinmatch.formats.pedigree_tables import parse_ped, parse_ped_families, parse_plink_fam
from kinmatch.kinship.case import KinshipCase
from kinmatch.markers import FrequencyDatabase
from kinmatch.pedigree import Pedigree, Sex

#: Examples per property; raise it (KINMATCH_FUZZ_EXAMPLES=5000) for a longer hunt.
EXAMPLES_PER_TEST = int(os.environ.get("KINMATCH_FUZZ_EXAMPLES", "150"))
#: CI runs a fixed set of examples (derandomized, so a run is reproducible);
#: KINMATCH_FUZZ_RANDOM=1 draws new ones.
DERANDOMIZE = not os.environ.get("KINMATCH_FUZZ_RANDOM")
FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check_result(result: Any) -> None:
    """What a parser returns must be well formed."""
    if isinstance(result, GenotypeTable):
        assert set(result.sexes) == set(result.profiles)
        for profile in result.profiles.values():
            for marker, genotype in profile.items():
                assert marker in result.markers
                assert len(genotype) == 2 and all(isinstance(a, str) and a for a in genotype)
        assert all(isinstance(s, Sex) for s in result.sexes.values())
    elif isinstance(result, FrequencyDatabase):
        assert result.frequencies
        for alleles, freqs in result.frequencies.values():
            assert len(alleles) == len(freqs) > 0
            assert abs(float(np.sum(freqs)) - 1) <= 1e-6
            assert all(math.isfinite(f) and f > 0 for f in freqs)
    elif isinstance(result, Pedigree):
        assert len(result) > 0
    elif isinstance(result, dict):
        assert result
        for value in result.values():
            _check_result(value)
    else:
        assert result in ("familias", "long", "wide")


def run(parser: Callable[..., Any], data: bytes | str, *args: Any, **kwargs: Any) -> None:
    """Call a parser; only a KinmatchError may come out."""
    with quiet():
        try:
            result = parser(data, *args, **kwargs)
        except KinmatchError as err:
            assert str(err)
            return
    _check_result(result)


TEXT_PARSERS: list[tuple[Callable[..., Any], str, dict[str, Any]]] = [
    (parse_genemapper, "fuzz.txt", {}),
    (parse_wide_genotypes, "fuzz.csv", {}),
    (parse_familias_frequencies, "fuzz.txt", {}),
    (parse_familias_frequencies, "fuzz.txt", {"normalise": True}),
    (parse_familias_frequencies, "fuzz.txt", {"rest_allele": "99"}),
    (parse_long_frequencies, "fuzz.csv", {}),
    (parse_long_frequencies, "fuzz.csv", {"normalise": True}),
    (parse_wide_frequencies, "fuzz.csv", {}),
    (parse_wide_frequencies, "fuzz.csv", {"rest_allele": "rest"}),
    (sniff_frequency_format, "fuzz.txt", {}),
    (parse_ped, "fuzz.ped", {}),
    (parse_ped_families, "fuzz.ped", {}),
    (parse_plink_fam, "fuzz.fam", {}),
]
ALL_PARSERS = [*TEXT_PARSERS, (parse_wide_genotypes_xlsx, "fuzz.xlsx", {})]

NASTY = [
    "",
    "OL",
    "ol",
    "17-NB",
    "-NB",
    "9,3",
    "16,17",
    "16/17/18",
    "16/",
    "X",
    "Y",
    "XY",
    "X/Y",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "1e-400",
    "-1",
    "0",
    "1",
    "2",
    "0.5",
    "1.5",
    "0,25",
    "1_0",
    "NA",
    ".",
    "-",
    "?",
    "\t",
    ",",
    ";",
    '"',
    "'",
    " ",
    "\r",
    "\n",
    "\x00",
    "\ufeff",
    "é",
    "\x85",
    "Amelogenin",
    "AMEL",
    "D2",
    "D3S1358",
    "D3S1358.1",
    "D3S1358_2",
    "VWA",
    "Penta E",
    "Allele 1",
    "Allele 2",
    "Sample Name",
    "Sample Type",
    "Allelic Ladder",
    "Marker",
    "allele",
    "frequency",
    "population",
    "famid",
    "id",
    "iid",
    "fid",
    "mid",
    "father",
    "mother",
    "sex",
    "#",
    "9.3",
    "10.0",
    "M",
    "F",
    "male",
    "-9",
    "A",
    "B",
    "C",
]

_EXAMPLE_FILES = {
    parse_genemapper: "genemapper_export.txt",
    parse_wide_genotypes: "profiles_wide.csv",
    parse_familias_frequencies: "frequencies_long.csv",
    parse_long_frequencies: "frequencies_long.csv",
    parse_wide_frequencies: "frequencies_wide.csv",
    sniff_frequency_format: "frequencies_wide.csv",
    parse_ped: "family.ped",
    parse_ped_families: "family.ped",
    parse_plink_fam: "plink_two_families.fam",
}
FAMILIAS_EXAMPLE = b"D3S1358\n14\t0.052\n15\t0.948\n\nPenta E\n5\t0.5\n9.3\t0.5\n"


def example_bytes(parser: Callable[..., Any]) -> bytes:
    if parser is parse_familias_frequencies:
        return FAMILIAS_EXAMPLE
    return (FORMATS / _EXAMPLE_FILES[parser]).read_bytes()


def _xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_EXAMPLE = _xlsx_bytes(
    [
        ["Sample", "AMEL", "D3S1358", None, "TH01"],
        ["S1", "X/Y", 15, 16, "9.3/6"],
        ["S2", "X", 14, None, 9.3],
    ]
)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` after a few random edits of its lines, cells and bytes."""
    data = base
    for _ in range(draw(st.integers(1, 5))):
        lines = data.split(b"\n")
        op = draw(st.sampled_from(["drop", "dup", "swap", "cell", "byte", "insert", "cut"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "drop" and lines:
            del lines[i]
        elif op == "dup" and lines:
            lines.insert(i, lines[i])
        elif op == "swap" and lines:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cell" and lines:
            sep = next((s for s in (b"\t", b";", b",", b" ") if s in lines[i]), b"\t")
            cells = lines[i].split(sep)
            k = draw(st.integers(0, len(cells) - 1))
            cells[k] = draw(st.sampled_from(NASTY)).encode("utf-8")
            lines[i] = sep.join(cells)
        elif op in ("byte", "insert", "cut"):
            blob = b"\n".join(lines)
            if not blob:
                continue
            p = draw(st.integers(0, len(blob) - 1))
            if op == "byte":
                blob = blob[:p] + bytes([draw(st.integers(0, 255))]) + blob[p + 1 :]
            elif op == "insert":
                blob = blob[:p] + draw(st.binary(min_size=1, max_size=8)) + blob[p:]
            else:
                blob = blob[:p]
            lines = blob.split(b"\n")
        data = b"\n".join(lines)
    return data


def grid_text(rows: list[list[str]], delimiter: str) -> str:
    return "\n".join(delimiter.join(row) for row in rows)


cells = st.sampled_from(NASTY) | st.text(max_size=6)
grids = st.lists(st.lists(cells, min_size=1, max_size=7), min_size=1, max_size=8)
delimiters = st.sampled_from(["\t", ",", ";", " "])


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes(data):
    for parser, name, kwargs in ALL_PARSERS:
        run(parser, data, name, **kwargs)


@pytest.mark.slow
@FUZZ
@given(text=st.text(max_size=2000))
def test_arbitrary_text(text):
    for parser, name, kwargs in TEXT_PARSERS:
        run(parser, text, name, **kwargs)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_examples(data):
    for parser, name, kwargs in TEXT_PARSERS:
        run(parser, data.draw(mutated(example_bytes(parser))), name, **kwargs)


@pytest.mark.slow
@FUZZ
@given(
    grid=grids,
    delimiter=delimiters,
    header=st.sampled_from(
        [
            ["Sample Name", "Sample Type", "Marker", "Allele 1", "Allele 2", "Allele 3"],
            ["Sample", "AMEL", "D3S1358", "D3S1358.1", "vWA", "Sex"],
            ["marker", "allele", "frequency", "population"],
            ["Allele", "D3S1358", "TH01", ""],
            ["famid", "id", "father", "mother", "sex"],
            ["FID", "IID", "PAT", "MAT", "SEX", "PHENOTYPE"],
            [],
        ]
    ),
)
def test_random_grids(grid, delimiter, header):
    text = grid_text(([header] if header else []) + grid, delimiter)
    for parser, name, kwargs in TEXT_PARSERS:
        run(parser, text, name, **kwargs)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_workbooks(data):
    run(parse_wide_genotypes_xlsx, data.draw(mutated(XLSX_EXAMPLE)), "fuzz.xlsx")


excel_cells = (
    st.sampled_from([c for c in NASTY if c.isprintable() and c != "\ufeff"])
    | st.none()
    | st.integers(-5, 40)
    | st.floats(min_value=-1, max_value=40, allow_nan=False)
    | st.dates()
    | st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=6)
)


@pytest.mark.slow
@settings(
    max_examples=max(EXAMPLES_PER_TEST // 3, 20),
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(rows=st.lists(st.lists(excel_cells, min_size=1, max_size=6), min_size=1, max_size=6))
def test_random_workbooks(rows):
    run(parse_wide_genotypes_xlsx, _xlsx_bytes(rows), "fuzz.xlsx")


@FUZZ
@given(name=st.text(max_size=30))
def test_marker_names_never_fail_otherwise(name):
    try:
        assert canonical_marker_name(name) == canonical_marker_name(canonical_marker_name(name))
    except KinmatchError:
        pass


# -- kinmatch's JSON readers: case, DVI case, hypotheses ----------------------------

JSON_EXAMPLES = {
    parse_dvi_case: EXAMPLES / "dvi_case.json",
    parse_case: EXAMPLES / "paternity.json",
    parse_hypotheses_file: FORMATS / "missing_son_hypotheses.json",
}
_JSON_TYPES = (DVICase, KinshipCase, HypothesesFile)


def run_json(parser: Callable[..., Any], data: bytes | str) -> None:
    """Call a JSON reader; only a KinmatchError may come out, else a case."""
    with quiet():
        try:
            result = parser(data, "fuzz.json")
        except KinmatchError as err:
            assert str(err) and err.location.file == "fuzz.json"
            return
    assert isinstance(result, _JSON_TYPES)


json_leaves = (st.none() | st.booleans() | st.integers(-3, 40)
               | st.floats(allow_nan=False, allow_infinity=False)
               | st.sampled_from(NASTY) | st.text(max_size=5))
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "sex", "name", "profile", "missing", "pedigree", "model", "rate",
                         "father", "mother", "x"]) | st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def edited_json(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with a few nodes replaced by random JSON values, or deleted."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 4))):
        node, key = doc, None
        parent = None
        for _depth in range(draw(st.integers(0, 6))):
            if isinstance(node, dict) and node:
                key = draw(st.sampled_from(sorted(node)))
            elif isinstance(node, list) and node:
                key = draw(st.integers(0, len(node) - 1))
            else:
                break
            parent, node = node, node[key]
        if parent is None:
            continue
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = draw(json_values)
    return doc


@FUZZ
@given(data=st.binary(max_size=2000))
def test_json_readers_on_arbitrary_bytes(data):
    for parser in JSON_EXAMPLES:
        run_json(parser, data)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_json_readers_on_mutated_examples(data):
    for parser, path in JSON_EXAMPLES.items():
        run_json(parser, data.draw(mutated(path.read_bytes())))


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_json_readers_on_edited_documents(data):
    for parser, path in JSON_EXAMPLES.items():
        doc = data.draw(edited_json(json.loads(path.read_text())))
        run_json(parser, json.dumps(doc, indent=1))
