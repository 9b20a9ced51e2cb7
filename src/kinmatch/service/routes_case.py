"""The case data of a programme: missing persons, families and their
consent, samples and profiles, imports.

Reads of personal data or profiles, and every write, are audited (the
read itself, not only the change); what the programme shares (codes,
status, pedigree shapes, sample metadata) is not personal and is not.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from kinmatch.service.access import (
    State,
    Who,
    authorize,
    guarded,
    programme_or_404,
)
from kinmatch.service.policy import Action, Kind, Resource, decide
from kinmatch.storage.audit import record
from kinmatch.storage.case_store import ImportRefused, open_profile
from kinmatch.storage.encryption import Keyring, sealed_place
from kinmatch.storage.imports import (
    MarkerDatabasesRefused,
    TableOptions,
    Upload,
    import_files,
)
from kinmatch.storage.models import (
    Agency,
    Consent,
    Family,
    FamilyMissingPerson,
    MarkerDatabase,
    MissingPerson,
    Programme,
    Relative,
    Sample,
    SampleKind,
)

router = APIRouter(prefix="/api/programmes", tags=["case"])


#: the fields of a missing person's personal record
PERSONAL_FIELDS = ("name_hangul", "name_kanji", "name_latin", "birth_year", "origin",
                   "date_of_death", "place_of_death", "notes")


class PersonalRecord(BaseModel):
    """A missing person's personal data (all optional), with the version
    of the record it edits (optimistic locking)."""

    version: int = Field(description="the version read; an older one gets 409 Conflict")
    name_hangul: str | None = None
    name_kanji: str | None = None
    name_latin: str | None = None
    birth_year: int | None = Field(None, ge=1800, le=2100)
    origin: str | None = None
    date_of_death: date | None = None
    place_of_death: str | None = None
    notes: str | None = None


class ConsentIn(BaseModel):
    relative: str = Field(description="the relative's id in the family's pedigree")
    scope: str = Field(pattern="^(identification|sharing)$")
    given_on: date


#: separates the pedigree ids aggregated in one string (a control character no id holds)
UNIT_SEPARATOR = "\x1f"

#: the families (ids) with a consent to sharing not withdrawn
SHARING_CONSENTED = (select(Relative.family_id).join(Consent, Consent.relative_id == Relative.id)
                     .where(Consent.scope == "sharing", Consent.withdrawn_on.is_(None)))


def sharing_consented(family: Family) -> bool:
    """Has a relative of ``family`` consented to sharing (and not withdrawn
    it)? One query, not one per relative."""
    session = object_session(family)
    if session is None:
        return any(c.scope == "sharing" and c.withdrawn_on is None
                   for r in family.relatives for c in r.consents)
    return session.execute(SHARING_CONSENTED.where(Relative.family_id == family.id)
                           .limit(1)).first() is not None


def family_resource(family: Family) -> Resource:
    return Resource(Kind.FAMILY, family.programme_id, family.owner_agency_id,
                    sharing_consented(family))


def missing_person_resource(session: Session, person: MissingPerson) -> Resource:
    families = session.execute(select(Family).join(
        FamilyMissingPerson, FamilyMissingPerson.family_id == Family.id).where(
        FamilyMissingPerson.missing_person_id == person.id)).scalars().all()
    return Resource(Kind.MISSING_PERSON, person.programme_id, person.owner_agency_id,
                    any(sharing_consented(f) for f in families))


def sample_resource(session: Session, sample: Sample) -> Resource:
    shared = False
    if sample.relative_id is not None:
        relative = session.get(Relative, sample.relative_id)
        shared = relative is not None and sharing_consented(relative.family)
    return Resource(Kind.SAMPLE, sample.programme_id, sample.owner_agency_id, shared)


def programme_resource(programme: Programme) -> Resource:
    return Resource(Kind.PROGRAMME, programme.id)


def row_or_404(session: Session, model: Any, programme: Programme, code: str, what: str) -> Any:
    row = session.execute(select(model).where(model.programme_id == programme.id,
                                              model.code == code)).scalar_one_or_none()
    if row is None:
        raise HTTPException(404, f"no {what} '{code}' in programme {programme.code}")
    return row


@router.get("", openapi_extra={"x-kinmatch-policy": {"action": "self"}})
def list_programmes(who: Who, st: State) -> list[dict[str, Any]]:
    """The programmes the caller holds a role in."""
    with st.database.read() as s:
        rows = s.execute(select(Programme).where(Programme.id.in_(list(who.subject.roles)))
                         .order_by(Programme.code)).scalars()
        return [{"code": p.code, "name": p.name,
                 "roles": sorted(who.subject.roles_in(p.id))} for p in rows]


@router.get("/{programme}", openapi_extra=guarded(Action.VIEW, Kind.PROGRAMME))
def get_programme(programme: str, who: Who, st: State) -> dict[str, Any]:
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.VIEW, programme_resource(p), p.code)
        return {"code": p.code, "name": p.name, "description": p.description,
                "agencies": [{"code": a.code, "name": a.name, "country": a.country}
                             for a in p.agencies]}


@router.get("/{programme}/missing-persons",
            openapi_extra=guarded(Action.VIEW, Kind.MISSING_PERSON))
def list_missing_persons(programme: str, who: Who, st: State) -> list[dict[str, Any]]:
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.VIEW, Resource(Kind.MISSING_PERSON, p.id), p.code)
        rows = s.execute(select(MissingPerson).where(MissingPerson.programme_id == p.id)
                         .order_by(MissingPerson.code)).scalars()
        return [_missing_person_summary(s, m) for m in rows]


def open_personal(keyring: Keyring, table: str, row: MissingPerson | Family | Relative) -> Any:
    """The row's personal record (``None`` when it has none), unsealed."""
    if row.personal_sealed is None:
        return None
    return keyring.open(row.personal_sealed, sealed_place(table, row.id, "personal"))


def seal_personal(keyring: Keyring, table: str, row: MissingPerson | Family | Relative,
                  value: dict[str, Any]) -> None:
    row.personal_sealed = keyring.seal(value, sealed_place(table, row.id, "personal"))


def conflict(what: str, version: int) -> HTTPException:
    """409: an edit made on ``version`` of a record changed since."""
    return HTTPException(409, f"{what} was changed by someone else since version {version}: "
                              "read it again")


def _missing_person_summary(session: Session, m: MissingPerson) -> dict[str, Any]:
    return {"code": m.code, "sex": m.sex, "status": m.status,
            "agency": session.get_one(Agency, m.owner_agency_id).code, "version": m.version}


@router.get("/{programme}/missing-persons/{code}",
            openapi_extra=guarded(Action.VIEW, Kind.MISSING_PERSON))
def get_missing_person(programme: str, code: str, who: Who, st: State) -> dict[str, Any]:
    """A missing person; the personal record too when the caller may see it."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        m = row_or_404(s, MissingPerson, p, code, "missing person")
        resource = missing_person_resource(s, m)
        authorize(st, who, Action.VIEW, resource, code)
        out = _missing_person_summary(s, m)
        # unsealed only for a caller who may see it
        personal = (open_personal(st.keyring, "missing_persons", m)
                    if decide(who.subject, Action.VIEW_PERSONAL, resource) else None)
    if personal is not None:
        with st.database.write() as s:
            record(s, who.actor, "read_personal", "missing_person", code, programme_id=p.id)
        out["personal"] = personal
    return out


@router.put("/{programme}/missing-persons/{code}/personal",
            openapi_extra=guarded(Action.UPDATE, Kind.MISSING_PERSON))
def put_missing_person_personal(programme: str, code: str, body: PersonalRecord,
                                who: Who, st: State) -> dict[str, Any]:
    """Replace a missing person's personal record (409 if it changed since
    ``version`` was read)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        m = row_or_404(s, MissingPerson, p, code, "missing person")
        authorize(st, who, Action.UPDATE, missing_person_resource(s, m), code)
    new = body.model_dump(mode="json", exclude={"version"}, exclude_none=True)
    try:
        with st.database.write() as s:
            m = s.get_one(MissingPerson, m.id)
            if m.version != body.version:
                raise StaleDataError
            before = open_personal(st.keyring, "missing_persons", m)
            seal_personal(st.keyring, "missing_persons", m, new)
            s.flush()
            record(s, who.actor, "update", "missing_person", code, programme_id=p.id,
                   before=before, after=new, detail={"part": "personal"})
            version = m.version
    except StaleDataError:
        raise conflict(f"missing person {code}", body.version) from None
    return {"code": code, "version": version}


@router.get("/{programme}/families", openapi_extra=guarded(Action.VIEW, Kind.FAMILY),
            response_model=list[dict[str, Any]])
def list_families(programme: str, who: Who, st: State) -> Response:
    """Every family's pedigree shape (codes, sexes, parents; no names)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.VIEW, Resource(Kind.FAMILY, p.id), p.code)
        # the pedigrees as the JSON text stored, not decoded and encoded again
        rows = s.execute(select(Family.id, Family.code, cast(Family.pedigree, Text),
                                cast(Family.missing, Text), Family.version)
                         .where(Family.programme_id == p.id).order_by(Family.code)).all()
        # every family's relatives, dead and alive, and consents, in two queries (not
        # one query, nor a few thousand rows or objects, per family); on PostgreSQL each
        # statement sees what was committed before it, so the relatives of a family
        # imported meanwhile may come too: they are left out with their family
        relatives: dict[tuple[str, bool], list[str]] = defaultdict(list)
        for family_id, deceased, ids in s.execute(
                select(Relative.family_id, Relative.deceased,
                       func.aggregate_strings(Relative.pedigree_id, UNIT_SEPARATOR))
                .join(Family, Family.id == Relative.family_id)
                .where(Family.programme_id == p.id)
                .group_by(Relative.family_id, Relative.deceased)):
            relatives[family_id, bool(deceased)] = sorted(ids.split(UNIT_SEPARATOR))
        shared = set(s.execute(SHARING_CONSENTED.join(Family, Family.id == Relative.family_id)
                               .where(Family.programme_id == p.id)).scalars())
    # the answer written here, in the worker thread, around the stored JSON of the
    # pedigrees: the Chōsei programme's 285 kB took 20 ms to decode from the database and
    # encode again (and FastAPI's encoding ran on the event loop, holding up every request)
    shapes = (
        f'{{"code":{json.dumps(code)},"pedigree":{pedigree},"missing":{missing},'
        f'"deceased":{json.dumps(relatives[family_id, True])},'
        f'"donors":{json.dumps(relatives[family_id, False])},'
        f'"sharing_consented":{json.dumps(family_id in shared)},"version":{int(version)}}}'
        for family_id, code, pedigree, missing, version in rows)
    return Response(f"[{','.join(shapes)}]", media_type="application/json")


def family_shape(code: str, pedigree: list[dict[str, Any]], missing: list[str], version: int,
                 relatives: list[tuple[str, bool]], shared: bool) -> dict[str, Any]:
    """A family's shape: the pedigree, its missing persons, who of the
    relatives (pedigree id, deceased) has died and who may give a sample,
    whether the family consented to sharing."""
    return {"code": code, "pedigree": pedigree, "missing": missing,
            "deceased": sorted(pid for pid, deceased in relatives if deceased),
            "donors": sorted(pid for pid, deceased in relatives if not deceased),
            "sharing_consented": shared, "version": version}


@router.get("/{programme}/families/{code}", openapi_extra=guarded(Action.VIEW, Kind.FAMILY))
def get_family(programme: str, code: str, who: Who, st: State) -> dict[str, Any]:
    """A family's shape; its consent records too when the caller may see
    the family's personal data."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        resource = family_resource(f)
        authorize(st, who, Action.VIEW, resource, code)
        out = family_shape(f.code, f.pedigree, f.missing, f.version,
                           [(r.pedigree_id, r.deceased) for r in f.relatives],
                           resource.sharing_consented)
        personal = bool(decide(who.subject, Action.VIEW_PERSONAL, resource))
        if personal:
            out["consents"] = [
                {"id": c.id, "relative": pid, "scope": c.scope,
                 "given_on": c.given_on.isoformat(),
                 "withdrawn_on": c.withdrawn_on.isoformat() if c.withdrawn_on else None}
                for c, pid in s.execute(
                    select(Consent, Relative.pedigree_id)
                    .join(Relative, Relative.id == Consent.relative_id)
                    .where(Relative.family_id == f.id)
                    .order_by(Relative.pedigree_id, Consent.given_on, Consent.id))]
    if personal:
        with st.database.write() as s:
            record(s, who.actor, "read_personal", "family", code, programme_id=p.id)
    return out


@router.post("/{programme}/families/{code}/consents", status_code=201,
             openapi_extra=guarded(Action.RECORD_CONSENT, Kind.FAMILY))
def add_consent(programme: str, code: str, body: ConsentIn, who: Who,
                st: State) -> dict[str, Any]:
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        authorize(st, who, Action.RECORD_CONSENT, family_resource(f), code)
    with st.database.write() as s:
        relative = s.execute(select(Relative).where(
            Relative.family_id == f.id, Relative.pedigree_id == body.relative)
        ).scalar_one_or_none()
        if relative is None:
            if body.relative not in {q["id"] for q in f.pedigree}:
                raise HTTPException(422, f"family {code} has no person '{body.relative}'")
            relative = Relative(family_id=f.id, pedigree_id=body.relative)
            s.add(relative)
            s.flush()
        consent = Consent(relative_id=relative.id, scope=body.scope, given_on=body.given_on,
                          recorded_by=who.user_id)
        s.add(consent)
        s.flush()
        after = {"relative": body.relative, "scope": body.scope,
                 "given_on": body.given_on.isoformat()}
        record(s, who.actor, "create", "consent", consent.id, programme_id=p.id, after=after,
               detail={"family": code})
        return {"id": consent.id, **after}


@router.post("/{programme}/families/{code}/consents/{consent_id}/withdraw",
             openapi_extra=guarded(Action.RECORD_CONSENT, Kind.FAMILY))
def withdraw_consent(programme: str, code: str, consent_id: str, who: Who,
                     st: State) -> dict[str, Any]:
    """Withdraw a consent. Withdrawing consent to identification deletes the
    relative's profiles (the deletion is audited); analyses made before keep
    their own snapshot."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        f = row_or_404(s, Family, p, code, "family")
        authorize(st, who, Action.RECORD_CONSENT, family_resource(f), code)
    with st.database.write() as s:
        consent = s.get(Consent, consent_id)
        if consent is None or consent.relative.family_id != f.id:
            raise HTTPException(404, f"no consent {consent_id} in family {code}")
        if consent.withdrawn_on is not None:
            raise HTTPException(409, f"consent {consent_id} was withdrawn on "
                                     f"{consent.withdrawn_on.isoformat()}")
        consent.withdrawn_on = date.today()
        # the rows are changed first and the audit head locked last, in every
        # write, so two writes never wait for each other's locks (deadlock)
        deleted: list[tuple[str, object]] = []
        if consent.scope == "identification":
            samples = s.execute(select(Sample).where(
                Sample.relative_id == consent.relative_id)).scalars()
            for sample in samples:
                if sample.profile_sealed is None:
                    continue
                before = st.keyring.open(sample.profile_sealed,
                                         sealed_place("samples", sample.id, "profile"))
                sample.profile_sealed = None
                deleted.append((sample.code, before))
        s.flush()
        record(s, who.actor, "withdraw", "consent", consent.id, programme_id=p.id,
               detail={"family": code, "relative": consent.relative.pedigree_id,
                       "scope": consent.scope})
        for sample_code, before in deleted:
            record(s, who.actor, "delete_profile", "sample", sample_code,
                   programme_id=p.id, before=before,
                   detail={"reason": "consent withdrawn", "consent": consent.id})
        return {"id": consent.id, "withdrawn_on": consent.withdrawn_on.isoformat(),
                "profiles_deleted": [c for c, _ in deleted]}


@router.get("/{programme}/samples", openapi_extra=guarded(Action.VIEW, Kind.SAMPLE),
            response_model=list[dict[str, Any]])
def list_samples(programme: str, who: Who, st: State,
                 kind: SampleKind | None = None) -> JSONResponse:
    """Sample metadata (no profiles)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.VIEW, Resource(Kind.SAMPLE, p.id), p.code)
        # plain columns: neither the sealed profiles nor an object per sample
        query = select(Sample.code, Sample.kind, Sample.sex, Sample.details,
                       Sample.profile_sealed.is_not(None), Sample.version).where(
            Sample.programme_id == p.id)
        if kind is not None:
            query = query.where(Sample.kind == kind)
        rows = s.execute(query.order_by(Sample.code)).all()
    # encoded in this thread, as the families list is
    return JSONResponse([{"code": code, "kind": k.value, "sex": sex, "details": details,
                          "has_profile": bool(typed), "version": version}
                         for code, k, sex, details, typed, version in rows])


@router.get("/{programme}/samples/{code}/profile",
            openapi_extra=guarded(Action.VIEW_REFERENCE_PROFILE, Kind.SAMPLE))
def get_profile(programme: str, code: str, who: Who, st: State) -> dict[str, Any]:
    """A sample's profile (remains: analysts and reviewers of the programme;
    reference: of the owning agency, or of every agency with the family's
    consent to share). Audited."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        sample = row_or_404(s, Sample, p, code, "sample")
        action = (Action.VIEW_REMAINS_PROFILE if sample.kind is SampleKind.REMAINS
                  else Action.VIEW_REFERENCE_PROFILE)
        authorize(st, who, action, sample_resource(s, sample), code)
        profile = open_profile(st.keyring, sample)
    if profile is None:
        raise HTTPException(404, f"sample {code} has no profile (never typed, or deleted "
                                 "when consent was withdrawn)")
    with st.database.write() as s:
        record(s, who.actor, "read_profile", "sample", code, programme_id=p.id)
    return {"code": code, "kind": sample.kind.value, **profile}


@router.get("/{programme}/marker-databases",
            openapi_extra=guarded(Action.VIEW, Kind.MARKER_DATABASE))
def list_marker_databases(programme: str, who: Who, st: State) -> list[dict[str, Any]]:
    """The programme's marker databases (the names an analysis or an import
    of laboratory tables asks for): allele frequencies and lineage databases."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.VIEW, Resource(Kind.MARKER_DATABASE, p.id), p.code)
        rows = s.execute(select(MarkerDatabase).where(MarkerDatabase.programme_id == p.id)
                         .order_by(MarkerDatabase.created_at, MarkerDatabase.name)).scalars()
        return [{"name": d.name, "kind": d.kind, "source": d.source,
                 "markers": len(d.document.get("markers", [])) if d.kind == "autosomal"
                 else None,
                 "theta": d.document.get("theta") if d.kind == "autosomal" else None,
                 "content_hash": d.content_hash, "created_at": d.created_at.isoformat()}
                for d in rows]


@router.post("/{programme}/imports", status_code=201,
             openapi_extra=guarded(Action.IMPORT, Kind.PROGRAMME),
             responses={409: {"description": "a file imported before, or a code the "
                                             "programme has"},
                        422: {"description": "a file the readers refuse: the message and its "
                                             "location (file as uploaded, line, column, "
                                             "field)"}})
def post_import(
    programme: str, who: Who, st: State,
    files: Annotated[list[UploadFile] | None, File(
        description="the files (repeat the field for several): DVI cases (kinmatch JSON, "
                    "Familias), frequency databases, genotype tables (GeneMapper exports, "
                    "wide tables) and pedigree tables (PED, PLINK .fam)")] = None,
    file: Annotated[UploadFile | None, File(description="one file (as one `files`)")] = None,
    filename: Annotated[str | None, Form(
        description="the name of a single file, if not the uploaded one")] = None,
    missing: Annotated[list[str] | None, Form(
        description="the missing persons of the pedigree tables (their ids; repeat the field "
                    "or separate by commas)")] = None,
    markers: Annotated[str | None, Form(
        description="the frequency database of the genotype tables: a frequency file of "
                    "this import (by name) or a marker database of the programme")] = None,
    theta: Annotated[float, Form(ge=0, lt=1, description="θ (F_ST) of the frequency "
                                                          "databases imported")] = 0.0,
) -> Any:
    """Import files into the programme, owned by the caller's agency: all or
    nothing, in one transaction (see docs/service.md for what each kind of
    file becomes). A reader's error comes back as 422 with its location, a
    file imported before or a clash with the programme's codes as 409.
    Frequency databases and DVI cases add marker databases, which only who
    may add them imports (analysts; 403 for others, before anything is
    read)."""
    chosen = [*(files or []), *([file] if file is not None else [])]
    if filename is not None and len(chosen) != 1:
        raise HTTPException(422, "filename names a single file")
    uploads = [Upload(filename or f.filename or "upload", f.file.read()) for f in chosen]
    options = TableOptions(
        tuple(m.strip() for text in missing or () for m in text.split(",") if m.strip()),
        markers, theta)
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        authorize(st, who, Action.IMPORT, programme_resource(p), p.code)
    # an import that brings a marker database adds one: the policy's CREATE on it too
    marker_database = Resource(Kind.MARKER_DATABASE, p.id)
    try:
        with st.database.write() as s:
            result = import_files(s, st.keyring, uploads, programme_id=p.id,
                                  agency_id=who.agency_id, user_id=who.user_id,
                                  options=options,
                                  add_marker_databases=decide(who.subject, Action.CREATE,
                                                              marker_database).allowed)
            out = result.as_dict()
            record(s, who.actor, "import", "import", result.files[0].import_id,
                   programme_id=p.id, after=out,
                   detail={"files": [u.filename for u in uploads],
                           "bytes": sum(len(u.data) for u in uploads)})
    except MarkerDatabasesRefused as exc:
        try:
            authorize(st, who, Action.CREATE, marker_database, ", ".join(exc.files))
        except HTTPException as denied:
            denied.detail = (f"{denied.detail}: {exc.message}; import laboratory tables "
                             "naming a marker database the programme has (markers), or ask "
                             "an analyst")
            raise
        raise AssertionError("the policy allowed what the import refused") from exc
    except ImportRefused as exc:
        where = exc.location
        return JSONResponse({"detail": str(exc), "file": where.file, "line": where.line,
                             "column": where.column, "field": where.field},
                            status_code=exc.status)
    return out
