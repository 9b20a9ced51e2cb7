"""One's own account, on SQLite and PostgreSQL: a TOTP second factor set up
with the password and confirmed with a first code, then needed to log in
(each code accepted once); a password changed with the current one; an
account locked after failed logins unlocked by an administrator — each
step audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shared_case import PASSWORD, make_programme
from sqlalchemy import select

from kinmatch.service import auth
from kinmatch.service.app import create_app
from kinmatch.service.auth import new_api_token, totp_step
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import AuditEntry, LoginSession, Role, User

KR, JP = "NFS-KR", "NRIPS-JP"
ANALYST = "nfs-kr-analyst"

#: RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" and its
#: 8-digit codes; a 6-digit code is their last six digits
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_CODES = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
             1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130"}


def test_totp_codes_follow_rfc_6238_and_are_accepted_once() -> None:
    for unix, code in RFC_CODES.items():
        at = datetime.fromtimestamp(unix, UTC)
        assert totp_step(RFC_SECRET, code[-6:], None, at) == unix // 30
        # the step before and after are accepted (clock drift), not farther ones
        for drift, accepted in ((-30, True), (30, True), (-60, False), (60, False)):
            if unix + drift < 30:  # pyotp refuses times before 1970
                continue
            later = totp_step(RFC_SECRET, code[-6:], None, at + timedelta(seconds=drift))
            assert (later == unix // 30) is accepted
        # RFC 6238 §5.2: a code accepted once is refused afterwards
        assert totp_step(RFC_SECRET, code[-6:], unix // 30, at) is None
        assert totp_step(RFC_SECRET, code[-6:], unix // 30 - 1, at) == unix // 30
    assert totp_step(RFC_SECRET, None, None) is None


@dataclass
class Accounts:
    app: FastAPI
    database: Database
    tokens: dict[tuple[str, Role], str]

    def browser(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")

    def bearer(self, agency: str, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(agency, role)]}"}

    def user(self, username: str) -> User:
        with self.database.read() as s:
            return s.execute(select(User).where(User.username == username)).scalar_one()

    def actions(self, username: str) -> list[str]:
        with self.database.read() as s:
            return list(s.execute(select(AuditEntry.action).where(
                AuditEntry.username == username).order_by(AuditEntry.seq)).scalars())


@pytest.fixture
def accounts(database: Database) -> Iterator[Accounts]:
    with database.write() as s:
        made = make_programme(s)
        tokens = {key: new_api_token(s, s.get_one(User, uid), "tests")[0]
                  for key, uid in made.users.items()}
    app = create_app(database, Keyring.generate(), secure_cookies=False, run_jobs=False)
    with TestClient(app):
        yield Accounts(app, database, tokens)


class Clock:
    """The service's clock, moved by the test (TOTP codes depend on it)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def log_in(c: TestClient, code: str | None = None, password: str = PASSWORD) -> Any:
    return c.post("/api/session", json={"username": ANALYST, "password": password,
                                        "code": code})


def test_a_totp_second_factor(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(auth, "now", clock)
    with accounts.browser() as c:
        csrf = {"X-CSRF-Token": log_in(c).json()["csrf_token"]}
        wrong = c.post("/api/me/totp", headers=csrf, json={"password": "guess"})
        assert wrong.status_code == 403 and "lock-out" in wrong.json()["detail"]
        assert accounts.user(ANALYST).failed_logins == 1
        r = c.post("/api/me/totp", headers=csrf, json={"password": PASSWORD})
        assert r.status_code == 201, r.text
        secret, uri = r.json()["secret"], r.json()["uri"]
        parsed = pyotp.parse_uri(uri)
        assert uri.startswith(f"otpauth://totp/kinmatch:{ANALYST}?secret={secret}")
        assert (parsed.secret, parsed.issuer, parsed.name) == (secret, "kinmatch", ANALYST)
        stored = accounts.user(ANALYST)
        assert stored.failed_logins == 0 and stored.totp_sealed is None
        assert stored.totp_pending_sealed and secret.encode() not in stored.totp_pending_sealed
        # not yet confirmed: the password alone still logs in
        with accounts.browser() as other:
            assert log_in(other).status_code == 200

        totp = pyotp.TOTP(secret)

        def code(steps: int) -> str:
            return totp.at(clock.at + timedelta(seconds=30 * steps))

        stale = c.post("/api/me/totp/confirm", headers=csrf, json={"code": code(-2)})
        assert stale.status_code == 422 and "does not match" in stale.json()["detail"]
        r = c.post("/api/me/totp/confirm", headers=csrf, json={"code": code(-1)})
        assert r.status_code == 200 and r.json() == {"totp": True}
        assert c.post("/api/me/totp/confirm", headers=csrf,
                      json={"code": code(0)}).status_code == 409

    # logging in now needs the code, and each code works once
    with accounts.browser() as c:
        assert log_in(c).status_code == 401
        assert log_in(c, code(-1)).status_code == 401  # used to confirm
        assert log_in(c, code(0), password="guess").status_code == 401
        r = log_in(c, code(0))
        assert r.status_code == 200
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert log_in(c, code(0)).status_code == 401
        # removing it needs the password and a fresh code
        assert c.post("/api/me/totp/disable", headers=csrf,
                      json={"password": PASSWORD}).status_code == 403
        clock.at += timedelta(seconds=30)
        r = c.post("/api/me/totp/disable", headers=csrf,
                   json={"password": PASSWORD, "code": code(0)})
        assert r.status_code == 200 and r.json() == {"totp": False}
    with accounts.browser() as c:
        assert log_in(c).status_code == 200
    assert accounts.actions(ANALYST) == [
        "login", "reauthentication_failed", "totp_setup", "login", "totp_enable",
        "login_failed", "login_failed", "login_failed", "login", "login_failed",
        "reauthentication_failed", "totp_disable", "login"]


def test_changing_ones_password(accounts: Accounts) -> None:
    with accounts.browser() as c, accounts.browser() as elsewhere:
        csrf = {"X-CSRF-Token": log_in(c).json()["csrf_token"]}
        assert log_in(elsewhere).status_code == 200
        new = "a much longer pass phrase"
        for body, status, words in (
                ({"password": "guess", "new_password": new}, 403, "wrong password"),
                ({"password": PASSWORD, "new_password": "short"}, 422, "at least 12"),
                ({"password": PASSWORD, "new_password": PASSWORD}, 422, "the current one"),
                ({"password": PASSWORD, "new_password": f" {ANALYST.upper()} "}, 422,
                 "the username")):
            r = c.post("/api/me/password", headers=csrf, json=body)
            assert r.status_code == status and words in r.text, r.text
        # without the CSRF token the cookie alone changes nothing
        assert c.post("/api/me/password",
                      json={"password": PASSWORD, "new_password": new}).status_code == 403
        r = c.post("/api/me/password", headers=csrf,
                   json={"password": PASSWORD, "new_password": new})
        assert r.status_code == 200 and r.json()["sessions_ended"] == 1
        # this session goes on, the other one has ended
        assert c.get("/api/me").status_code == 200
        assert elsewhere.get("/api/me").status_code == 401
    stored = accounts.user(ANALYST)
    assert stored.password_hash.startswith("$argon2id$")
    with accounts.browser() as c:
        assert log_in(c).status_code == 401
        assert log_in(c, password=new).status_code == 200
    assert accounts.actions(ANALYST) == ["login", "login", "reauthentication_failed",
                                         "change_password", "login_failed", "login"]
    with accounts.database.read() as s:
        assert len(s.execute(select(LoginSession).where(
            LoginSession.user_id == stored.id)).all()) == 2


def test_an_administrator_unlocks_a_locked_account(accounts: Accounts) -> None:
    target = "nrips-jp-reviewer"
    with accounts.browser() as c:
        for _ in range(5):
            c.post("/api/session", json={"username": target, "password": "guess"})
        r = c.post("/api/session", json={"username": target, "password": PASSWORD})
        assert r.status_code == 401
    url = f"/api/programmes/CHOSEI/users/{target}/unlock"
    c = accounts.browser()
    assert c.post(url, headers=accounts.bearer(KR, Role.AGENCY_ADMIN)).status_code == 403
    assert c.post(url, headers=accounts.bearer(JP, Role.ANALYST)).status_code == 403
    r = c.post(url, headers=accounts.bearer(JP, Role.AGENCY_ADMIN))
    assert r.status_code == 200 and r.json() == {"username": target, "was_locked": True}
    assert c.post("/api/session", json={"username": target,
                                        "password": PASSWORD}).status_code == 200
    again = c.post(url, headers=accounts.bearer(KR, Role.PROGRAMME_ADMIN))
    assert again.json()["was_locked"] is False
    nobody = "/api/programmes/CHOSEI/users/nobody/unlock"
    assert c.post(nobody, headers=accounts.bearer(KR, Role.PROGRAMME_ADMIN)).status_code == 404
    assert c.post(nobody, headers=accounts.bearer(KR, Role.AGENCY_ADMIN)).status_code == 403
    with accounts.database.read() as s:
        unlocks = s.execute(select(AuditEntry).where(AuditEntry.action == "unlock")
                            .order_by(AuditEntry.seq)).scalars().all()
    assert [(e.username, e.detail["was_locked"]) for e in unlocks] == [
        ("nrips-jp-agency_admin", True), ("nfs-kr-programme_admin", False)]
    assert all(e.before_hash and e.after_hash and e.programme_id for e in unlocks)
