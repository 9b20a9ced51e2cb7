"""Who is calling, and the one door every endpoint goes through to the policy.

:func:`caller` authenticates a request (an API token in ``Authorization:
Bearer``, or the session cookie — then a state-changing request must carry
the session's CSRF token in ``X-CSRF-Token``). :func:`authorize` asks
:func:`kinmatch.service.policy.decide` and turns a refusal into 403 (and
an audit entry: refusals are recorded too). Each endpoint declares its
policy action with :func:`guarded`, which also puts it in the OpenAPI
document (``x-kinmatch-policy``), so a test can check that no endpoint
escapes the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinmatch.service.auth import csrf_ok, session_user, token_user
from kinmatch.service.policy import Action, Kind, Resource, Subject, decide
from kinmatch.storage.audit import Actor, record
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import Agency, Programme, RoleGrant, User

SESSION_COOKIE = "kinmatch_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """An authenticated user, with what the policy and the audit log need."""

    user_id: str
    username: str
    agency_id: str
    agency_code: str
    subject: Subject
    actor: Actor


@dataclass
class ServiceState:
    """What the endpoints share: the database and the keyring."""

    database: Database
    keyring: Keyring
    secure_cookies: bool = True


def state(request: Request) -> ServiceState:
    found: ServiceState = request.app.state.kinmatch
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def load_caller(session: Session, user: User, address: str) -> Caller:
    grants = session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id)).scalars()
    roles: dict[str, set[Any]] = {}
    for grant in grants:
        roles.setdefault(grant.programme_id, set()).add(grant.role)
    agency = session.get(Agency, user.agency_id)
    code = agency.code if agency else "?"
    subject = Subject(user.id, user.agency_id, {p: frozenset(r) for p, r in roles.items()})
    return Caller(user.id, user.username, user.agency_id, code, subject,
                  Actor(user.username, code, user.id, address))


def unauthorized(detail: str = "log in first (session cookie or API token)") -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def caller(request: Request) -> Caller:
    """The authenticated caller of ``request`` (401 otherwise)."""
    st = state(request)
    header = request.headers.get("Authorization", "")
    with st.database.read() as session:
        if header.startswith("Bearer "):
            user = token_user(session, header.removeprefix("Bearer ").strip())
            if user is None:
                raise unauthorized("the API token is unknown, expired or revoked")
            return load_caller(session, user, client_address(request))
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise unauthorized()
        found = session_user(session, cookie)
        if found is None:
            raise unauthorized("the session has expired: log in again")
        user, login = found
        if request.method not in SAFE_METHODS and not csrf_ok(login,
                                                             request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header (CSRF protection)")
        return load_caller(session, user, client_address(request))


def programme_or_404(session: Session, code: str) -> Programme:
    programme = session.execute(select(Programme).where(Programme.code == code)
                                ).scalar_one_or_none()
    if programme is None:
        raise HTTPException(404, f"no programme '{code}'")
    return programme


def authorize(st: ServiceState, who: Caller, action: Action, resource: Resource,
              object_id: str = "") -> None:
    """Raise 403 unless the policy allows ``action`` on ``resource``; a
    refusal is written to the audit log."""
    decision = decide(who.subject, action, resource)
    if decision.allowed:
        return
    with st.database.write() as session:
        record(session, who.actor, "denied", resource.kind.value, object_id or "-",
               programme_id=resource.programme_id,
               detail={"action": action.value, "reason": decision.reason})
    raise HTTPException(403, f"not allowed: {decision.reason}")


#: endpoint parameters: the authenticated caller, and the service's state
Who = Annotated[Caller, Depends(caller)]
State = Annotated[ServiceState, Depends(state)]


def guarded(action: Action, kind: Kind) -> dict[str, Any]:
    """The ``openapi_extra`` of an endpoint guarded by ``action`` on ``kind``."""
    return {"x-kinmatch-policy": {"action": action.value, "kind": kind.value}}


#: ``openapi_extra`` of endpoints open to everyone, or to any logged-in user
PUBLIC = {"x-kinmatch-policy": {"action": "public"}}
SELF = {"x-kinmatch-policy": {"action": "self"}}
