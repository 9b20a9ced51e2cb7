"""Imports of every format kinmatch reads into a programme, on SQLite and
PostgreSQL: GeneMapper exports with pedigree tables, frequency databases,
JSON and Familias DVI cases (with their lineage files); several files in
one import, all or nothing; each file's reader error located in the file
as uploaded; a file imported before refused.

The shipped example files are imported as they are and as a broken copy
each. What a stored case gives is checked against the library reading the
same files by another road (the kinship case of ``kinmatch convert``'s
tables, the frequency readers, the DVI case readers).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shared_case import Programme2, make_programme
from sqlalchemy import func, select
from support import DATA, EXAMPLES, FORMATS, quietly, shared_reference_path

from kinmatch.dvi.pipeline import run_dvi_case
from kinmatch.formats.cases import read_dvi_case
from kinmatch.formats.dvi_json import parse_dvi_case
from kinmatch.formats.frequencies import read_frequency_database
from kinmatch.formats.profiles import read_profiles
from kinmatch.formats.table_case import read_table_case
from kinmatch.kinship.analysis import analyse_kinship_case
from kinmatch.storage import imports
from kinmatch.storage.case_store import ImportRefused, case_document
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.imports import ImportResult, TableOptions, Upload, import_files
from kinmatch.storage.models import (
    Family,
    ImportRecord,
    MarkerDatabase,
    MissingPerson,
    Relative,
    Role,
    Sample,
)

KEYS = Keyring.generate()
GENEMAPPER = FORMATS / "genemapper_export.txt"
PEDIGREE = FORMATS / "missing_son.ped"
FREQUENCIES = FORMATS / "frequencies_familias.txt"
FAMILIAS_DVI = DATA / "familias" / "synthetic_dvi.fam"
LINEAGE_CASE = EXAMPLES / "dvi_case_lineage.json"
MISSING = ("Missing-Son",)


@pytest.fixture
def programme(database: Database) -> Programme2:
    with database.write() as s:
        return make_programme(s)


def upload(path: Path, name: str | None = None, data: bytes | None = None) -> Upload:
    return Upload(name or path.name, path.read_bytes() if data is None else data)


def run(db: Database, made: Programme2, files: Sequence[Upload], **options: object
        ) -> ImportResult:
    with db.write() as s:
        return import_files(s, KEYS, files, programme_id=made.programme_id,
                            agency_id=made.agencies["NFS-KR"],
                            user_id=made.users[("NFS-KR", Role.ANALYST)],
                            options=TableOptions(**options))  # type: ignore[arg-type]


def counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Family, MissingPerson, Relative, Sample, MarkerDatabase, ImportRecord)}


NOTHING = dict.fromkeys(("families", "missing_persons", "relatives", "samples",
                         "marker_databases", "imports"), 0)


def stored_case(db: Database, made: Programme2, markers: str, lineage: str | None = None
                ) -> dict[str, object]:
    with db.read() as s:
        found = {m.name: m for m in s.execute(select(MarkerDatabase)).scalars()}
        return case_document(s, KEYS, made.programme_id, found[markers],
                             found[lineage] if lineage else None)


def refused(db: Database, made: Programme2, files: Sequence[Upload], **options: object
            ) -> ImportRefused:
    before = counts(db)
    with pytest.raises(ImportRefused) as err:
        run(db, made, files, **options)
    assert counts(db) == before  # all or nothing
    return err.value


def test_genemapper_export_with_a_pedigree_table_and_frequencies(
        database: Database, programme: Programme2) -> None:
    result = run(database, programme, [upload(GENEMAPPER), upload(PEDIGREE),
                                       upload(FREQUENCIES)], missing=MISSING)
    assert [(f.filename, f.format, f.part) for f in result.files] == [
        ("genemapper_export.txt", "genotypes", "laboratory tables"),
        ("missing_son.ped", "ped", "laboratory tables"),
        ("frequencies_familias.txt", "frequencies", "frequency database")]
    # the export's two references are the pedigree's relatives, its third sample remains
    assert result.counts.as_dict() == {"missing_persons": 1, "families": 1, "relatives": 2,
                                       "reference_samples": 2, "remains": 1,
                                       "marker_databases": 1}
    assert result.marker_databases == ("frequencies_familias.txt",)
    # the off-ladder allele is reported, located in the file as uploaded
    assert result.warnings == (
        "genemapper_export.txt, line 30, column 6: field 'Allele 1': sample 'UHR-2024-007', "
        "marker D8S1179: off-ladder allele (OL), which could not be designated; the marker is "
        "left untyped for this sample",)
    with database.read() as s:
        codes = sorted(s.execute(select(Sample.code)).scalars())
    assert codes == ["UHR-2024-007", "missing_son:Ref-Brother-02", "missing_son:Ref-Mother-01"]
    # the stored case's LR is the kinship LR of the same tables read as `kinmatch convert` does
    doc = stored_case(database, programme, "frequencies_familias.txt")
    dvi = quietly(run_dvi_case, parse_dvi_case(json.dumps(doc), "stored"))
    kinship = quietly(read_table_case, GENEMAPPER, FREQUENCIES, pedigree=PEDIGREE,
                    missing="Missing-Son", poi="UHR-2024-007")
    loglik = analyse_kinship_case(kinship).result.loglik
    assert tuple(dvi.pairwise.samples) == ("UHR-2024-007",)
    np.testing.assert_allclose(dvi.pairwise.log_lr[0, 0], loglik[0].sum() - loglik[1].sum(),
                               rtol=1e-12)


def test_concurrent_imports_each_get_their_own_warnings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two imports read at the same moment in two threads (into two SQLite
    databases, so neither waits for the other's write lock): each returns
    its own reader's warning and no other. The readers are held at a
    barrier until both imports are inside their collection of warnings, the
    moment at which a process-wide capture (``warnings.catch_warnings``)
    hands both warnings to the import that began last."""
    barrier = threading.Barrier(2, timeout=60)

    def read_together(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return read_profiles(*args, **kwargs)

    monkeypatch.setattr(imports, "read_profiles", read_together)
    sample = {"first": b"UHR-2024-007", "second": b"UHR-2024-907"}
    results: dict[str, ImportResult] = {}
    failures: list[BaseException] = []
    databases = {}
    for name in sample:  # Alembic's migration context is process-wide: one at a time
        db = databases[name] = Database.open(data_folder=tmp_path / name, check_schema=False)
        db.upgrade()

    def one_import(name: str) -> None:
        db = databases[name]
        try:
            with db.write() as s:
                made = make_programme(s)
            export = GENEMAPPER.read_bytes().replace(b"UHR-2024-007", sample[name])
            results[name] = run(db, made, [Upload(f"{name}.txt", export), upload(PEDIGREE),
                                           upload(FREQUENCIES)], missing=MISSING)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=one_import, args=(name,)) for name in sample]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for db in databases.values():
        db.dispose()
    assert failures == []
    for name, code in sample.items():
        assert results[name].warnings == (
            f"{name}.txt, line 30, column 6: field 'Allele 1': sample '{code.decode()}', "
            "marker D8S1179: off-ladder allele (OL), which could not be designated; the "
            "marker is left untyped for this sample",)


def test_tables_use_a_frequency_database_the_programme_has(
        database: Database, programme: Programme2) -> None:
    run(database, programme, [upload(FREQUENCIES, "NorSTR-like.txt")], theta=0.01)
    refusal = refused(database, programme, [upload(GENEMAPPER), upload(PEDIGREE)],
                      missing=MISSING)
    assert str(refusal).startswith("laboratory tables need allele frequencies")
    result = run(database, programme, [upload(GENEMAPPER), upload(PEDIGREE)], missing=MISSING,
                 markers="NorSTR-like.txt")
    assert (result.counts.families, result.counts.remains, result.counts.marker_databases,
            result.marker_databases) == (1, 1, 0, ("NorSTR-like.txt",))
    doc = stored_case(database, programme, "NorSTR-like.txt")
    assert doc["theta"] == 0.01


@pytest.mark.parametrize("path", [FORMATS / "frequencies_familias.txt",
                                  FORMATS / "frequencies_long.csv",
                                  FORMATS / "frequencies_wide.csv"], ids=lambda p: p.name)
def test_a_frequency_database_becomes_a_marker_database(
        database: Database, programme: Programme2, path: Path) -> None:
    result = run(database, programme, [upload(path)])
    assert (result.counts.marker_databases, result.files[0].format) == (1, "frequencies")
    with database.read() as s:
        stored = s.execute(select(MarkerDatabase)).scalar_one()
        name, kind, document = stored.name, stored.kind, stored.document
    read = read_frequency_database(path)
    assert (name, kind) == (path.name, "autosomal")
    assert [m["name"] for m in document["markers"]] == read.marker_names
    for marker in document["markers"]:
        alleles, frequencies = read.frequencies[marker["name"]]
        assert marker["alleles"] == list(alleles)
        np.testing.assert_allclose(marker["frequencies"], frequencies, rtol=0, atol=1e-15)
    assert refused(database, programme, [upload(path, "renamed")]).status == 409


def test_a_familias_dvi_file(database: Database, programme: Programme2) -> None:
    result = run(database, programme, [upload(FAMILIAS_DVI)])
    case = quietly(read_dvi_case, FAMILIAS_DVI)
    assert (result.counts.families, result.counts.remains, result.counts.reference_samples
            ) == (len(case.families), len(case.samples),
                  sum(len(f.profiles) for f in case.families))
    doc = stored_case(database, programme, f"markers of {FAMILIAS_DVI.name}")
    stored = quietly(run_dvi_case, parse_dvi_case(json.dumps(doc), "stored"))
    np.testing.assert_array_equal(stored.pairwise.log_lr,
                                  quietly(run_dvi_case, case).pairwise.log_lr)


def test_a_familias_dvi_file_from_familias_itself(database: Database,
                                                  programme: Programme2) -> None:
    path = shared_reference_path("familias-files/planecrash.fam", "Familias' own files")
    result = run(database, programme, [upload(path)])
    case = quietly(read_dvi_case, path)
    assert (result.counts.families, result.counts.remains) == (len(case.families),
                                                                len(case.samples))


def test_a_json_case_with_its_lineage_files(database: Database, programme: Programme2) -> None:
    named = json.loads(LINEAGE_CASE.read_text())["lineage"]
    files = [upload(LINEAGE_CASE)] + [upload(LINEAGE_CASE.parent / p, p)
                                      for p in named.values()]
    result = run(database, programme, files)
    assert [f.part for f in result.files] == ["case"] + ["lineage database"] * len(named)
    # the lineage databases are stored inline (the uploaded files are gone), and the
    # stored case gives the file's results
    doc = stored_case(database, programme, f"markers of {LINEAGE_CASE.name}",
                      f"lineage databases of {LINEAGE_CASE.name}")
    assert all(isinstance(v, dict | list) for v in doc["lineage"].values())  # type: ignore[union-attr]
    stored = quietly(run_dvi_case, parse_dvi_case(json.dumps(doc), "stored"))
    direct = quietly(run_dvi_case, read_dvi_case(LINEAGE_CASE))
    np.testing.assert_array_equal(stored.pairwise.log_lr, direct.pairwise.log_lr)
    assert stored.to_dict()["solution"] == direct.to_dict()["solution"]
    # without its files the case is refused, naming the file it lacks
    again = LINEAGE_CASE.read_bytes().replace(b'"title": "', b'"title": "again ')
    refusal = refused(database, programme, [upload(LINEAGE_CASE, "alone.json", again)])
    assert (refusal.location.file, refusal.location.field) == ("alone.json", "/lineage/y_loci")
    assert refusal.message.endswith("lineage/yfiler_plus_rates.tsv: file not found")
    # nor may it name a file of the server's own
    for outside in (str(LINEAGE_CASE.parent / named["y_loci"]), "../../etc/hostname"):
        elsewhere = again.replace(named["y_loci"].encode(), outside.encode())
        refusal = refused(database, programme, [upload(LINEAGE_CASE, "outside.json", elsewhere)])
        assert (refusal.location.file, refusal.location.field) == ("outside.json", "/lineage")
        assert refusal.message.startswith(f"the case names the lineage database file {outside}")


def genemapper_with_three_alleles() -> tuple[bytes, int]:
    lines = GENEMAPPER.read_bytes().split(b"\r\n")
    row = next(i for i, line in enumerate(lines)
               if line.startswith(b"UHR-2024-007\t") and b"\tvWA\t" in line)
    cells = lines[row].split(b"\t")
    cells[5:8] = [b"17", b"18", b"19"]
    lines[row] = b"\t".join(cells)
    return b"\r\n".join(lines), row + 1


def test_a_broken_copy_of_each_format_is_refused_where_it_breaks(
        database: Database, programme: Programme2) -> None:
    broken_export, line = genemapper_with_three_alleles()
    tables = {"genemapper_export.txt": GENEMAPPER.read_bytes(),
              "missing_son.ped": PEDIGREE.read_bytes(),
              "frequencies_familias.txt": FREQUENCIES.read_bytes()}

    def with_broken(name: str, data: bytes) -> list[Upload]:
        return [Upload(n, data if n == name else d) for n, d in tables.items()]

    err = refused(database, programme, with_broken("genemapper_export.txt", broken_export),
                  missing=MISSING)
    assert (err.location.file, err.location.line, err.location.field) == (
        "genemapper_export.txt", line, "Allele 1")
    assert "3 alleles (17, 18, 19) for sample 'UHR-2024-007' at marker vWA" in err.message
    male_mother = PEDIGREE.read_text().replace("Ref-Mother-01\t0\t0\t2", "Ref-Mother-01\t0\t0\t1")
    err = refused(database, programme, with_broken("missing_son.ped", male_mother.encode()),
                  missing=MISSING)
    assert (err.location.file, err.location.line, err.location.field) == (
        "missing_son.ped", 4, "mother")
    assert "a mother must be female" in err.message
    too_much = FREQUENCIES.read_text().replace("15\t0.27", "15\t0.37")
    err = refused(database, programme,
                  with_broken("frequencies_familias.txt", too_much.encode()), missing=MISSING)
    assert (err.location.file, err.location.field) == ("frequencies_familias.txt", "D3S1358")
    assert "allele frequencies sum to 1.1" in err.message
    err = refused(database, programme, [upload(FAMILIAS_DVI, data=FAMILIAS_DVI.read_bytes()[:700])])
    assert (err.location.file, err.location.line) == (FAMILIAS_DVI.name, 67)
    text = (EXAMPLES / "dvi_case.json").read_text()
    err = refused(database, programme, [Upload("case.json", text.replace('"sex": 1', '"sex": 7',
                                                                         1).encode())])
    assert (err.location.file, err.location.field) == ("case.json", "/samples/0/sex")
    assert counts(database) == NOTHING


def test_several_files_are_imported_all_or_nothing(database: Database,
                                                   programme: Programme2) -> None:
    broken_export, _ = genemapper_with_three_alleles()
    files = [upload(EXAMPLES / "dvi_case.json"), upload(FREQUENCIES),
             Upload("genemapper_export.txt", broken_export), upload(PEDIGREE)]
    refused(database, programme, files, missing=MISSING)
    assert counts(database) == NOTHING
    files[2] = upload(GENEMAPPER)
    result = run(database, programme, files, missing=MISSING)
    assert result.counts.families == 3 + 1 and result.counts.marker_databases == 2
    assert counts(database)["imports"] == 4
    # each file is known again, under any name
    err = refused(database, programme, [upload(GENEMAPPER, "again.txt"), upload(PEDIGREE,
                                                                                 "p.ped")])
    assert err.status == 409 and err.location.file == "again.txt"
    assert "imported before (as 'genemapper_export.txt'" in err.message


def test_what_cannot_be_imported(database: Database, programme: Programme2) -> None:
    tables = [upload(GENEMAPPER), upload(PEDIGREE), upload(FREQUENCIES)]
    for options, words in [
            ({}, "family missing_son has no missing person"),
            ({"missing": ("Nobody",)}, "the missing person 'Nobody' is in no pedigree"),
            ({"missing": MISSING, "markers": "nothing stored"},
             "markers 'nothing stored' is neither a frequency file")]:
        assert words in str(refused(database, programme, tables, **options))
    assert "a kinship case" in str(refused(database, programme,
                                           [upload(EXAMPLES / "paternity.json")]))
    assert "climb out" in str(refused(database, programme, [upload(PEDIGREE, "../x.ped")]))
    assert "two files are named" in str(refused(database, programme,
                                                [upload(PEDIGREE), upload(GENEMAPPER,
                                                                          PEDIGREE.name)]))
    same = refused(database, programme, [upload(PEDIGREE), upload(PEDIGREE, "copy.ped")])
    assert same.status == 409 and "are the same file" in same.message
    # a sample named like a person of a stored family is not taken for remains
    run(database, programme, tables, missing=MISSING)
    renamed = GENEMAPPER.read_bytes().replace(b"UHR-2024-007", b"UHR-2024-107")
    err = refused(database, programme, [Upload("more.txt", renamed)],
                  markers=FREQUENCIES.name)
    assert "named like a person of the programme's family 'missing_son'" in err.message
