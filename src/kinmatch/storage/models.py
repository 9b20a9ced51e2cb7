"""The tables of a shared case (SQLAlchemy 2 declarative models).

Who owns what: every missing person, family and sample belongs to the
agency that collected it (``owner_agency_id``); programmes bring agencies
together. Personal data (names in Hangul, Kanji and Latin script, dates and
places, contact details) and genetic profiles are stored *sealed*
(:mod:`kinmatch.storage.encryption`): columns named ``*_sealed`` hold
ciphertext bound to their row and column. Pedigree shapes, sample metadata,
LRs and conclusions are plain, so the other agency can be shown them
without names.

Rows that people edit carry a ``version`` column (optimistic locking: an
edit made on an old version fails, and the API answers 409 Conflict).
Analyses are immutable once finished: a snapshot of their inputs, its hash,
the parameters, the kinmatch version and the results.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _id() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=now, nullable=False)


class Role(enum.StrEnum):
    """What a user may do (see :mod:`kinmatch.service.policy`)."""

    PROGRAMME_ADMIN = "programme_admin"
    AGENCY_ADMIN = "agency_admin"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    FAMILY_LIAISON = "family_liaison"
    OBSERVER = "observer"


class SampleKind(enum.StrEnum):
    REMAINS = "remains"
    REFERENCE = "reference"


class AnalysisStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class IdentificationStatus(enum.StrEnum):
    PROPOSED = "proposed"
    REVIEWED = "reviewed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=32,
                values_callable=lambda members: [m.value for m in members])


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[str] = _id()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    created_at: Mapped[datetime] = _created()


class Programme(Base):
    __tablename__ = "programmes"
    id: Mapped[str] = _id()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _created()
    agencies: Mapped[list[Agency]] = relationship(secondary="programme_agencies")


class ProgrammeAgency(Base):
    __tablename__ = "programme_agencies"
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), primary_key=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = _id()
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    #: the TOTP secret of the second factor, once confirmed
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: a TOTP secret being set up, until confirmed with a first code
    totp_pending_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: the time step of the last TOTP code accepted: each code is accepted once
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, default=1)
    agency: Mapped[Agency] = relationship()
    roles: Mapped[list[RoleGrant]] = relationship(back_populates="user",
                                                  cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class RoleGrant(Base):
    """A role a user holds in a programme."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "programme_id", "role"),)
    id: Mapped[str] = _id()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(Base):
    """A token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = _id()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user: Mapped[User] = relationship()


class LoginSession(Base):
    """A browser session; the cookie's SHA-256 is the key."""

    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(64), default="")
    user: Mapped[User] = relationship()


class MissingPerson(Base):
    __tablename__ = "missing_persons"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    sex: Mapped[str] = mapped_column(String(8), default="unknown")
    status: Mapped[str] = mapped_column(String(32), default="no_donor")
    #: names (Hangul, Kanji, Latin), birth year, origin, date and place of death
    personal_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class Family(Base):
    """A reference family: its pedigree (people by code, as in the case
    format) and the missing persons it is searching for."""

    __tablename__ = "families"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    #: [{"id", "sex", "father", "mother", ...}] as in the case format
    pedigree: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: pedigree ids of the missing persons
    missing: Mapped[list[str]] = mapped_column(JSON)
    #: other family fields of the case format (founder_inbreeding)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: order in the programme (as imported): analyses list families in this order
    position: Mapped[int] = mapped_column(Integer, default=0)
    personal_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, default=1)
    relatives: Mapped[list[Relative]] = relationship(back_populates="family",
                                                     cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class FamilyMissingPerson(Base):
    """Which stored missing person a family's pedigree id is."""

    __tablename__ = "family_missing_persons"
    family_id: Mapped[str] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"),
                                           primary_key=True)
    pedigree_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    missing_person_id: Mapped[str] = mapped_column(ForeignKey("missing_persons.id"))
    family: Mapped[Family] = relationship()
    missing_person: Mapped[MissingPerson] = relationship()


class Relative(Base):
    """A person of a family's pedigree who is (or was) a donor or is
    otherwise known: names and contact sealed, deceased or not."""

    __tablename__ = "relatives"
    __table_args__ = (UniqueConstraint("family_id", "pedigree_id"),)
    id: Mapped[str] = _id()
    family_id: Mapped[str] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    pedigree_id: Mapped[str] = mapped_column(String(80))
    deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    personal_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, default=1)
    family: Mapped[Family] = relationship(back_populates="relatives")
    consents: Mapped[list[Consent]] = relationship(back_populates="relative",
                                                   cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class Consent(Base):
    """A relative's consent: its scope (``identification``: the profile may
    be compared; ``sharing``: the other agency may see the family's personal
    data and profiles), when given, when withdrawn."""

    __tablename__ = "consents"
    id: Mapped[str] = _id()
    relative_id: Mapped[str] = mapped_column(ForeignKey("relatives.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32))
    given_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = _created()
    relative: Mapped[Relative] = relationship(back_populates="consents")


class Sample(Base):
    """Remains (a fragment) or a reference sample of a relative, owned by the
    agency that collected it. Metadata plain in ``details`` (bone element,
    recovery site and date, or sample type and collection date; laboratory,
    kit, per-locus quality); the profile sealed (genotypes, drop-out, Y-STR
    haplotype, mtDNA)."""

    __tablename__ = "samples"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    kind: Mapped[SampleKind] = mapped_column(_enum(SampleKind))
    owner_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    relative_id: Mapped[str | None] = mapped_column(
        ForeignKey("relatives.id", ondelete="SET NULL"), nullable=True)
    sex: Mapped[str] = mapped_column(String(8), default="unknown")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: order in the programme (as imported): analyses list samples in this order
    position: Mapped[int] = mapped_column(Integer, default=0)
    profile_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, default=1)
    relative: Mapped[Relative | None] = relationship()
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class MarkerDatabase(Base):
    """Allele frequencies (autosomal markers as in the case format) or a
    lineage database, with its source and content hash."""

    __tablename__ = "marker_databases"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # autosomal, y, mtdna
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[Any] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _created()


class ImportRecord(Base):
    """A file imported into a programme (its hash detects a re-import)."""

    __tablename__ = "imports"
    __table_args__ = (UniqueConstraint("programme_id", "content_hash"),)
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"))
    filename: Mapped[str] = mapped_column(String(400))
    file_format: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = _created()


class Analysis(Base):
    """One run of the DVI pipeline: immutable inputs (a sealed snapshot of
    the case document and its SHA-256), parameters, kinmatch version,
    status and progress while it runs, results when done."""

    __tablename__ = "analyses"
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = _created()
    input_hash: Mapped[str] = mapped_column(String(64))
    inputs_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    kinmatch_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[AnalysisStatus] = mapped_column(_enum(AnalysisStatus),
                                                   default=AnalysisStatus.QUEUED)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Identification(Base):
    """A proposed identification from an analysis, and its review status."""

    __tablename__ = "identifications"
    id: Mapped[str] = _id()
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), index=True)
    analysis_id: Mapped[str] = mapped_column(ForeignKey("analyses.id"))
    missing_person_id: Mapped[str] = mapped_column(ForeignKey("missing_persons.id"))
    sample_ids: Mapped[list[str]] = mapped_column(JSON)
    log10_lr: Mapped[float] = mapped_column(Float)
    posterior: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[IdentificationStatus] = mapped_column(
        _enum(IdentificationStatus), default=IdentificationStatus.PROPOSED)
    proposed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class AuditEntry(Base):
    """One entry of the append-only audit log (:mod:`kinmatch.storage.audit`)."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    username: Mapped[str] = mapped_column(String(80))
    agency: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    programme_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    address: Mapped[str] = mapped_column(String(64))
    before_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    after_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The end of the audit chain (one row), locked while an entry is added."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))
