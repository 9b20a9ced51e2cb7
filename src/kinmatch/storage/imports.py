"""Imports: uploaded files of any format kinmatch reads, stored in a
programme in one transaction.

One import is one or more files, told apart by content
(:func:`kinmatch.formats.detect.detect_input`) and read by the library's
readers, so a problem gets the same located message (file, line, column,
field) as on the command line, with the file named as it was uploaded:

* a **DVI case** — kinmatch JSON (with the lineage database files it
  names, uploaded with it under the names it gives them) or a Familias DVI
  file — is stored whole, its markers as the marker database "markers of
  FILE";
* a **frequency database** (Familias text, long or wide table) becomes the
  marker database named after the file, every marker of it (X-STRs
  X-linked; Y-STRs and Amelogenin left out), with θ as given;
* **laboratory tables** — genotype tables (GeneMapper exports or wide
  tables) and pedigree tables (PED or PLINK ``.fam``) — are one DVI case
  together (:func:`kinmatch.formats.table_case.table_dvi_case`): a sample
  named like a person of a family is that relative's reference profile,
  every other sample remains; the missing persons are named by the caller;
  the frequencies come from a frequency database uploaded with the tables
  or one the programme has (named by the caller).

Every file is read and every row checked before anything is written, and
the caller's transaction holds the whole import: all files or none. Each
file's SHA-256 is recorded, so a file imported before (under any name) is
refused (409), as is a family, missing person or sample code the programme
has. An import told not to add marker databases (the service's policy
leaves that to analysts) takes laboratory tables naming a marker database
the programme has, and refuses frequency databases and DVI cases. The
readers' warnings (an off-ladder allele left untyped, say) come back with
the result: each import gets its own, even when several run at once
(:func:`kinmatch.errors.collected_warnings`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kinmatch.dvi.case import DVICase
from kinmatch.errors import KinmatchError, Location, collected_warnings
from kinmatch.formats.case_json import marker_to_dict
from kinmatch.formats.cases import read_dvi_case
from kinmatch.formats.detect import detect_input
from kinmatch.formats.dvi_json import dvi_case_to_dict
from kinmatch.formats.frequencies import read_frequency_database
from kinmatch.formats.lineage_json import case_input_paths
from kinmatch.formats.profiles import read_profiles
from kinmatch.formats.table_case import frequency_markers, read_pedigree_table, table_dvi_case
from kinmatch.markers import FrequencyDatabase
from kinmatch.pedigree import Pedigree
from kinmatch.storage.case_store import (
    CaseCounts,
    ImportRefused,
    content_hash,
    store_case,
    store_marker_database,
)
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import Family, ImportRecord, MarkerDatabase

#: what each kind of file becomes
CASE_KINDS = ("dvi-json", "familias")
TABLE_KINDS = ("genotypes", "ped", "plink-fam")
PEDIGREE_KINDS = ("ped", "plink-fam")
#: the kinds of file that bring marker databases
MARKER_DATABASE_KINDS = (*CASE_KINDS, "frequencies")


@dataclass(frozen=True)
class Upload:
    """A file as uploaded: its name (a relative path at most) and bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class TableOptions:
    """How laboratory tables become a case, and the θ of frequency databases.

    ``missing``: the ids of the missing persons in the pedigree tables;
    ``markers``: the frequency database of the tables — a frequency file of
    the same import (by its name) or a marker database of the programme
    (default: the one frequency file of the import); ``theta``: θ (F_ST) of
    the frequency databases imported."""

    missing: tuple[str, ...] = ()
    markers: str | None = None
    theta: float = 0.0


@dataclass(frozen=True)
class ImportedFile:
    filename: str
    format: str
    import_id: str
    part: str  # "case", "lineage database", "frequency database", "laboratory tables"


@dataclass(frozen=True)
class ImportResult:
    files: tuple[ImportedFile, ...]
    counts: CaseCounts
    marker_databases: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.files[0].import_id, **self.counts.as_dict(),
                "files": [f.__dict__ for f in self.files],
                "marker_database_names": list(self.marker_databases),
                "warnings": list(self.warnings)}


def upload_name(filename: str) -> str:
    """The name an uploaded file is read under: its relative path, so a
    case's ``lineage/y_database.tsv`` finds the file uploaded under that
    name; a path that climbs out (``..``) is refused."""
    parts = [p for p in PurePosixPath(filename.replace("\\", "/")).parts
             if p not in ("/", ".", "") and not p.endswith(":")]
    if ".." in parts:
        raise ImportRefused(f"{filename}: a file name may not climb out of its folder (..)")
    if not parts:
        raise ImportRefused("an uploaded file has no name")
    return "/".join(parts)


@dataclass
class _Reading:
    """The files of one import in a temporary folder, and what was read."""

    folder: Path
    names: tuple[str, ...]
    kinds: dict[str, str] = field(default_factory=dict)  # name -> kind, in upload order
    part_of: dict[str, str] = field(default_factory=dict)  # lineage file -> its case

    def path(self, name: str) -> Path:
        return self.folder / name

    def relative(self, text: str) -> str:
        return text.replace(f"{self.folder}/", "").replace(str(self.folder), "")

    def refused(self, err: KinmatchError, name: str | None = None) -> ImportRefused:
        """The reader's error with the file named as uploaded (``name``, when
        the error names none; a source that is not one file is named in the
        message)."""
        where = err.location
        file = self.relative(where.file) if where.file else name
        message = self.relative(err.message)
        if file is not None and file not in self.names:
            message, file = f"{file}: {message}", None
        return ImportRefused(message, 422, Location(file, where.line, where.column, where.field))

    @contextmanager
    def reading(self, name: str | None = None) -> Iterator[None]:
        try:
            yield
        except ImportRefused:
            raise
        except KinmatchError as err:
            raise self.refused(err, name) from None


def _plan(reading: _Reading, names: Sequence[str]) -> None:
    """The kind of every file; the lineage files a JSON case names are part
    of that case (they may hold anything, so they are not told apart)."""
    folder = reading.folder.resolve()
    for name in names:
        path = reading.path(name)
        if path.read_bytes().lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            for used in case_input_paths(path)[1:]:
                inside = used.resolve()
                if not inside.is_relative_to(folder):
                    # never a file of the server's own
                    raise ImportRefused(f"the case names the lineage database file "
                                        f"{reading.relative(str(used))}, "
                                        "outside the files of this import: upload it with the "
                                        "case, under a name relative to it", 422,
                                        Location(name, field="/lineage"))
                reading.part_of[inside.relative_to(folder).as_posix()] = name
    for name in names:
        if name in reading.part_of:
            continue
        with reading.reading(name):
            kind = detect_input(reading.path(name))
        if kind == "kinship-json":
            raise ImportRefused("this is a kinship case (one question about one person); a "
                                "programme holds DVI cases: import a DVI case, a Familias DVI "
                                "file or laboratory tables", 422, Location(name))
        if kind == "hypotheses-json":
            raise ImportRefused("this is a hypotheses file; a programme's families come from "
                                "DVI cases or pedigree tables", 422, Location(name))
        reading.kinds[name] = kind


def _case_document(reading: _Reading, name: str) -> dict[str, Any]:
    with reading.reading(name):
        case = read_dvi_case(reading.path(name))
    # lineage databases read from files are stored inline: the files are gone after the import
    case = replace(case, lineage=replace(case.lineage, sources={}))
    return dvi_case_to_dict(case)


def _frequency_document(reading: _Reading, name: str,
                        theta: float) -> tuple[FrequencyDatabase, dict[str, Any]]:
    with reading.reading(name):
        database = read_frequency_database(reading.path(name))
        markers = frequency_markers(database, source=str(reading.path(name)))
    return database, {"markers": [marker_to_dict(m) for m in markers], "theta": theta,
                      "options": {}}


def stored_frequencies(stored: MarkerDatabase) -> FrequencyDatabase:
    """A marker database of the programme as a frequency database."""
    database = FrequencyDatabase(stored.name)
    for marker in stored.document.get("markers", []):
        database.add(marker["name"], marker["alleles"], marker["frequencies"])
    return database


def _table_frequencies(session: Session, programme_id: str, options: TableOptions,
                       uploaded: dict[str, FrequencyDatabase]) -> tuple[FrequencyDatabase, str]:
    """The frequency database of the tables, and its name."""
    if options.markers is not None:
        if options.markers in uploaded:
            return uploaded[options.markers], options.markers
        stored = session.execute(select(MarkerDatabase).where(
            MarkerDatabase.programme_id == programme_id, MarkerDatabase.name == options.markers,
            MarkerDatabase.kind == "autosomal")).scalar_one_or_none()
        if stored is None:
            raise ImportRefused(f"markers '{options.markers}' is neither a frequency file of "
                                "this import nor a marker database of the programme")
        return stored_frequencies(stored), stored.name
    if len(uploaded) == 1:
        return next(iter(uploaded.items()))[::-1]
    if not uploaded:
        raise ImportRefused("laboratory tables need allele frequencies: upload a frequency "
                            "database with them, or name one the programme has (markers)")
    raise ImportRefused(f"{len(uploaded)} frequency databases were uploaded: name the one the "
                        f"tables use (markers: one of {', '.join(uploaded)})")


def _table_document(session: Session, reading: _Reading, programme_id: str,
                    options: TableOptions, tables: list[str],
                    uploaded: dict[str, FrequencyDatabase]) -> tuple[dict[str, Any], str]:
    """The DVI case of the laboratory tables, and the name of its marker database."""
    families: dict[str, Pedigree] = {}
    family_file: dict[str, str] = {}
    profiles = []
    for name in tables:
        with reading.reading(name):
            if reading.kinds[name] in PEDIGREE_KINDS:
                for family, pedigree in read_pedigree_table(reading.path(name)).items():
                    if family in families:
                        raise ImportRefused(f"family '{family}' is in {family_file[family]} "
                                            "too", 422, Location(name))
                    families[family], family_file[family] = pedigree, name
            else:
                profiles.append(read_profiles(reading.path(name)))
    if options.missing and not families:
        raise ImportRefused("missing persons are named in pedigree tables; this import has "
                            "none")
    database, markers = _table_frequencies(session, programme_id, options, uploaded)
    source = markers if markers in uploaded else f"the marker database '{markers}'"
    pedigree_files = sorted(set(family_file.values()))
    with reading.reading(", ".join(tables)):
        case = table_dvi_case(profiles, database, families, list(options.missing),
                              frequencies_source=source,
                              pedigree_source=", ".join(pedigree_files) or "<no pedigree>")
    _refuse_references_of_stored_families(session, programme_id, case)
    return dvi_case_to_dict(case), markers


def _refuse_references_of_stored_families(session: Session, programme_id: str,
                                          case: DVICase) -> None:
    """A sample named like a person of a family the programme already has
    would be taken for remains: refused, since it is most likely that
    relative's reference profile (which an import does not add to a stored
    family)."""
    names = {s.id for s in case.samples}
    if not names:
        return
    for family in session.execute(select(Family).where(
            Family.programme_id == programme_id)).scalars():
        found = sorted(names & {p["id"] for p in family.pedigree})
        if found:
            raise ImportRefused(
                f"sample '{found[0]}' is named like a person of the programme's family "
                f"'{family.code}': a reference profile of a stored family cannot be imported "
                "on its own; import the family's pedigree table with it (under a new family "
                "code), or rename the sample if it is remains")


class MarkerDatabasesRefused(ImportRefused):
    """The import brings marker databases (``files``) and the caller may not
    add them (403)."""

    def __init__(self, files: Sequence[str]) -> None:
        super().__init__(f"{', '.join(files)} would add marker databases to the programme "
                         "(a frequency database becomes one, and so do a DVI case's markers "
                         "and lineage databases)", 403, Location(files[0]))
        self.files = tuple(files)


def _refuse_files_imported_before(session: Session, programme_id: str, names: Sequence[str],
                                  digests: Sequence[str]) -> None:
    before = session.execute(select(ImportRecord).where(
        ImportRecord.programme_id == programme_id,
        ImportRecord.content_hash.in_(digests))).scalars().first()
    if before is not None:
        name = names[list(digests).index(before.content_hash)]
        raise ImportRefused(f"this file was imported before (as '{before.filename}' on "
                            f"{before.created_at:%Y-%m-%d %H:%M} UTC)", 409, Location(name))


def import_files(session: Session, keyring: Keyring, uploads: Sequence[Upload], *,
                 programme_id: str, agency_id: str, user_id: str,
                 options: TableOptions = TableOptions(),
                 add_marker_databases: bool = True) -> ImportResult:
    """Import ``uploads`` into a programme, owned by ``agency_id`` (see the
    module; everything in ``session``'s transaction: the caller commits or
    not). Without ``add_marker_databases`` an import that brings a marker
    database (a frequency database or a DVI case) is refused with
    :class:`MarkerDatabasesRefused` as soon as the files are told apart,
    before anything else is checked or read."""
    if not uploads:
        raise ImportRefused("no file to import")
    names = [upload_name(u.filename) for u in uploads]
    digests = [content_hash(u.data) for u in uploads]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ImportRefused(f"two files are named {name}")
        if digests[i] in digests[:i]:
            raise ImportRefused(f"{name} and {names[digests.index(digests[i])]} are the same "
                                "file", 409)
    with tempfile.TemporaryDirectory(prefix="kinmatch-import-") as folder, \
            collected_warnings() as caught:
        reading = _Reading(Path(folder), tuple(names))
        for name, upload in zip(names, uploads, strict=True):
            reading.path(name).parent.mkdir(parents=True, exist_ok=True)
            reading.path(name).write_bytes(upload.data)
        _plan(reading, names)
        bringing = [n for n, k in reading.kinds.items() if k in MARKER_DATABASE_KINDS]
        if bringing and not add_marker_databases:
            raise MarkerDatabasesRefused(bringing)
        _refuse_files_imported_before(session, programme_id, names, digests)
        # read every file before writing anything
        cases = {n: _case_document(reading, n) for n, k in reading.kinds.items()
                 if k in CASE_KINDS}
        frequencies = {n: _frequency_document(reading, n, options.theta)
                       for n, k in reading.kinds.items() if k == "frequencies"}
        tables = [n for n, k in reading.kinds.items() if k in TABLE_KINDS]
        table_case: tuple[dict[str, Any], str] | None = None
        if tables:
            table_case = _table_document(session, reading, programme_id, options, tables,
                                         {n: db for n, (db, _) in frequencies.items()})
        elif options.missing:
            raise ImportRefused("missing persons are named in pedigree tables; this import "
                                "has none")
        messages = [reading.relative(message) for message in caught]

    counts = CaseCounts()
    databases: list[str] = []  # the marker databases of what was imported
    part: dict[str, str] = {}
    for name, (_, document) in frequencies.items():
        _, new = store_marker_database(session, programme_id, name, "autosomal", document, name)
        counts += CaseCounts(marker_databases=int(new))
        databases.append(name)
        part[name] = "frequency database"
    for name, doc in cases.items():
        counts += store_case(session, keyring, doc, programme_id=programme_id,
                             agency_id=agency_id, source=name)
        databases += [f"markers of {name}"] + (
            [f"lineage databases of {name}"] if doc.get("lineage") else [])
        part[name] = "case"
    if table_case is not None:
        table_doc, table_markers = table_case
        databases.append(table_markers)
        counts += store_case(session, keyring, table_doc, programme_id=programme_id,
                             agency_id=agency_id, source=", ".join(tables),
                             store_markers=False)
        part.update(dict.fromkeys(tables, "laboratory tables"))
    part.update(dict.fromkeys(reading.part_of, "lineage database"))
    files = []
    for name, digest in zip(names, digests, strict=True):
        record = ImportRecord(programme_id=programme_id, filename=name[:400],
                              file_format=reading.kinds.get(name, "lineage"),
                              content_hash=digest, imported_by=user_id, agency_id=agency_id,
                              summary={"part": part[name], "files": names,
                                       **counts.as_dict()})
        session.add(record)
        session.flush()
        files.append(ImportedFile(name, record.file_format, record.id, part[name]))
    return ImportResult(tuple(files), counts, tuple(dict.fromkeys(databases)),
                        tuple(dict.fromkeys(messages)))


def import_case(session: Session, keyring: Keyring, *, programme_id: str, agency_id: str,
                user_id: str, data: bytes, filename: str) -> ImportResult:
    """Import one file (see :func:`import_files`)."""
    return import_files(session, keyring, [Upload(filename, data)], programme_id=programme_id,
                        agency_id=agency_id, user_id=user_id)


def read_uploaded_case(data: bytes, filename: str) -> dict[str, Any]:
    """The DVI case in one uploaded file, as a version-1 document (lineage
    databases inline); errors name the file as uploaded."""
    name = upload_name(filename)
    with tempfile.TemporaryDirectory(prefix="kinmatch-import-") as folder:
        reading = _Reading(Path(folder), (name,))
        reading.path(name).parent.mkdir(parents=True, exist_ok=True)
        reading.path(name).write_bytes(data)
        return _case_document(reading, name)
