"""A programme's case in the database: stored from a DVI case document,
and assembled back into one for an analysis.

What is stored where (see :mod:`kinmatch.storage.models`): each family's
pedigree and missing persons plainly; each typed relative's profile as a
sealed reference sample linked to the relative; each remains sample's
profile sealed; the markers (with θ and the reading options) and the
lineage databases as marker databases. :func:`case_document` puts them back
together as a ``kinmatch-dvi-case`` document, the input of an analysis,
with the markers of one marker database: a profile's locus spelled
otherwise than in that database (``PENTA_E``, ``Penta E``) takes the
database's spelling, and :func:`undefined_markers` names the typed markers
the database lacks (an analysis is refused rather than run without them).
Files are read into documents by :mod:`kinmatch.storage.imports`; nothing
here commits: the caller's transaction holds the whole import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinmatch.errors import KinmatchError, Location
from kinmatch.formats.dvi_json import DVI_FORMAT_NAME
from kinmatch.formats.marker_names import canonical_marker_name
from kinmatch.storage.encryption import Keyring, sealed_place
from kinmatch.storage.models import (
    Family,
    FamilyMissingPerson,
    ImportRecord,
    MarkerDatabase,
    MissingPerson,
    Relative,
    Sample,
    SampleKind,
    new_id,
)

SEX_NAMES = {0: "unknown", 1: "male", 2: "female"}
SEX_CODES = {name: code for code, name in SEX_NAMES.items()}
#: the per-sample fields kept in a sealed profile
PROFILE_FIELDS = ("profile", "dropout", "dropin", "y_haplotype", "mtdna")


class ImportRefused(KinmatchError):
    """The file cannot be imported: unreadable, imported before, or clashing
    with what the programme holds. ``status`` is the HTTP status to answer;
    ``location`` names the file (as uploaded), line, column and field."""

    def __init__(self, message: str, status: int = 422,
                 location: Location | None = None) -> None:
        super().__init__(message, location)
        self.status = status


def seal_profile(keyring: Keyring, sample: Sample, profile: dict[str, Any]) -> None:
    sample.profile_sealed = keyring.seal(profile, sealed_place("samples", sample.id,
                                                               "profile"))


def open_profile(keyring: Keyring, sample: Sample) -> dict[str, Any] | None:
    if sample.profile_sealed is None:
        return None
    value: dict[str, Any] = keyring.open(sample.profile_sealed,
                                         sealed_place("samples", sample.id, "profile"))
    return value


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CaseCounts:
    """What a case document added to a programme."""

    missing_persons: int = 0
    families: int = 0
    relatives: int = 0
    reference_samples: int = 0
    remains: int = 0
    marker_databases: int = 0

    def __add__(self, other: CaseCounts) -> CaseCounts:
        return CaseCounts(*(getattr(self, f.name) + getattr(other, f.name)
                            for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ImportSummary:
    import_id: str
    missing_persons: int
    families: int
    relatives: int
    reference_samples: int
    remains: int
    marker_databases: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of(cls, import_id: str, counts: CaseCounts) -> ImportSummary:
        return cls(import_id, **counts.as_dict())


def _clash(session: Session, model: Any, programme_id: str, codes: Iterable[str],
           what: str) -> None:
    codes = list(codes)
    if not codes:
        return
    taken = session.execute(select(model.code).where(
        model.programme_id == programme_id, model.code.in_(codes))).scalars().all()
    if taken:
        shown = ", ".join(sorted(taken)[:5])
        raise ImportRefused(f"the programme already has {what} {shown}"
                            + (f" and {len(taken) - 5} more" if len(taken) > 5 else ""), 409)


def store_marker_database(session: Session, programme_id: str, name: str, kind: str,
                          document: Any, source: str) -> tuple[MarkerDatabase, bool]:
    """The marker database ``name`` of the programme holding ``document``:
    added (``True``), or found with the same content (``False``); another
    content under that name is refused (409)."""
    digest = content_hash(repr(document).encode())
    found = session.execute(select(MarkerDatabase).where(
        MarkerDatabase.programme_id == programme_id,
        MarkerDatabase.name == name)).scalar_one_or_none()
    if found is not None:
        if found.content_hash != digest:
            raise ImportRefused(f"the programme has another marker database named '{name}'",
                                409)
        return found, False
    db = MarkerDatabase(programme_id=programme_id, name=name, kind=kind,
                        content_hash=digest, document=document, source=source)
    session.add(db)
    return db, True


def store_case(session: Session, keyring: Keyring, doc: dict[str, Any], *,
               programme_id: str, agency_id: str, source: str,
               markers_name: str | None = None, lineage_name: str | None = None,
               store_markers: bool = True) -> CaseCounts:
    """Store a DVI case document (``kinmatch-dvi-case``, version 1) read from
    ``source`` in a programme, owned by ``agency_id``. Its markers go into
    the marker database ``markers_name`` (default: "markers of SOURCE"),
    unless ``store_markers`` is false (the markers came from a database the
    programme has or gets otherwise); its lineage databases into
    ``lineage_name`` (default: "lineage databases of SOURCE"). A family,
    missing person or sample code the programme already has is refused (409)."""
    _clash(session, Family, programme_id, (f["name"] for f in doc["families"]), "families")
    _clash(session, MissingPerson, programme_id,
           (m for f in doc["families"] for m in f["missing"]), "missing persons")
    _clash(session, Sample, programme_id, (s["id"] for s in doc["samples"]), "samples")
    _clash(session, Sample, programme_id,
           (f"{f['name']}:{pid}" for f in doc["families"] for pid in _typed(f)), "samples")

    created = 0
    if store_markers:
        marker_doc = {"markers": doc["markers"], "theta": doc.get("theta", 0.0),
                      "options": doc.get("options", {})}
        _, new = store_marker_database(session, programme_id,
                                       markers_name or f"markers of {source}", "autosomal",
                                       marker_doc, source)
        created += new
    if doc.get("lineage"):
        _, new = store_marker_database(session, programme_id,
                                       lineage_name or f"lineage databases of {source}",
                                       "lineage", doc["lineage"], source)
        created += new

    # ids are made here, so the rows are written in one flush at the end
    rows: list[Any] = []
    n_relatives = n_references = 0
    family_position = _next_position(session, Family, programme_id)
    sample_position = _next_position(session, Sample, programme_id)
    for fam in doc["families"]:
        family_position += 1
        family = Family(id=new_id(), programme_id=programme_id, code=fam["name"],
                        position=family_position,
                        owner_agency_id=agency_id, pedigree=fam["pedigree"],
                        missing=list(fam["missing"]),
                        details={k: fam[k] for k in ("founder_inbreeding",) if k in fam})
        rows.append(family)
        sexes = {p["id"]: int(p.get("sex", 0)) for p in fam["pedigree"]}
        typed = _typed(fam)
        for pid in fam["missing"]:
            person = MissingPerson(id=new_id(), programme_id=programme_id, code=pid,
                                   owner_agency_id=agency_id, sex=SEX_NAMES[sexes[pid]],
                                   status="donors_sampled" if typed else "no_donor")
            rows += [person, FamilyMissingPerson(family_id=family.id, pedigree_id=pid,
                                                 missing_person_id=person.id)]
        deceased = set(fam.get("deceased", ()))
        for pid in sorted(typed | deceased):
            relative = Relative(id=new_id(), family_id=family.id, pedigree_id=pid,
                                deceased=pid in deceased)
            rows.append(relative)
            n_relatives += 1
            if pid not in typed:
                continue
            sample_position += 1
            sample = Sample(id=new_id(), programme_id=programme_id, position=sample_position,
                            code=f"{fam['name']}:{pid}", kind=SampleKind.REFERENCE,
                            owner_agency_id=agency_id, relative_id=relative.id,
                            sex=SEX_NAMES[sexes[pid]])
            seal_profile(keyring, sample, _relative_profile(fam, pid))
            rows.append(sample)
            n_references += 1
    for s in doc["samples"]:
        sample_position += 1
        sample = Sample(id=new_id(), programme_id=programme_id, position=sample_position,
                        code=s["id"],
                        kind=SampleKind.REMAINS, owner_agency_id=agency_id,
                        sex=SEX_NAMES[int(s.get("sex", 0))])
        seal_profile(keyring, sample, {k: s[k] for k in PROFILE_FIELDS if k in s})
        rows.append(sample)
    session.add_all(rows)
    session.flush()
    return CaseCounts(sum(len(f["missing"]) for f in doc["families"]), len(doc["families"]),
                      n_relatives, n_references, len(doc["samples"]), created)


def import_document(session: Session, keyring: Keyring, doc: dict[str, Any], *,
                    programme_id: str, agency_id: str, user_id: str, filename: str,
                    digest: str, markers_name: str | None = None,
                    lineage_name: str | None = None) -> ImportSummary:
    """Store a DVI case document (:func:`store_case`) and record its import
    as one file named ``filename`` whose content has the SHA-256 ``digest``."""
    counts = store_case(session, keyring, doc, programme_id=programme_id, agency_id=agency_id,
                        source=filename, markers_name=markers_name, lineage_name=lineage_name)
    record = ImportRecord(programme_id=programme_id, filename=filename, file_format="dvi-case",
                          content_hash=digest, imported_by=user_id, agency_id=agency_id)
    session.add(record)
    session.flush()
    summary = ImportSummary.of(record.id, counts)
    record.summary = summary.as_dict()
    return summary


def _next_position(session: Session, model: Any, programme_id: str) -> int:
    last = session.execute(select(func.max(model.position)).where(
        model.programme_id == programme_id)).scalar_one_or_none()
    return int(last or 0)


def _typed(fam: dict[str, Any]) -> set[str]:
    return (set(fam.get("profiles", {})) | set(fam.get("y_haplotypes", {}))
            | set(fam.get("mtdna_profiles", {})))


def _relative_profile(fam: dict[str, Any], pid: str) -> dict[str, Any]:
    out: dict[str, Any] = {"profile": fam.get("profiles", {}).get(pid, {})}
    for key, field in (("dropout", "dropout"), ("dropin", "dropin"),
                       ("y_haplotypes", "y_haplotype"), ("mtdna_profiles", "mtdna")):
        if pid in fam.get(key, {}):
            out[field] = fam[key][pid]
    return out


def case_document(session: Session, keyring: Keyring, programme_id: str,
                  markers: MarkerDatabase, lineage: MarkerDatabase | None = None,
                  title: str = "") -> dict[str, Any]:
    """The programme's case as a ``kinmatch-dvi-case`` document: every
    remains sample, every family with the profiles of its relatives (a
    relative whose consent was withdrawn has none left)."""
    doc: dict[str, Any] = {"format": DVI_FORMAT_NAME, "version": 1}
    if title:
        doc["title"] = title
    doc["theta"] = markers.document.get("theta", 0.0)
    if markers.document.get("options"):
        doc["options"] = markers.document["options"]
    doc["markers"] = markers.document["markers"]
    samples = session.execute(select(Sample).where(
        Sample.programme_id == programme_id).order_by(Sample.position, Sample.code)).scalars()
    remains: list[dict[str, Any]] = []
    references: dict[str, dict[str, Any]] = {}
    for sample in samples:
        profile = open_profile(keyring, sample)
        if profile is None:
            continue
        if sample.kind is SampleKind.REMAINS:
            remains.append({"id": sample.code, "sex": SEX_CODES[sample.sex], **profile})
        elif sample.relative_id is not None:
            references[sample.relative_id] = profile
    doc["samples"] = remains
    families = []
    for family in session.execute(select(Family).where(
            Family.programme_id == programme_id).order_by(Family.position,
                                                          Family.code)).scalars():
        entry: dict[str, Any] = {"name": family.code, "pedigree": family.pedigree,
                                 "missing": family.missing, **family.details}
        parts: dict[str, dict[str, Any]] = {"profiles": {}, "dropout": {}, "dropin": {},
                                            "y_haplotypes": {}, "mtdna_profiles": {}}
        deceased = []
        for relative in family.relatives:
            if relative.deceased:
                deceased.append(relative.pedigree_id)
            profile = references.get(relative.id)
            if profile is None:
                continue
            pid = relative.pedigree_id
            if profile.get("profile"):
                parts["profiles"][pid] = profile["profile"]
            for key, field in (("dropout", "dropout"), ("dropin", "dropin"),
                               ("y_haplotypes", "y_haplotype"), ("mtdna_profiles", "mtdna")):
                if field in profile:
                    parts[key][pid] = profile[field]
        entry["profiles"] = parts.pop("profiles")
        entry.update({k: v for k, v in parts.items() if v})
        if deceased:
            entry["deceased"] = sorted(deceased)
        families.append(entry)
    doc["families"] = families
    if lineage is not None:
        doc["lineage"] = lineage.document
    _spell_as_the_markers(doc)
    return doc


def _profiles(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(sample code, autosomal profile) of every remains and reference
    sample of a case document (references as ``FAMILY:PERSON``)."""
    for sample in doc["samples"]:
        yield sample["id"], sample.get("profile", {})
    for family in doc["families"]:
        for pid, profile in family.get("profiles", {}).items():
            yield f"{family['name']}:{pid}", profile


def _marker_key(name: str) -> str:
    try:
        return canonical_marker_name(name)
    except KinmatchError:  # an ambiguous shorthand: only its own spelling matches it
        return name


def _spell_as_the_markers(doc: dict[str, Any]) -> None:
    """Name each profile's markers as the document's markers do when they
    are the same locus spelled otherwise (``PENTA_E`` and ``Penta E``,
    ``THO1`` and ``TH01``: :func:`kinmatch.formats.marker_names.canonical_marker_name`),
    in place; a spelling two of the markers share is left as it is."""
    names = [m["name"] for m in doc["markers"]]
    keys: dict[str, list[str]] = {}
    for name in names:
        keys.setdefault(_marker_key(name), []).append(name)
    known = set(names)
    for _, profile in _profiles(doc):
        for marker in [m for m in profile if m not in known]:
            same = keys.get(_marker_key(marker), [])
            if len(same) == 1 and same[0] not in profile:
                profile[same[0]] = profile.pop(marker)


def undefined_markers(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The markers typed in a case document's profiles that its markers
    (the marker database) lack, each with the samples typed at it (codes:
    remains by name, reference samples ``FAMILY:PERSON``); empty when every
    typed marker has its frequencies."""
    known = {m["name"] for m in doc["markers"]}
    missing: dict[str, list[str]] = {}
    for code, profile in _profiles(doc):
        for marker in profile:
            if marker not in known:
                missing.setdefault(marker, []).append(code)
    return dict(sorted(missing.items()))
