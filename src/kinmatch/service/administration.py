"""Setting up a shared case: agencies, programmes with their agencies, users
with their roles, and a user's second factor reset — each change audited.

``kinmatch admin`` calls these on the server, as the operating-system user
running it (:func:`kinmatch.storage.audit.operator`): that is how a
programme, its agencies and its first administrator come to exist, since
the service has no default account. The administration endpoints call
:func:`create_user` as the calling user, after asking the policy; nothing
here decides who may, and nothing here commits (the caller's transaction
holds the change and its audit entry: both or neither).

A new user gets a random one-time password (:func:`kinmatch.service.auth.new_password`),
returned once and stored only as its Argon2id hash; there is no default
password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from kinmatch.errors import KinmatchError
from kinmatch.service.auth import disable_totp, hash_password, new_password
from kinmatch.storage.audit import Actor, record
from kinmatch.storage.models import Agency, LoginSession, Programme, Role, RoleGrant, User

#: agency and programme codes: they appear in URLs (``/api/programmes/CHOSEI``)
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
#: usernames: lower case, 3 to 80 characters
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,79}$"
#: ISO 3166-1 alpha-2
COUNTRY_PATTERN = r"^[A-Z]{2}$"


class AdministrationError(KinmatchError):
    """A change that cannot be made: ``status`` is the HTTP status of the
    refusal (404 unknown, 409 exists already, 422 not valid)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class NewUser:
    """A user just created, with the one-time password (shown once)."""

    user: User
    password: str


def _check(value: str, pattern: str, what: str, example: str) -> None:
    if not re.fullmatch(pattern, value):
        raise AdministrationError(f"{what} '{value}' is not valid ({example})")


def agency_by_code(session: Session, code: str) -> Agency:
    agency = session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    if agency is None:
        raise AdministrationError(f"there is no agency '{code}' (create it first: kinmatch "
                                  "admin create-agency)", 404)
    return agency


def programme_by_code(session: Session, code: str) -> Programme:
    programme = session.execute(select(Programme).where(Programme.code == code)
                                ).scalar_one_or_none()
    if programme is None:
        raise AdministrationError(f"there is no programme '{code}'", 404)
    return programme


def user_by_name(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise AdministrationError(f"there is no user '{username}'", 404)
    return user


def create_agency(session: Session, actor: Actor, code: str, name: str,
                  country: str) -> Agency:
    """A new agency (a laboratory or institute that collects data)."""
    _check(code, CODE_PATTERN, "the agency code", "letters, digits, '.', '_' or '-', "
                                                  "at most 40, e.g. NFS-KR")
    _check(country, COUNTRY_PATTERN, "the country", "ISO 3166-1 alpha-2, e.g. KR")
    if not name.strip():
        raise AdministrationError("an agency needs a name")
    if session.execute(select(Agency.id).where(Agency.code == code)).first():
        raise AdministrationError(f"agency '{code}' exists", 409)
    agency = Agency(code=code, name=name.strip(), country=country)
    session.add(agency)
    session.flush()
    state = {"code": code, "name": agency.name, "country": country}
    record(session, actor, "create", "agency", agency.id, after=state, detail=state)
    return agency


def create_programme(session: Session, actor: Actor, code: str, name: str,
                     agencies: Sequence[str], description: str = "") -> Programme:
    """A new programme run together by ``agencies`` (their codes; they exist)."""
    _check(code, CODE_PATTERN, "the programme code", "letters, digits, '.', '_' or '-', "
                                                     "at most 40, e.g. CHOSEI")
    if not name.strip():
        raise AdministrationError("a programme needs a name")
    if not agencies:
        raise AdministrationError("a programme needs at least one agency")
    if session.execute(select(Programme.id).where(Programme.code == code)).first():
        raise AdministrationError(f"programme '{code}' exists", 409)
    codes = list(dict.fromkeys(agencies))
    programme = Programme(code=code, name=name.strip(), description=description)
    programme.agencies = [agency_by_code(session, a) for a in codes]
    session.add(programme)
    session.flush()
    state = {"code": code, "name": programme.name, "agencies": codes}
    record(session, actor, "create", "programme", programme.id, programme_id=programme.id,
           after={**state, "description": description}, detail=state)
    return programme


def create_user(session: Session, actor: Actor, username: str, *, agency: str,
                programme: str, roles: Iterable[Role], display_name: str = "") -> NewUser:
    """A new user of ``agency`` holding ``roles`` in ``programme`` (codes; the
    agency is one of the programme's), with a one-time password."""
    _check(username, USERNAME_PATTERN, "the username", "3 to 80 of a-z, 0-9, '.', '_' or "
                                                       "'-', starting with a letter or digit")
    granted = sorted(dict.fromkeys(Role(r) for r in roles))
    if not granted:
        raise AdministrationError("a user needs at least one role")
    p = programme_by_code(session, programme)
    a = agency_by_code(session, agency)
    if a not in p.agencies:
        raise AdministrationError(f"agency '{agency}' is not part of {p.code}")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise AdministrationError(f"user '{username}' exists", 409)
    password = new_password()
    user = User(username=username, display_name=display_name, agency_id=a.id,
                password_hash=hash_password(password))
    user.roles = [RoleGrant(programme_id=p.id, role=r) for r in granted]
    session.add(user)
    session.flush()
    state = {"username": username, "agency": agency,
             "roles": [r.value for r in granted]}
    record(session, actor, "create", "user", user.id, programme_id=p.id, after=state,
           detail=state)
    return NewUser(user, password)


@dataclass(frozen=True)
class SecondFactorReset:
    """What :func:`reset_second_factor` did."""

    username: str
    had_second_factor: bool
    sessions_ended: int


def reset_second_factor(session: Session, actor: Actor, username: str,
                        reason: str = "") -> SecondFactorReset:
    """Remove ``username``'s TOTP second factor (confirmed or being set up),
    for an authenticator that is lost: they log in with their password
    alone and set up a new one. Their browser sessions end (they were
    opened with the old factor); API tokens stay. Recorded in the audit log
    of every programme they hold a role in, with ``reason``; a user without
    a second factor is left as they are."""
    user = user_by_name(session, username)
    had = user.totp_sealed is not None or user.totp_pending_sealed is not None
    if not had:
        return SecondFactorReset(username, False, 0)
    disable_totp(user)
    ended = cast(CursorResult[Any], session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id))).rowcount
    programmes: list[str | None] = [*sorted({g.programme_id for g in user.roles})] or [None]
    for programme_id in programmes:
        record(session, actor, "totp_reset", "user", user.id, programme_id=programme_id,
               before={"totp": True}, after={"totp": False},
               detail={"username": username, "reason": reason, "sessions_ended": ended})
    return SecondFactorReset(username, True, ended)
