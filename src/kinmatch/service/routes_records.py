"""The records people keep about a case: the personal data of families and
their relatives, and the metadata of samples.

* A **family's personal record** (its name in Hangul, Kanji and Latin
  script, where it comes from, how to reach it) and each **relative's**
  (names, birth year, relationship to the missing person in the family's
  words, contact, date of death) are sealed at rest like a missing person's,
  read only as the policy allows personal data (the owning agency, or every
  agency with the family's consent to share; observers never), and every
  read is audited. Whether a relative has died is part of the pedigree's
  shape (the analyses never propose the dead as donors) and is kept plainly.
* A **sample's metadata** — remains: bone element, recovery site and date;
  reference samples: sample type and collection date; both: laboratory,
  kit and per-locus quality — is what the programme shares: plain, seen
  by every member, not audited when read.

Every record is edited with the version read (optimistic locking: an edit
made on an older version gets 409 Conflict), by the owning agency's
analysts and administrators; every edit is audited with the hashes of the
record before and after.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kinmatch.errors import KinmatchError
from kinmatch.formats.marker_names import canonical_marker_name
from kinmatch.pedigree import pedigree_from_records
from kinmatch.relationships import describe_relationship
from kinmatch.service.access import (
    State,
    Who,
    authorize,
    guarded,
    programme_or_404,
)
from kinmatch.service.policy import Action, Kind
from kinmatch.service.routes_case import (
    conflict,
    family_resource,
    open_personal,
    row_or_404,
    sample_resource,
    seal_personal,
)
from kinmatch.storage.audit import record
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import Agency, Family, Relative, Sample, SampleKind, new_id

router = APIRouter(prefix="/api/programmes", tags=["records"])


VERSION = "the version read; an older one gets 409 Conflict"


class FamilyRecord(BaseModel):
    """A family's personal record (all optional)."""

    version: int = Field(description=VERSION)
    name_hangul: str | None = Field(None, description="the family name in Hangul")
    name_kanji: str | None = Field(None, description="the family name in Kanji")
    name_latin: str | None = Field(None, description="the family name in Latin script")
    origin: str | None = Field(None, description="home village or region")
    contact: str | None = Field(None, description="how to reach the family: the contact "
                                                  "person, address, telephone, e-mail")
    notes: str | None = None


class RelativeRecord(BaseModel):
    """A relative's personal record (all optional) and whether they have died."""

    version: int = Field(description=f"{VERSION}; 0 for a relative with no record yet")
    deceased: bool = Field(False, description="has died (never proposed as a donor); shown "
                                              "with the pedigree's shape")
    name_hangul: str | None = None
    name_kanji: str | None = None
    name_latin: str | None = None
    birth_year: int | None = Field(None, ge=1800, le=2100)
    relationship: str | None = Field(None, description="to the missing person, in the "
                                                       "family's words")
    contact: str | None = Field(None, description="address, telephone, e-mail")
    date_of_death: date | None = None
    notes: str | None = None


class LocusQuality(enum.StrEnum):
    """A locus's quality as the analyst judged it (GeneMapper ID-X's flags)."""

    PASS = "pass"
    CHECK = "check"
    LOW_QUALITY = "low_quality"


class SampleMetadata(BaseModel):
    """A sample's metadata (all optional; the remains' fields only for
    remains, the reference fields only for reference samples)."""

    version: int = Field(description=VERSION)
    laboratory: str | None = None
    kit: str | None = Field(None, description="the typing kit, e.g. GlobalFiler")
    locus_quality: dict[str, LocusQuality] = Field(
        default_factory=dict, description="marker -> pass, check or low_quality")
    notes: str | None = None
    bone_element: str | None = Field(None, description="remains: e.g. femur, petrous bone")
    recovery_site: str | None = Field(None, description="remains: where they were recovered")
    recovery_date: date | None = Field(None, description="remains: when")
    sample_type: str | None = Field(None, description="reference: e.g. buccal swab, blood")
    collected_on: date | None = Field(None, description="reference: when")


REMAINS_ONLY = ("bone_element", "recovery_site", "recovery_date")
REFERENCE_ONLY = ("sample_type", "collected_on")
PERSONAL_FIELDS = ("name_hangul", "name_kanji", "name_latin", "birth_year", "relationship",
                   "contact", "date_of_death", "notes")


def kin_terms(family: Family, pid: str) -> dict[str, str]:
    """What ``pid`` is to each missing person of the family, from the pedigree."""
    pedigree = pedigree_from_records(family.pedigree, family.details.get("founder_inbreeding"))
    return {m: describe_relationship(pedigree, m, pid, kin_term=True) for m in family.missing}


def person_or_404(family: Family, pid: str) -> None:
    if pid not in {p["id"] for p in family.pedigree}:
        raise HTTPException(404, f"family {family.code} has no person '{pid}'")
    if pid in family.missing:
        raise HTTPException(404, f"'{pid}' is the missing person of family {family.code}: "
                                 "their record is the missing person's "
                                 f"(/missing-persons/{pid})")


def relative_row(session: Session, family: Family, pid: str) -> Relative | None:
    return session.execute(select(Relative).where(
        Relative.family_id == family.id, Relative.pedigree_id == pid)).scalar_one_or_none()


def relative_view(keyring: Keyring, family: Family, pid: str,
                  relative: Relative | None) -> dict[str, Any]:
    return {"family": family.code, "pedigree_id": pid,
            "version": relative.version if relative else 0,
            "deceased": bool(relative and relative.deceased),
            "kin": kin_terms(family, pid),
            "personal": open_personal(keyring, "relatives", relative) if relative else None}


@router.get("/{programme}/families/{code}/personal",
            openapi_extra=guarded(Action.VIEW_PERSONAL, Kind.FAMILY))
def get_family_personal(programme: str, code: str, who: Who, st: State) -> dict[str, Any]:
    """The family's personal record and every relative's (one audited read)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        authorize(st, who, Action.VIEW_PERSONAL, family_resource(f), code)
        out = {"code": f.code, "version": f.version,
               "personal": open_personal(st.keyring, "families", f),
               "relatives": [relative_view(st.keyring, f, r.pedigree_id, r)
                             for r in sorted(f.relatives, key=lambda r: r.pedigree_id)]}
    with st.database.write() as s:
        record(s, who.actor, "read_personal", "family", code, programme_id=p.id)
    return out


@router.put("/{programme}/families/{code}/personal",
            openapi_extra=guarded(Action.UPDATE, Kind.FAMILY))
def put_family_personal(programme: str, code: str, body: FamilyRecord, who: Who,
                        st: State) -> dict[str, Any]:
    """Replace the family's personal record (409 if it changed since ``version``)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        authorize(st, who, Action.UPDATE, family_resource(f), code)
    new = body.model_dump(mode="json", exclude={"version"}, exclude_none=True)
    try:
        with st.database.write() as s:
            f = s.get_one(Family, f.id)
            if f.version != body.version:
                raise StaleDataError
            before = open_personal(st.keyring, "families", f)
            seal_personal(st.keyring, "families", f, new)
            s.flush()
            record(s, who.actor, "update", "family", code, programme_id=p.id, before=before,
                   after=new, detail={"part": "personal"})
            version = f.version
    except StaleDataError:
        raise conflict(f"family {code}", body.version) from None
    return {"code": code, "version": version}


@router.get("/{programme}/families/{code}/relatives/{pid}",
            openapi_extra=guarded(Action.VIEW_PERSONAL, Kind.FAMILY))
def get_relative(programme: str, code: str, pid: str, who: Who, st: State) -> dict[str, Any]:
    """A relative's personal record (version 0 and no record when none was
    written), whether they have died, and what they are to each missing
    person of the family by the pedigree. Audited."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        authorize(st, who, Action.VIEW_PERSONAL, family_resource(f), code)
        person_or_404(f, pid)
        out = relative_view(st.keyring, f, pid, relative_row(s, f, pid))
    with st.database.write() as s:
        record(s, who.actor, "read_personal", "relative", f"{code}:{pid}", programme_id=p.id)
    return out


@router.put("/{programme}/families/{code}/relatives/{pid}",
            openapi_extra=guarded(Action.UPDATE, Kind.FAMILY))
def put_relative(programme: str, code: str, pid: str, body: RelativeRecord, who: Who,
                 st: State) -> dict[str, Any]:
    """Write a relative's record (version 0 creates it; else 409 if it
    changed since ``version``)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        authorize(st, who, Action.UPDATE, family_resource(f), code)
        person_or_404(f, pid)
    new = body.model_dump(mode="json", include=set(PERSONAL_FIELDS), exclude_none=True)
    try:
        with st.database.write() as s:
            relative = relative_row(s, f, pid)
            if (relative.version if relative else 0) != body.version:
                raise StaleDataError
            before = None
            if relative is None:
                relative = Relative(id=new_id(), family_id=f.id, pedigree_id=pid)
                s.add(relative)
            else:
                before = {"deceased": relative.deceased,
                          "personal": open_personal(st.keyring, "relatives", relative)}
            relative.deceased = body.deceased
            seal_personal(st.keyring, "relatives", relative, new)
            s.flush()
            record(s, who.actor, "update" if before else "create", "relative",
                   f"{code}:{pid}", programme_id=p.id, before=before,
                   after={"deceased": body.deceased, "personal": new})
            version = relative.version
    except (StaleDataError, IntegrityError):
        raise conflict(f"relative {pid} of family {code}", body.version) from None
    return {"family": code, "pedigree_id": pid, "version": version}


def sample_view(session: Session, sample: Sample) -> dict[str, Any]:
    return {"code": sample.code, "kind": sample.kind.value, "sex": sample.sex,
            "agency": session.get_one(Agency, sample.owner_agency_id).code,
            "has_profile": sample.profile_sealed is not None, "version": sample.version,
            "metadata": sample.details}


@router.get("/{programme}/samples/{code}", openapi_extra=guarded(Action.VIEW, Kind.SAMPLE))
def get_sample(programme: str, code: str, who: Who, st: State) -> dict[str, Any]:
    """A sample's metadata (shared with every member; the profile is read
    apart, as the policy allows)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        sample = row_or_404(s, Sample, p, code, "sample")
        authorize(st, who, Action.VIEW, sample_resource(s, sample), code)
        return sample_view(s, sample)


@router.put("/{programme}/samples/{code}/metadata",
            openapi_extra=guarded(Action.UPDATE, Kind.SAMPLE))
def put_sample_metadata(programme: str, code: str, body: SampleMetadata, who: Who,
                        st: State) -> dict[str, Any]:
    """Replace a sample's metadata (409 if it changed since ``version``)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        sample = row_or_404(s, Sample, p, code, "sample")
        authorize(st, who, Action.UPDATE, sample_resource(s, sample), code)
    new = body.model_dump(mode="json", exclude={"version"}, exclude_none=True)
    wrong = REFERENCE_ONLY if sample.kind is SampleKind.REMAINS else REMAINS_ONLY
    given = [k for k in wrong if k in new]
    if given:
        raise HTTPException(422, f"{', '.join(given)}: not a field of "
                                 f"{sample.kind.value} samples")
    try:
        new["locus_quality"] = {canonical_marker_name(k): v
                                for k, v in new.get("locus_quality", {}).items()}
    except KinmatchError as exc:
        raise HTTPException(422, f"locus_quality: {exc}") from None
    if not new["locus_quality"]:
        del new["locus_quality"]
    try:
        with st.database.write() as s:
            sample = s.get_one(Sample, sample.id)
            if sample.version != body.version:
                raise StaleDataError
            before = sample.details
            sample.details = new
            s.flush()
            record(s, who.actor, "update", "sample", code, programme_id=p.id, before=before,
                   after=new, detail={"part": "metadata"})
            out = sample_view(s, sample)
    except StaleDataError:
        raise conflict(f"sample {code}", body.version) from None
    return out
