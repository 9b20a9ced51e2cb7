"""On PostgreSQL the service connects as a role of its own that cannot
change or delete audit entries (issue 15, item 6): `kinmatch db
grant-app-role` run by the tables' owner, then the service works as that
role while UPDATE, DELETE and TRUNCATE on the log are refused by the
database's privileges (and the trigger, which only the owner could disable,
stays)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from databases import fresh_database
from fastapi.testclient import TestClient
from shared_case import PASSWORD, make_programme
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from support import run_cli

from kinmatch.service.app import create_app
from kinmatch.service.auth import new_api_token
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring
from kinmatch.storage.models import Role, User

SMALL = Path(__file__).resolve().parents[1] / "examples" / "dvi_case.json"


@dataclass
class Roles:
    owner: Database
    owner_url: str
    role: str
    app_url: str
    token: str


@pytest.fixture
def roles(postgres_url: str, tmp_path: Path) -> Iterator[Roles]:
    """A database upgraded by its owner, with a programme, and a new login
    role (not yet granted anything)."""
    role = f"kinmatch_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        with fresh_database(postgres_url) as url:
            owner = Database.open(url, data_folder=tmp_path, check_schema=False)
            owner.upgrade()
            with owner.write() as s:
                made = make_programme(s)
                analyst = s.get_one(User, made.users[("NFS-KR", Role.ANALYST)])
                token, _ = new_api_token(s, analyst, "tests")
            app_url = make_url(url).set(username=role).render_as_string(hide_password=False)
            yield Roles(owner, url, role, app_url, token)
            owner.dispose()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_application_role_cannot_change_the_audit_log(roles: Roles) -> None:
    granted = run_cli("db", "grant-app-role", roles.role, "--database", roles.owner_url)
    assert granted.exit_code == 0, granted.output
    lines = [line.split(None, 1) for line in granted.output.splitlines()
             if line.startswith("  ")]
    privileges = dict((name, allowed) for name, allowed in lines)
    assert privileges["audit_log"] == "SELECT, INSERT"
    assert privileges["audit_head"] == "SELECT, UPDATE"
    assert privileges["alembic_version"] == "SELECT"
    assert privileges["samples"] == privileges["login_sessions"] == (
        "SELECT, INSERT, UPDATE, DELETE")

    app = Database.open(roles.app_url)
    try:
        with app.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT current_user").scalar_one() == roles.role
        service = create_app(app, Keyring.generate(), secure_cookies=False, run_jobs=False)
        with TestClient(service, base_url="http://127.0.0.1") as c:
            # the service works as the role: logging in and out, an import, a read
            r = c.post("/api/session", json={"username": "nfs-kr-analyst",
                                             "password": PASSWORD})
            assert r.status_code == 200, r.text
            csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
            r = c.post("/api/programmes/CHOSEI/imports", headers=csrf,
                       files={"file": ("dvi_case.json", SMALL.read_bytes(),
                                       "application/json")})
            assert r.status_code == 201, r.text
            assert c.get("/api/programmes/CHOSEI/samples/F1:MO1/profile").status_code == 200
            assert c.delete("/api/session", headers=csrf).status_code == 200
        # and the database refuses it every way of changing the log
        for statement in ("UPDATE audit_log SET username = 'mallory' WHERE seq = 1",
                          "DELETE FROM audit_log WHERE seq = 1",
                          "TRUNCATE audit_log",
                          "DELETE FROM audit_head",
                          "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
                          "DROP TABLE audit_log"):
            with pytest.raises(ProgrammingError) as refused:
                with app.engine.begin() as conn:
                    conn.execute(text(statement))
            assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
            assert ("permission denied for table audit_" in str(refused.value.orig)
                    or "must be owner of table audit_log" in str(refused.value.orig))
    finally:
        app.dispose()
    verified = run_cli("audit", "verify", "--database", roles.app_url)
    assert verified.exit_code == 0, verified.output
    with roles.owner.read() as s:
        actions = [a for (a,) in s.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
    assert actions == ["login", "import", "read_profile", "logout"]
    assert verified.output == f"audit log intact: {len(actions)} entries\n"


def test_roles_that_could_change_the_log_are_refused(roles: Roles) -> None:
    with roles.owner.engine.connect() as conn:
        owner = conn.exec_driver_sql("SELECT current_user").scalar_one()
        superuser = conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE "
                                         "rolname = current_user").scalar_one()
    result = run_cli("db", "grant-app-role", owner, "--database", roles.owner_url)
    assert result.exit_code == 2
    assert ("is a superuser" if superuser else "owns the tables") in result.output
    # a member of the owner's role acts as the owner
    with roles.owner.engine.begin() as conn:
        conn.exec_driver_sql(f'GRANT "{owner}" TO "{roles.role}"')
    result = run_cli("db", "grant-app-role", roles.role, "--database", roles.owner_url)
    assert result.exit_code == 2
    assert f"owns the tables (or is a member of their owner '{owner}')" in result.output
    result = run_cli("db", "grant-app-role", "nobody_here", "--database", roles.owner_url)
    assert result.exit_code == 2 and "there is no role 'nobody_here'" in result.output
    assert 'CREATE ROLE "nobody_here" LOGIN' in result.output
