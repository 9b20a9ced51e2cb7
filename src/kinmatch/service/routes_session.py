"""Logging in and out, who am I, API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from kinmatch import __version__
from kinmatch.service.access import (
    PUBLIC,
    SELF,
    SESSION_COOKIE,
    Caller,
    ServiceState,
    caller,
    client_address,
    state,
)
from kinmatch.service.auth import (
    SESSION_LIFETIME,
    LoginFailed,
    check_password,
    new_api_token,
    token_digest,
)
from kinmatch.storage.audit import Actor, record
from kinmatch.storage.models import ApiToken, LoginSession, User, now

router = APIRouter(prefix="/api", tags=["session"])
Who = Annotated[Caller, Depends(caller)]
State = Annotated[ServiceState, Depends(state)]


class Login(BaseModel):
    username: str
    password: str
    code: str | None = Field(None, description="the TOTP code, for users with a second factor")


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
