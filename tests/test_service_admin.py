"""``kinmatch admin`` on SQLite and PostgreSQL: agencies, a programme and its
first administrator made from the command line, who then logs in through
the API with the one-time password printed once; a lost second factor
reset; each change in the audit log as made by the operating-system user."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import select
from support import run_cli

from kinmatch.service import auth
from kinmatch.service.app import create_app
from kinmatch.storage.audit import operator, verify_audit_log
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import AuditEntry, User


@pytest.fixture
def as_alice(monkeypatch: pytest.MonkeyPatch) -> str:
    """The operating-system user running the commands (getpass reads LOGNAME first)."""
    monkeypatch.setenv("LOGNAME", "alice")
    monkeypatch.delenv("SUDO_USER", raising=False)
    return "os:alice"


def admin(database: Database, *args: str) -> Result:
    return run_cli("admin", *args, "--database",
                   database.url.render_as_string(hide_password=False))


def set_up_chosei(database: Database) -> str:
    """The agencies, the programme and its first administrator; the password."""
    for code, name, country in (("NFS-KR", "National Forensic Service", "kr"),
                                ("NRIPS-JP", "National Research Institute of Police Science",
                                 "JP")):
        made = admin(database, "create-agency", code, "--name", name, "--country", country)
        assert made.exit_code == 0, made.output
        assert made.output == f"agency {code} created: {name} ({country.upper()})\n"
    made = admin(database, "create-programme", "CHOSEI", "--name", "Chōsei mine flood, 1942",
                 "--agency", "NFS-KR", "--agency", "NRIPS-JP")
    assert made.output == ("programme CHOSEI created: Chōsei mine flood, 1942; agencies "
                           "NFS-KR, NRIPS-JP\n")
    made = admin(database, "create-user", "kim-admin", "--agency", "NFS-KR", "--programme",
                 "CHOSEI", "--role", "programme_admin", "--role", "analyst",
                 "--display-name", "Kim")
    assert made.exit_code == 0, made.output
    lines = made.output.splitlines()
    assert lines[0] == "user kim-admin created: NFS-KR, analyst, programme_admin in CHOSEI"
    found = re.fullmatch(r"one-time password \(shown once\): (\S+)", lines[1])
    assert found is not None
    return found.group(1)


#: the service's key (it seals the TOTP secrets)
KEYRING = Keyring.generate()


def client(database: Database) -> TestClient:
    return TestClient(create_app(database, KEYRING, secure_cookies=False,
                                 run_jobs=False), base_url="http://127.0.0.1")


def test_the_first_administrator_is_made_from_the_command_line(
        database: Database, as_alice: str) -> None:
    password = set_up_chosei(database)
    assert len(password) == 20  # secrets.token_urlsafe(15): 120 random bits
    with database.read() as s:
        stored = s.execute(select(User).where(User.username == "kim-admin")).scalar_one()
        assert stored.password_hash.startswith("$argon2id$")
        assert password not in stored.password_hash
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        assert [(e.username, e.agency, e.action, e.object_type, e.detail.get("code",
                 e.detail.get("username"))) for e in entries] == [
            (as_alice, "-", "create", "agency", "NFS-KR"),
            (as_alice, "-", "create", "agency", "NRIPS-JP"),
            (as_alice, "-", "create", "programme", "CHOSEI"),
            (as_alice, "-", "create", "user", "kim-admin")]
        assert entries[-1].detail["roles"] == ["analyst", "programme_admin"]
        assert all(e.address.startswith("local (") and e.after_hash for e in entries)
        assert verify_audit_log(s).intact
    with client(database) as c:
        assert c.post("/api/session", json={"username": "kim-admin",
                                            "password": "guess"}).status_code == 401
        r = c.post("/api/session", json={"username": "kim-admin", "password": password})
        assert r.status_code == 200, r.text
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert c.get("/api/programmes").json() == [
            {"code": "CHOSEI", "name": "Chōsei mine flood, 1942",
             "roles": ["analyst", "programme_admin"]}]
        agencies = c.get("/api/programmes/CHOSEI").json()["agencies"]
        assert sorted(a["code"] for a in agencies) == ["NFS-KR", "NRIPS-JP"]
        # the administrator manages the other users through the API
        r = c.post("/api/programmes/CHOSEI/users", headers=csrf,
                   json={"username": "sato-admin", "agency": "NRIPS-JP",
                         "roles": ["agency_admin"]})
        assert r.status_code == 201, r.text
        # the audit log of the programme shows how it began
        log = c.get("/api/programmes/CHOSEI/audit", headers=csrf).json()
        assert [(e["username"], e["object_type"]) for e in log][:2] == [
            (as_alice, "programme"), (as_alice, "user")]


def test_what_the_admin_commands_refuse(database: Database, as_alice: str) -> None:
    set_up_chosei(database)
    with database.read() as s:
        entries = len(s.execute(select(AuditEntry)).all())
    for args, words in [
            (("create-agency", "NFS-KR", "--name", "again", "--country", "KR"),
             "agency 'NFS-KR' exists"),
            (("create-agency", "NFS KR", "--name", "x", "--country", "KR"),
             "the agency code 'NFS KR' is not valid"),
            (("create-agency", "KCSI", "--name", "x", "--country", "KOR"),
             "the country 'KOR' is not valid (ISO 3166-1 alpha-2"),
            (("create-programme", "CHOSEI", "--name", "x", "--agency", "NFS-KR"),
             "programme 'CHOSEI' exists"),
            (("create-programme", "OTHER", "--name", "x", "--agency", "NFS-KR", "--agency",
              "KCSI"), "there is no agency 'KCSI'"),
            (("create-user", "kim-admin", "--agency", "NFS-KR", "--programme", "CHOSEI",
              "--role", "observer"), "user 'kim-admin' exists"),
            (("create-user", "Kim", "--agency", "NFS-KR", "--programme", "CHOSEI",
              "--role", "observer"), "the username 'Kim' is not valid"),
            (("create-user", "lee", "--agency", "NFS-KR", "--programme", "ELSEWHERE",
              "--role", "observer"), "there is no programme 'ELSEWHERE'"),
            (("reset-totp", "nobody"), "there is no user 'nobody'")]:
        result = admin(database, *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
    # a role that does not exist is refused by the option itself
    bad = admin(database, "create-user", "lee", "--agency", "NFS-KR", "--programme", "CHOSEI",
                "--role", "superuser")
    assert bad.exit_code == 2 and "'superuser' is not one of" in bad.output
    # an agency that is not the programme's
    assert admin(database, "create-agency", "KCSI", "--name", "Korea CSI", "--country",
                 "KR").exit_code == 0
    outside = admin(database, "create-user", "lee", "--agency", "KCSI", "--programme",
                    "CHOSEI", "--role", "observer")
    assert outside.exit_code == 2 and "agency 'KCSI' is not part of CHOSEI" in outside.output
    with database.read() as s:
        assert len(s.execute(select(AuditEntry)).all()) == entries + 1  # KCSI only


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 5, 4, 10, 0, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def test_a_lost_second_factor_is_reset(database: Database, as_alice: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    password = set_up_chosei(database)
    clock = Clock()
    monkeypatch.setattr(auth, "now", clock)
    login = {"username": "kim-admin", "password": password}
    with client(database) as c, client(database) as phone_era:
        csrf = {"X-CSRF-Token": c.post("/api/session", json=login).json()["csrf_token"]}
        secret = c.post("/api/me/totp", headers=csrf, json={"password": password}).json()[
            "secret"]
        code = pyotp.TOTP(secret).at(clock.at)
        assert c.post("/api/me/totp/confirm", headers=csrf,
                      json={"code": code}).status_code == 200
        assert phone_era.post("/api/session", json=login).status_code == 401  # no code
        clock.at += timedelta(seconds=30)
        assert phone_era.post("/api/session", json={
            **login, "code": pyotp.TOTP(secret).at(clock.at)}).status_code == 200
        # the phone is lost
        reset = admin(database, "reset-totp", "kim-admin", "--reason",
                      "phone lost; identity checked in person")
        assert reset.exit_code == 0, reset.output
        assert reset.output.startswith("second factor of kim-admin removed; 2 session(s) "
                                       "ended")
        assert c.get("/api/me").status_code == 401
        assert phone_era.get("/api/me").status_code == 401
        assert c.post("/api/session", json=login).status_code == 200
    again = admin(database, "reset-totp", "kim-admin")
    assert again.output == "kim-admin has no second factor: nothing to reset\n"
    with database.read() as s:
        resets = s.execute(select(AuditEntry).where(AuditEntry.action == "totp_reset")
                           ).scalars().all()
        assert [(e.username, e.detail["username"], e.detail["reason"],
                 e.detail["sessions_ended"]) for e in resets] == [
            (as_alice, "kim-admin", "phone lost; identity checked in person", 2)]
        assert resets[0].programme_id is not None
        assert verify_audit_log(s).intact


def test_the_operator_is_the_operating_system_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "root")
    monkeypatch.setenv("SUDO_USER", "alice")
    assert operator().username == "os:root (sudo by alice)"
    monkeypatch.setenv("LOGNAME", "alice")
    assert operator().username == "os:alice"
    assert (operator().agency, operator().user_id) == ("-", None)
