"""Logging in and out, who am I, API tokens; one's own password and second
factor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from kinmatch import __version__
from kinmatch.service.access import (
    PUBLIC,
    SELF,
    SESSION_COOKIE,
    Caller,
    ServiceState,
    State,
    Who,
    client_address,
)
from kinmatch.service.auth import (
    SESSION_LIFETIME,
    LoginFailed,
    begin_totp,
    change_password,
    check_password,
    confirm_totp,
    disable_totp,
    new_api_token,
    token_digest,
    verify_credentials,
)
from kinmatch.storage.audit import Actor, record
from kinmatch.storage.models import ApiToken, LoginSession, User, now

router = APIRouter(prefix="/api", tags=["session"])


class Login(BaseModel):
    username: str
    password: str
    code: str | None = Field(None, description="the TOTP code, for users with a second factor")


class Reauthentication(BaseModel):
    password: str = Field(description="your current password")
    code: str | None = Field(None, description="your current TOTP code, if you have a "
                                               "second factor")


class TotpCode(BaseModel):
    code: str = Field(pattern=r"^\s*\d{6}\s*$",
                      description="the code your authenticator app shows now")


class PasswordChange(Reauthentication):
    new_password: str = Field(min_length=12, max_length=1024,
                              description="at least 12 characters")


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    days: int | None = Field(None, ge=1, le=366, description="lifetime; none: until revoked")


@router.get("/health", openapi_extra=PUBLIC)
def health(st: State) -> dict[str, Any]:
    """Liveness: the service answers and its database is reachable."""
    with st.database.read() as s:
        s.execute(select(1))
    return {"status": "ok", "database": st.database.dialect, "version": __version__}


@router.post("/session", openapi_extra=PUBLIC)
def login(body: Login, request: Request, response: Response, st: State) -> dict[str, Any]:
    """Log in: sets the session cookie and returns the CSRF token to send in
    ``X-CSRF-Token`` with every state-changing request."""
    address = client_address(request)
    new = None
    with st.database.write() as s:
        # a failed login commits too: its count (towards the lock-out) and its audit entry
        try:
            new = check_password(s, st.keyring, body.username, body.password, body.code,
                                 address)
        except LoginFailed:
            record(s, Actor(body.username[:80], "-", None, address), "login_failed", "user",
                   body.username[:80])
        else:
            user = s.get_one(User, new.session.user_id)
            record(s, Actor(user.username, user.agency.code, user.id, address), "login",
                   "user", user.id)
    if new is None:
        raise HTTPException(401, "wrong username, password or code, or the account is "
                                 "locked for a while after repeated failures")
    response.set_cookie(SESSION_COOKIE, new.token, max_age=int(SESSION_LIFETIME.total_seconds()),
                        httponly=True, secure=st.secure_cookies, samesite="strict", path="/")
    return {"username": body.username, "csrf_token": new.csrf_token}


@router.delete("/session", openapi_extra=SELF)
def logout(request: Request, response: Response, who: Who, st: State) -> dict[str, str]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with st.database.write() as s:
            login = s.get(LoginSession, token_digest(token))
            if login is not None:
                s.delete(login)
            record(s, who.actor, "logout", "user", who.user_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "logged out"}


@router.get("/me", openapi_extra=SELF)
def me(who: Who) -> dict[str, Any]:
    return {"username": who.username, "agency": who.agency_code,
            "roles": {p: sorted(r) for p, r in who.subject.roles.items()}}


@router.post("/tokens", status_code=201, openapi_extra=SELF)
def create_token(body: TokenIn, who: Who, st: State) -> dict[str, Any]:
    """A new API token for the caller, shown once."""
    with st.database.write() as s:
        user = s.get_one(User, who.user_id)
        token, row = new_api_token(s, user, body.name,
                                   None if body.days is None else timedelta(days=body.days))
        s.flush()
        record(s, who.actor, "create", "api_token", row.id, detail={"name": body.name})
        return {"id": row.id, "name": row.name, "token": token,
                "expires_at": row.expires_at.isoformat() if row.expires_at else None}


@router.delete("/tokens/{token_id}", openapi_extra=SELF)
def revoke_token(token_id: str, who: Who, st: State) -> dict[str, str]:
    with st.database.write() as s:
        row = s.get(ApiToken, token_id)
        if row is None or row.user_id != who.user_id:
            raise HTTPException(404, f"you have no API token {token_id}")
        row.revoked_at = now()
        record(s, who.actor, "revoke", "api_token", token_id)
    return {"status": "revoked"}


WRONG_CREDENTIALS = ("wrong password or code (failures count towards the lock-out, as for "
                     "logging in)")


def _reauthenticate(st: ServiceState, who: Caller, body: Reauthentication, action: str,
                    change: Callable[[Session, User], dict[str, Any]]) -> dict[str, Any]:
    """Check the caller's current password (and code), then make ``change``
    in the same transaction; a failure is counted and audited, and answers 403."""
    with st.database.write() as s:
        user = s.get_one(User, who.user_id)
        if verify_credentials(st.keyring, user, body.password, body.code):
            return change(s, user)
        record(s, who.actor, "reauthentication_failed", "user", user.id,
               detail={"for": action})
    raise HTTPException(403, WRONG_CREDENTIALS)


@router.post("/me/totp", status_code=201, openapi_extra=SELF)
def begin_totp_setup(body: Reauthentication, who: Who, st: State) -> dict[str, Any]:
    """Set up a TOTP second factor: the secret and its ``otpauth://`` URI
    for an authenticator app, shown this once; it takes effect when
    confirmed with a first code (``POST /api/me/totp/confirm``). Needs the
    current password (and code, when replacing a second factor)."""
    def change(s: Session, user: User) -> dict[str, Any]:
        enrolment = begin_totp(st.keyring, user)
        record(s, who.actor, "totp_setup", "user", user.id)
        return {"secret": enrolment.secret, "uri": enrolment.uri,
                "confirm": "POST /api/me/totp/confirm with a first code"}
    return _reauthenticate(st, who, body, "totp_setup", change)


@router.post("/me/totp/confirm", openapi_extra=SELF)
def confirm_totp_setup(body: TotpCode, who: Who, st: State) -> dict[str, Any]:
    """Confirm the second factor being set up with a first code: from now on
    logging in needs the current code too."""
    with st.database.write() as s:
        user = s.get_one(User, who.user_id)
        if user.totp_pending_sealed is None:
            raise HTTPException(409, "no second factor is being set up: start with "
                                     "POST /api/me/totp")
        if not confirm_totp(st.keyring, user, body.code):
            raise HTTPException(422, "the code does not match the new secret (is the "
                                     "device's clock right?)")
        record(s, who.actor, "totp_enable", "user", user.id, after={"totp": True})
    return {"totp": True}


@router.post("/me/totp/disable", openapi_extra=SELF)
def disable_totp_factor(body: Reauthentication, who: Who, st: State) -> dict[str, Any]:
    """Remove one's second factor; needs the current password and code."""
    def change(s: Session, user: User) -> dict[str, Any]:
        enabled = user.totp_sealed is not None
        disable_totp(user)
        record(s, who.actor, "totp_disable", "user", user.id, before={"totp": enabled},
               after={"totp": False})
        return {"totp": False}
    return _reauthenticate(st, who, body, "totp_disable", change)


@router.post("/me/password", openapi_extra=SELF)
def change_own_password(body: PasswordChange, request: Request, who: Who,
                        st: State) -> dict[str, Any]:
    """Change one's password (stored as an Argon2id hash); needs the current
    password (and code). One's other sessions end; API tokens stay valid
    (revoke them separately)."""
    if body.new_password == body.password:
        raise HTTPException(422, "the new password is the current one")
    if body.new_password.strip().lower() == who.username.lower():
        raise HTTPException(422, "the new password is the username")
    current = request.cookies.get(SESSION_COOKIE)
    keep = token_digest(current) if current else ""

    def change(s: Session, user: User) -> dict[str, Any]:
        change_password(user, body.new_password)
        count = cast(CursorResult[Any], s.execute(delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.id != keep))).rowcount
        record(s, who.actor, "change_password", "user", user.id,
               detail={"sessions_ended": count})
        return {"status": "password changed", "sessions_ended": count}
    return _reauthenticate(st, who, body, "change_password", change)
