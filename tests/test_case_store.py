"""Imports into the shared case and the case document of an analysis, on
SQLite and PostgreSQL: all-or-nothing, re-imports refused, located errors,
and the round trip file -> database -> document giving the same DVI
results as the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shared_case import Programme2, make_programme
from sqlalchemy import func, select

from kinmatch.dvi.pipeline import run_dvi_case
from kinmatch.errors import CaseFormatError
from kinmatch.formats.cases import read_dvi_case
from kinmatch.formats.dvi_json import parse_dvi_case
from kinmatch.storage.case_store import (
    ImportRefused,
    case_document,
    store_marker_database,
    undefined_markers,
)
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.imports import ImportResult, import_case
from kinmatch.storage.models import (
    Family,
    ImportRecord,
    MarkerDatabase,
    MissingPerson,
    Relative,
    Role,
    Sample,
    SampleKind,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KEYS = Keyring.generate()
SMALL = EXAMPLES / "dvi_case.json"


@pytest.fixture
def programme(database: Database) -> Programme2:
    with database.write() as s:
        return make_programme(s)


def run_import(db: Database, made: Programme2, path: Path, data: bytes | None = None,
               agency: str = "NFS-KR") -> ImportResult:
    with db.write() as s:
        return import_case(s, KEYS, programme_id=made.programme_id,
                           agency_id=made.agencies[agency],
                           user_id=made.users[(agency, Role.ANALYST)],
                           data=path.read_bytes() if data is None else data,
                           filename=path.name)


def counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Family, MissingPerson, Relative, Sample, MarkerDatabase, ImportRecord)}


def test_import_stores_families_samples_and_markers(database: Database,
                                                    programme: Programme2) -> None:
    case = read_dvi_case(SMALL)
    summary = run_import(database, programme, SMALL)
    typed = sum(len(f.profiles) for f in case.families)
    assert (summary.counts.families, summary.counts.missing_persons, summary.counts.remains,
            summary.counts.reference_samples) == (len(case.families),
                                           sum(len(f.missing) for f in case.families),
                                           len(case.samples), typed)
    assert counts(database) == {"families": 3, "missing_persons": 3, "relatives": typed,
                                "samples": 5 + typed, "marker_databases": 1, "imports": 1}
    with database.read() as s:
        remains = s.execute(select(Sample).where(Sample.code == "V1")).scalar_one()
        assert remains.kind is SampleKind.REMAINS and remains.sex == "male"
        # the profile is sealed: no allele name of V1's profile in the stored bytes
        assert remains.profile_sealed is not None and b"32.2" not in remains.profile_sealed
        owners = set(s.execute(select(Sample.owner_agency_id)).scalars())
        assert owners == {programme.agencies["NFS-KR"]}


def test_the_case_document_gives_the_same_dvi_results_as_the_file(
        database: Database, programme: Programme2) -> None:
    run_import(database, programme, SMALL)
    with database.read() as s:
        markers = s.execute(select(MarkerDatabase)).scalar_one()
        doc = case_document(s, KEYS, programme.programme_id, markers)
    rebuilt = parse_dvi_case(json.dumps(doc), "stored case")
    direct, stored = run_dvi_case(read_dvi_case(SMALL)), run_dvi_case(rebuilt)
    assert stored.pairwise.samples == direct.pairwise.samples
    assert stored.pairwise.missing == direct.pairwise.missing
    np.testing.assert_array_equal(stored.pairwise.log_lr, direct.pairwise.log_lr)
    stored_doc, direct_doc = stored.to_dict(), direct.to_dict()
    for key in ("pairwise", "solution", "joint"):
        assert stored_doc[key] == direct_doc[key]


def add_markers(db: Database, made: Programme2, name: str,
                markers: list[dict[str, object]]) -> MarkerDatabase:
    """A marker database of the programme holding ``markers`` (θ 0)."""
    with db.write() as s:
        store_marker_database(s, made.programme_id, name, "autosomal",
                              {"markers": markers, "theta": 0.0, "options": {}}, "test")
    with db.read() as s:
        return s.execute(select(MarkerDatabase).where(MarkerDatabase.name == name)).scalar_one()


def test_a_locus_spelled_otherwise_by_the_marker_database_is_the_same_locus(
        database: Database, programme: Programme2) -> None:
    run_import(database, programme, SMALL)
    respelled = {"PENTA_E": "Penta E", "TH01": "THO1"}
    case = json.loads(SMALL.read_text())
    chosen = add_markers(database, programme, "respelled", [
        {**m, "name": respelled.get(m["name"], m["name"])} for m in case["markers"]])
    with database.read() as s:
        doc = case_document(s, KEYS, programme.programme_id, chosen)
    assert undefined_markers(doc) == {}
    assert sorted(doc["samples"][0]["profile"]) == sorted(
        respelled.get(m, m) for m in case["samples"][0]["profile"])
    # the same results as the file with the two loci respelled in its text
    text = SMALL.read_text()
    for old, new in respelled.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    direct = run_dvi_case(parse_dvi_case(text, "respelled"))
    stored = run_dvi_case(parse_dvi_case(json.dumps(doc), "stored case"))
    np.testing.assert_array_equal(stored.pairwise.log_lr, direct.pairwise.log_lr)
    assert stored.to_dict()["solution"] == direct.to_dict()["solution"]


def test_the_typed_markers_a_marker_database_lacks_are_named_with_their_samples(
        database: Database, programme: Programme2) -> None:
    case = json.loads(SMALL.read_text())
    # V2 untyped at D21S11, F2's FA2 at CSF1PO: each marker has its own list of samples
    del case["samples"][1]["profile"]["D21S11"]
    del case["families"][1]["profiles"]["FA2"]["CSF1PO"]
    run_import(database, programme, SMALL, json.dumps(case).encode())
    lacking = ("CSF1PO", "D21S11")
    chosen = add_markers(database, programme, "partial",
                         [m for m in case["markers"] if m["name"] not in lacking])
    with database.read() as s:
        doc = case_document(s, KEYS, programme.programme_id, chosen)
    found = undefined_markers(doc)
    assert {m: sorted(codes) for m, codes in found.items()} == {
        "CSF1PO": ["F1:MO1", "F1:R1", "F3:R3", "U17", "U7", "V1", "V2", "V3"],
        "D21S11": ["F1:MO1", "F1:R1", "F2:FA2", "F3:R3", "U17", "U7", "V1", "V3"]}
    # as the file's own reader says: the first of them is not defined
    with pytest.raises(CaseFormatError, match=r"marker '(CSF1PO|D21S11)' is not defined"):
        parse_dvi_case(json.dumps(doc), "stored case")


def test_a_reimport_of_the_same_file_is_refused(database: Database,
                                                programme: Programme2) -> None:
    run_import(database, programme, SMALL)
    with pytest.raises(ImportRefused, match=r"this file was imported before \(as "
                                            r"'dvi_case.json' on \d{4}-\d\d-\d\d") as err:
        run_import(database, programme, SMALL)
    assert err.value.status == 409


def test_an_import_clashing_with_stored_families_stores_nothing(
        database: Database, programme: Programme2) -> None:
    run_import(database, programme, SMALL)
    before = counts(database)
    renamed = SMALL.read_bytes().replace(b'"title": "', b'"title": "again: ')
    with pytest.raises(ImportRefused, match="the programme already has families F1, F2, F3"):
        run_import(database, programme, SMALL, data=renamed)
    assert counts(database) == before


def test_a_broken_file_gives_the_readers_located_error_and_stores_nothing(
        database: Database, programme: Programme2) -> None:
    text = SMALL.read_text()
    broken = text.replace('"sex": 1', '"sex": 7', 1)
    with pytest.raises(ImportRefused, match=r"^dvi_case.json, line \d+, column \d+: field "
                                            r"'/samples/0/sex'"):
        run_import(database, programme, SMALL, data=broken.encode())
    cut = text[: len(text) // 2]
    with pytest.raises(ImportRefused, match=r"dvi_case.json, line \d+, column \d+: .*JSON"):
        run_import(database, programme, SMALL, data=cut.encode())
    assert counts(database) == dict.fromkeys(counts(database), 0)


def test_a_failure_after_rows_were_written_rolls_the_whole_import_back(
        database: Database, programme: Programme2) -> None:
    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted):
        with database.write() as s:
            import_case(s, KEYS, programme_id=programme.programme_id,
                        agency_id=programme.agencies["NFS-KR"],
                        user_id=programme.users[("NFS-KR", Role.ANALYST)],
                        data=SMALL.read_bytes(), filename=SMALL.name)
            assert s.execute(select(func.count(Sample.id))).scalar_one() > 0
            raise Interrupted
    assert counts(database) == dict.fromkeys(counts(database), 0)
