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
* A user may add a TOTP second factor (RFC 6238; pyotp): set up with the
  current password, confirmed with a first code from the authenticator
  app; the login then needs the current code too, and each code is
  accepted once. Changing one's password, or the second factor, asks for
  the current password (and code) again; wrong ones count towards the
  lock-out like failed logins.
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
from sqlalchemy.orm import Session, joinedload

from kinmatch.storage.encryption import Keyring, sealed_place
from kinmatch.storage.models import ApiToken, LoginSession, User, now

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
TOKEN_PREFIX = "km_"
TOTP_ISSUER = "kinmatch"

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


def is_locked(user: User) -> bool:
    """Is ``user`` locked out after repeated failures?"""
    return user.locked_until is not None and _aware(user.locked_until) > now()


def totp_step(secret: str, code: str | None, last_step: int | None,
              at: datetime | None = None) -> int | None:
    """The time step (RFC 6238: ⌊unix time / 30 s⌋) of ``code`` when it is
    the code of the step at ``at`` (default: now) or of the step before or
    after it (clocks drift), and later than ``last_step`` — RFC 6238 §5.2:
    a code accepted once is not accepted again; ``None`` otherwise."""
    if not code:
        return None
    totp = pyotp.TOTP(secret)
    moment = at or now()
    for offset in (0, -1, 1):
        when = moment + timedelta(seconds=offset * totp.interval)
        if hmac.compare_digest(totp.at(when), code.strip()):
            step = totp.timecode(when)
            return step if last_step is None or step > last_step else None
    return None


def verify_credentials(keyring: Keyring, user: User, password: str, code: str | None) -> bool:
    """Does ``user`` give their password (and the current TOTP code, with a
    second factor)? A failure counts towards the lock-out, a success resets
    the count; a locked account fails. The caller commits either way."""
    if is_locked(user):
        return False
    try:
        _hasher.verify(user.password_hash, password)
        ok = True
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if ok and user.totp_sealed is not None:
        step = totp_step(keyring.open(user.totp_sealed, totp_place(user)), code,
                         user.totp_last_step)
        ok = step is not None
        if step is not None:
            user.totp_last_step = step
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now() + LOCKOUT
            user.failed_logins = 0
        return False
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


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
    if not verify_credentials(keyring, user, password, code):
        raise LoginFailed
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
    # the token, its user and the user's agency in one query
    record = session.execute(
        select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.agency))
        .where(ApiToken.token_hash == token_digest(token))).scalar_one_or_none()
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    if record.expires_at is not None and _aware(record.expires_at) <= now():
        return None
    return record.user


def totp_pending_place(user: User) -> str:
    return sealed_place("users", user.id, "totp_pending")


@dataclass(frozen=True)
class TotpEnrolment:
    """A new TOTP secret, shown once: in base32 and as an ``otpauth://`` URI
    (the QR code of authenticator apps)."""

    secret: str
    uri: str


def begin_totp(keyring: Keyring, user: User) -> TotpEnrolment:
    """Give ``user`` a new TOTP secret, pending until :func:`confirm_totp`
    (a second factor already set keeps working until then)."""
    secret = pyotp.random_base32()
    user.totp_pending_sealed = keyring.seal(secret, totp_pending_place(user))
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    return TotpEnrolment(secret, uri)


def confirm_totp(keyring: Keyring, user: User, code: str) -> bool:
    """Make the pending secret ``user``'s second factor if ``code`` is its
    current code (which proves the authenticator app holds it)."""
    if user.totp_pending_sealed is None:
        return False
    secret = keyring.open(user.totp_pending_sealed, totp_pending_place(user))
    step = totp_step(secret, code, None)
    if step is None:
        return False
    user.totp_sealed = keyring.seal(secret, totp_place(user))
    user.totp_pending_sealed = None
    user.totp_last_step = step
    return True


def disable_totp(user: User) -> None:
    user.totp_sealed = user.totp_pending_sealed = user.totp_last_step = None


def change_password(user: User, new: str) -> None:
    """Store ``new`` as ``user``'s password (Argon2id)."""
    user.password_hash = _hasher.hash(new)


def unlock(user: User) -> bool:
    """Lift a lock-out and reset the count of failures; was it locked?"""
    locked = is_locked(user)
    user.failed_logins = 0
    user.locked_until = None
    return locked
