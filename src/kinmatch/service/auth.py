"""Authentication: passwords, sessions, CSRF, second factor, API tokens.

* Passwords are stored as Argon2id hashes (RFC 9106; argon2-cffi's
  defaults), re-hashed on login when the parameters change.
* After :data:`MAX_FAILURES` failed logins in a row an account is locked for
  :data:`LOCKOUT`; the answer to a failed login never says whether the
  user exists.
* A login gives a session cookie (``HttpOnly``, ``SameSite=Strict``,
  ``Secure`` unless the service runs on plain HTTP on localhost) holding a
  random token whose SHA-256 is the session's key, and a CSRF token that
  every state-changing request made with the cookie must echo in the
  ``X-CSRF-Token`` header.
* A user may add a TOTP second factor (RFC 6238; pyotp): the login then
  needs the current code too.
* Scripts use API tokens (``Authorization: Bearer km_...``); only their
  SHA-256 is stored, and they can expire or be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kinmatch.storage.encryption import Keyring, sealed_place
from kinmatch.storage.models import ApiToken, LoginSession, User, now

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
TOKEN_PREFIX = "km_"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A random password of 20 characters (about 119 bits)."""
    return secrets.token_urlsafe(15)


class LoginFailed(Exception):
    """Wrong user, password or code, or a locked account (one message for all)."""


@dataclass(frozen=True)
class NewSession:
    token: str        # goes into the cookie
    csrf_token: str
    session: LoginSession


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=now().tzinfo)


def totp_place(user: User) -> str:
    return sealed_place("users", user.id, "totp")


def check_password(session: Session, keyring: Keyring, username: str, password: str,
                   code: str | None, address: str) -> NewSession:
    """Log ``username`` in: a new session, or :class:`LoginFailed`.

    Failures are counted (and the account locked) in ``session``'s
    transaction, so the caller commits them even when the login fails.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        raise LoginFailed
    if user.locked_until is not None and _aware(user.locked_until) > now():
        raise LoginFailed
    try:
        _hasher.verify(user.password_hash, password)
        ok = True
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if ok and user.totp_sealed is not None:
        secret = keyring.open(user.totp_sealed, totp_place(user))
        ok = code is not None and pyotp.TOTP(secret).verify(code, valid_window=1)
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now() + LOCKOUT
            user.failed_logins = 0
        raise LoginFailed
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    login = LoginSession(id=token_digest(token), user_id=user.id, csrf_token=csrf,
                         expires_at=now() + SESSION_LIFETIME, address=address)
    session.add(login)
    return NewSession(token, csrf, login)


def session_user(session: Session, token: str) -> tuple[User, LoginSession] | None:
    login = session.get(LoginSession, token_digest(token))
    if login is None or _aware(login.expires_at) <= now() or not login.user.active:
        return None
    return login.user, login


def csrf_ok(login: LoginSession, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(login.csrf_token, header)


def new_api_token(session: Session, user: User, name: str,
                  lifetime: timedelta | None = None) -> tuple[str, ApiToken]:
    """A new token for ``user`` (shown once) and its stored record."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=name, token_hash=token_digest(token),
                      expires_at=None if lifetime is None else now() + lifetime)
    session.add(record)
    return token, record


def token_user(session: Session, token: str) -> User | None:
    record = session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token))).scalar_one_or_none()
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    if record.expires_at is not None and _aware(record.expires_at) <= now():
        return None
    return record.user


def enable_totp(keyring: Keyring, user: User) -> str:
    """Give ``user`` a TOTP secret (returned once, for their authenticator app)."""
    secret = pyotp.random_base32()
    user.totp_sealed = keyring.seal(secret, totp_place(user))
    return secret
