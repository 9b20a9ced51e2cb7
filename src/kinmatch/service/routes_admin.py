"""Administration: the audit log, and the users of a programme (created,
listed, unlocked after a lock-out)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from kinmatch.service.access import (
    State,
    Who,
    authorize,
    guarded,
    programme_or_404,
)
from kinmatch.service.administration import USERNAME_PATTERN, AdministrationError
from kinmatch.service.administration import create_user as add_user
from kinmatch.service.auth import is_locked, unlock
from kinmatch.service.policy import (
    ANOTHER_AGENCY,
    Action,
    Kind,
    Resource,
    across_agencies,
    decide,
)
from kinmatch.storage.audit import record, utc_text
from kinmatch.storage.models import Agency, AuditEntry, Role, RoleGrant, User

router = APIRouter(prefix="/api/programmes", tags=["administration"])


class UserIn(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = ""
    agency: str = Field(description="agency code")
    roles: list[Role] = Field(min_length=1)


@router.get("/{programme}/audit", openapi_extra=guarded(Action.VIEW_AUDIT, Kind.AUDIT_LOG))
def audit_log(programme: str, who: Who, st: State,
              action: str | None = None, username: str | None = None,
              after: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Audit entries of the programme, oldest first from sequence ``after``
    (programme administrators: all; agency administrators: their agency's)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
    whole = across_agencies(who.subject, Action.VIEW_AUDIT, Kind.AUDIT_LOG, p.id)
    authorize(st, who, Action.VIEW_AUDIT, Resource(Kind.AUDIT_LOG, p.id, who.agency_id), p.code)
    with st.database.read() as s:
        query = select(AuditEntry).where(AuditEntry.programme_id == p.id,
                                         AuditEntry.seq > after)
        if not whole:
            query = query.where(AuditEntry.agency == who.agency_code)
        if action:
            query = query.where(AuditEntry.action == action)
        if username:
            query = query.where(AuditEntry.username == username)
        rows = s.execute(query.order_by(AuditEntry.seq).limit(limit)).scalars()
        return [{"seq": e.seq, "at": utc_text(e.at), "username": e.username,
                 "agency": e.agency, "action": e.action, "object_type": e.object_type,
                 "object_id": e.object_id, "address": e.address, "detail": e.detail,
                 "entry_hash": e.entry_hash} for e in rows]


@router.get("/{programme}/users", openapi_extra=guarded(Action.MANAGE_USERS, Kind.USER))
def list_users(programme: str, who: Who, st: State) -> list[dict[str, Any]]:
    with st.database.read() as s:
        p = programme_or_404(s, programme)
    whole = across_agencies(who.subject, Action.MANAGE_USERS, Kind.USER, p.id)
    authorize(st, who, Action.MANAGE_USERS, Resource(Kind.USER, p.id, who.agency_id), p.code)
    with st.database.read() as s:
        grants = s.execute(select(RoleGrant).where(RoleGrant.programme_id == p.id)).scalars()
        users: dict[str, dict[str, Any]] = {}
        for g in grants:
            u = g.user
            if not whole and u.agency_id != who.agency_id:
                continue
            entry = users.setdefault(u.id, {"username": u.username,
                                            "display_name": u.display_name,
                                            "agency": u.agency.code, "active": u.active,
                                            "roles": []})
            entry["roles"].append(g.role.value)
        return sorted(users.values(), key=lambda u: u["username"])


@router.post("/{programme}/users", status_code=201,
             openapi_extra=guarded(Action.MANAGE_USERS, Kind.USER))
def create_user(programme: str, body: UserIn, who: Who, st: State) -> dict[str, Any]:
    """A new user with roles in the programme; the one-time password is
    returned once (the user changes it)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        agency = s.execute(select(Agency).where(Agency.code == body.agency)
                           ).scalar_one_or_none()
        if agency is None or agency not in p.agencies:
            raise HTTPException(422, f"agency '{body.agency}' is not part of {p.code}")
    authorize(st, who, Action.MANAGE_USERS, Resource(Kind.USER, p.id, agency.id), body.username)
    if Role.PROGRAMME_ADMIN in body.roles and not decide(
            who.subject, Action.MANAGE_PROGRAMME, Resource(Kind.PROGRAMME, p.id)):
        authorize(st, who, Action.MANAGE_PROGRAMME, Resource(Kind.PROGRAMME, p.id),
                  body.username)
    try:
        with st.database.write() as s:
            made = add_user(s, who.actor, body.username, agency=body.agency,
                            programme=p.code, roles=body.roles,
                            display_name=body.display_name)
    except AdministrationError as exc:
        raise HTTPException(exc.status, exc.message) from None
    return {"username": body.username, "password": made.password}


@router.post("/{programme}/users/{username}/unlock",
             openapi_extra=guarded(Action.MANAGE_USERS, Kind.USER))
def unlock_user(programme: str, username: str, who: Who, st: State) -> dict[str, Any]:
    """Unlock a user of the programme locked out after repeated failed
    logins (their count of failures starts again)."""
    with st.database.read() as s:
        p = programme_or_404(s, programme)
        user = s.execute(select(User).join(RoleGrant).where(
            User.username == username, RoleGrant.programme_id == p.id)).scalars().first()
        # whether such a user exists is told only to who may manage users
        owner = user.agency_id if user is not None else ANOTHER_AGENCY
    authorize(st, who, Action.MANAGE_USERS, Resource(Kind.USER, p.id, owner), username)
    if user is None:
        raise HTTPException(404, f"no user '{username}' in {p.code}")
    with st.database.write() as s:
        row = s.get_one(User, user.id)
        before = {"locked": is_locked(row), "failed_logins": row.failed_logins}
        was_locked = unlock(row)
        record(s, who.actor, "unlock", "user", row.id, programme_id=p.id, before=before,
               after={"locked": False, "failed_logins": 0},
               detail={"username": username, "was_locked": was_locked})
    return {"username": username, "was_locked": was_locked}
