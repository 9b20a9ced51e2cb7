"""Who may do what: every access decision of the service, in one place.

A user belongs to one agency and holds roles in programmes. What a request
touches is described by a :class:`Resource`: its kind, its programme, the
agency that owns it (that collected the family or the sample), whether the
family's consent allows sharing with the other agencies of the programme,
and who created it. :func:`decide` answers one question — may this
subject do this action on this resource — and says why. The endpoints
never decide themselves: each declares its action, builds the resource
and asks.

The rules, in words:

* nobody sees anything of a programme they hold no role in;
* every member sees what the programme shares: missing persons' codes and
  status, pedigree *shapes* (codes, sexes, parents; no names), sample
  metadata, marker databases, analyses with their LRs and conclusions,
  identifications;
* personal data (names, dates and places, contacts, consent records) of a
  missing person or family, and reference (relatives') profiles, are seen
  only by the owning agency — by its analysts, reviewers, family liaison
  officers and administrators, and reference profiles not by liaison
  officers — unless the family's consent allows sharing, in which case the
  same roles of the other agencies see them too; observers never;
* remains' profiles are seen by analysts and reviewers of every agency of
  the programme (both compare them);
* analysts and agency administrators write the data of their own agency
  (missing persons, families, samples) and import files into it; analysts
  start analyses; family liaison officers record and withdraw the consents
  of their own agency's families; reviewers review;
* marker databases (allele frequencies, lineage databases: the programme's
  statistics, shared by every analysis) are added by analysts and
  programme administrators only — through an import too: an import that
  brings one (a frequency database, or a DVI case, whose markers and
  lineage databases become marker databases) needs the right to add marker
  databases besides the right to import: analysts hold both, agency
  administrators import laboratory tables that name a marker database the
  programme has;
* agency administrators manage their agency's users and read its part of
  the audit log; programme administrators manage the programme, its users
  and read the whole audit log.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from kinmatch.storage.models import Role


class Action(enum.StrEnum):
    VIEW = "view"                         # what the programme shares
    VIEW_PERSONAL = "view_personal"       # names, dates, places, contacts, consent records
    VIEW_REFERENCE_PROFILE = "view_reference_profile"
    VIEW_REMAINS_PROFILE = "view_remains_profile"
    CREATE = "create"
    UPDATE = "update"
    IMPORT = "import"
    RECORD_CONSENT = "record_consent"
    START_ANALYSIS = "start_analysis"
    CANCEL_ANALYSIS = "cancel_analysis"
    PROPOSE = "propose"
    REVIEW = "review"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_PROGRAMME = "manage_programme"


class Kind(enum.StrEnum):
    PROGRAMME = "programme"
    MISSING_PERSON = "missing_person"
    FAMILY = "family"
    SAMPLE = "sample"
    MARKER_DATABASE = "marker_database"
    ANALYSIS = "analysis"
    IDENTIFICATION = "identification"
    AUDIT_LOG = "audit_log"
    USER = "user"


@dataclass(frozen=True)
class Subject:
    """Who asks: a user of an agency with roles in programmes."""

    user_id: str
    agency_id: str
    roles: dict[str, frozenset[Role]]  # programme id -> roles

    def roles_in(self, programme_id: str) -> frozenset[Role]:
        return self.roles.get(programme_id, frozenset())


@dataclass(frozen=True)
class Resource:
    """What is touched. ``owner_agency_id`` is ``None`` for what belongs to
    the programme as a whole."""

    kind: Kind
    programme_id: str
    owner_agency_id: str | None = None
    sharing_consented: bool = False
    created_by: str | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


R = Role
PERSONAL_READERS = frozenset({R.PROGRAMME_ADMIN, R.AGENCY_ADMIN, R.ANALYST, R.REVIEWER,
                              R.FAMILY_LIAISON})
PROFILE_READERS = frozenset({R.ANALYST, R.REVIEWER})
DATA_WRITERS = frozenset({R.ANALYST, R.AGENCY_ADMIN})
MARKER_DATABASE_WRITERS = frozenset({R.ANALYST, R.PROGRAMME_ADMIN})

#: which kinds each action applies to
APPLIES: dict[Action, frozenset[Kind]] = {
    Action.VIEW: frozenset(Kind) - {Kind.AUDIT_LOG, Kind.USER},
    Action.VIEW_PERSONAL: frozenset({Kind.MISSING_PERSON, Kind.FAMILY}),
    Action.VIEW_REFERENCE_PROFILE: frozenset({Kind.SAMPLE}),
    Action.VIEW_REMAINS_PROFILE: frozenset({Kind.SAMPLE}),
    Action.CREATE: frozenset({Kind.MISSING_PERSON, Kind.FAMILY, Kind.SAMPLE,
                              Kind.MARKER_DATABASE}),
    Action.UPDATE: frozenset({Kind.MISSING_PERSON, Kind.FAMILY, Kind.SAMPLE}),
    Action.IMPORT: frozenset({Kind.PROGRAMME}),
    Action.RECORD_CONSENT: frozenset({Kind.FAMILY}),
    Action.START_ANALYSIS: frozenset({Kind.PROGRAMME}),
    Action.CANCEL_ANALYSIS: frozenset({Kind.ANALYSIS}),
    Action.PROPOSE: frozenset({Kind.IDENTIFICATION}),
    Action.REVIEW: frozenset({Kind.IDENTIFICATION}),
    Action.VIEW_AUDIT: frozenset({Kind.AUDIT_LOG}),
    Action.MANAGE_USERS: frozenset({Kind.USER}),
    Action.MANAGE_PROGRAMME: frozenset({Kind.PROGRAMME}),
}


def _any(roles: Collection[Role], wanted: Collection[Role]) -> bool:
    return any(r in wanted for r in roles)


def decide(subject: Subject, action: Action, resource: Resource) -> Decision:
    """May ``subject`` do ``action`` on ``resource``? (See the module.)"""
    if resource.kind not in APPLIES[action]:
        return Decision(False, f"'{action}' does not apply to a {resource.kind}")
    roles = subject.roles_in(resource.programme_id)
    if not roles:
        return Decision(False, "not a member of this programme")
    own = resource.owner_agency_id is None or resource.owner_agency_id == subject.agency_id
    shared = own or resource.sharing_consented
    admin = R.PROGRAMME_ADMIN in roles

    def allow_if(condition: bool, reason: str) -> Decision:
        return Decision(True, "allowed") if condition else Decision(False, reason)

    match action:
        case Action.VIEW:
            return Decision(True, "shared with every member of the programme")
        case Action.VIEW_PERSONAL:
            if not _any(roles, PERSONAL_READERS):
                return Decision(False, "this role does not see personal data")
            return allow_if(shared, "personal data of another agency's family, "
                                    "without consent to share it")
        case Action.VIEW_REFERENCE_PROFILE:
            if not _any(roles, PROFILE_READERS):
                return Decision(False, "only analysts and reviewers see profiles")
            return allow_if(shared, "a reference profile of another agency, "
                                    "without consent to share it")
        case Action.VIEW_REMAINS_PROFILE:
            return allow_if(_any(roles, PROFILE_READERS),
                            "only analysts and reviewers see profiles")
        case Action.CREATE | Action.UPDATE:
            if resource.kind is Kind.MARKER_DATABASE:
                return allow_if(_any(roles, MARKER_DATABASE_WRITERS),
                                "only analysts and programme administrators add marker "
                                "databases")
            if not _any(roles, DATA_WRITERS):
                return Decision(False, "only analysts and agency administrators write data")
            return allow_if(own, "data of another agency")
        case Action.IMPORT:
            return allow_if(_any(roles, DATA_WRITERS),
                            "only analysts and agency administrators import")
        case Action.RECORD_CONSENT:
            if not _any(roles, {R.FAMILY_LIAISON, R.AGENCY_ADMIN}):
                return Decision(False, "only family liaison officers and agency "
                                       "administrators record consent")
            return allow_if(own, "a family of another agency")
        case Action.START_ANALYSIS:
            return allow_if(R.ANALYST in roles, "only analysts start analyses")
        case Action.CANCEL_ANALYSIS:
            return allow_if(admin or (R.ANALYST in roles
                                      and resource.created_by == subject.user_id),
                            "only who started it or a programme administrator cancels it")
        case Action.PROPOSE:
            return allow_if(R.ANALYST in roles, "only analysts propose identifications")
        case Action.REVIEW:
            return allow_if(R.REVIEWER in roles, "only reviewers review identifications")
        case Action.VIEW_AUDIT:
            if admin:
                return Decision(True, "programme administrators read the whole log")
            return allow_if(R.AGENCY_ADMIN in roles and own,
                            "only administrators read the audit log (their agency's part)")
        case Action.MANAGE_USERS:
            if admin:
                return Decision(True, "programme administrators manage every user")
            return allow_if(R.AGENCY_ADMIN in roles and own,
                            "only administrators manage users (of their agency)")
        case Action.MANAGE_PROGRAMME:
            return allow_if(admin, "only programme administrators manage the programme")
    raise AssertionError(action)  # pragma: no cover - every action is matched above


#: the owner of a resource that belongs to an agency other than the subject's
ANOTHER_AGENCY = "(another agency)"


def across_agencies(subject: Subject, action: Action, kind: Kind, programme_id: str) -> bool:
    """May ``subject`` do ``action`` on what *every* agency of the programme
    owns (e.g. read the whole audit log), not only on its own agency's?"""
    return decide(subject, action, Resource(kind, programme_id, ANOTHER_AGENCY)).allowed
