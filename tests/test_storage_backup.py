"""Backups of the shared case and their restores, on SQLite and PostgreSQL:
a case with an import, personal data, consent, an analysis and its audit
trail is backed up (the key left out), restored into a new database and
compared with the original table by table, row by row; a backup taken
while the service writes is consistent; a database holding a case is not
overwritten without --force."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from databases import fresh_database
from fastapi.testclient import TestClient
from shared_case import make_programme
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from support import run_cli

from kinmatch.service.app import create_app
from kinmatch.service.auth import new_api_token
from kinmatch.service.jobs import JobRunner
from kinmatch.storage.audit import Actor, record, verify_audit_log
from kinmatch.storage.backup import BackupError, back_up, backup_kind, key_opens, restore
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring, save_keyring
from kinmatch.storage.models import Analysis, AnalysisStatus, Role, User

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SMALL = EXAMPLES / "dvi_case.json"
KR = "NFS-KR"


@pytest.fixture
def empty(database: Database, request: pytest.FixtureRequest,
          tmp_path: Path) -> Iterator[Database]:
    """A new, empty database of the same kind as ``database`` (not upgraded)."""
    if database.dialect == "sqlite":
        db = Database.open(data_folder=tmp_path / "restored", check_schema=False)
        yield db
        db.dispose()
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        db = Database.open(url, data_folder=tmp_path / "restored", check_schema=False)
        yield db
        db.dispose()


def populate(database: Database) -> Keyring:
    """A case as the service leaves it: an import, personal data, a consent,
    reads of profiles, a finished analysis, and their audit entries."""
    keyring = Keyring.generate()
    with database.write() as s:
        made = make_programme(s)
        tokens = {key: new_api_token(s, s.get_one(User, uid), "tests")[0]
                  for key, uid in made.users.items() if key[0] == KR}

    def auth(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[(KR, role)]}"}
    app = create_app(database, keyring, secure_cookies=False, run_jobs=False)
    base = "/api/programmes/CHOSEI"
    with TestClient(app, base_url="http://127.0.0.1") as c:
        r = c.post(f"{base}/imports", headers=auth(Role.ANALYST),
                   files={"file": ("dvi_case.json", SMALL.read_bytes(), "application/json")})
        assert r.status_code == 201, r.text
        version = c.get(f"{base}/missing-persons/M1", headers=auth(Role.ANALYST)).json()
        r = c.put(f"{base}/missing-persons/M1/personal", headers=auth(Role.ANALYST),
                  json={"version": version["version"], "name_hangul": "김철수",
                        "name_latin": "Kim Cheol-su", "birth_year": 1915})
        assert r.status_code == 200, r.text
        r = c.post(f"{base}/families/F1/consents", headers=auth(Role.FAMILY_LIAISON),
                   json={"relative": "MO1", "scope": "sharing", "given_on": "2026-03-01"})
        assert r.status_code == 201, r.text
        assert c.get(f"{base}/samples/F1:MO1/profile",
                     headers=auth(Role.ANALYST)).status_code == 200
        r = c.post(f"{base}/analyses", headers=auth(Role.ANALYST),
                   json={"markers": "markers of dvi_case.json"})
        assert r.status_code == 202, r.text
    assert JobRunner(database, keyring).run_one()
    with database.read() as s:
        assert s.execute(select(Analysis.status)).scalar_one() is AnalysisStatus.DONE
    return keyring


def table_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with db.engine.connect() as conn:
        rows = {}
        for name in sorted(inspect(conn).get_table_names()):
            found = Table(name, MetaData(), autoload_with=conn)
            order = list(found.primary_key.columns) or list(found.columns)
            rows[name] = [tuple(r) for r in conn.execute(select(found).order_by(*order))]
    return rows


def where(db: Database, key_folder: Path) -> list[str]:
    """The options that name ``db`` and the folder of the key file."""
    return ["--database", db.url.render_as_string(hide_password=False),
            "--data", str(key_folder)]


def test_a_restored_case_is_identical_row_by_row(database: Database, empty: Database,
                                                   tmp_path: Path) -> None:
    keyring = populate(database)
    source_keys, target_keys = tmp_path / "source-keys", tmp_path / "target-keys"
    save_keyring(keyring, source_keys / "kinmatch.key")
    backup = tmp_path / "backups" / "chosei.backup"

    made = run_cli("db", "backup", str(backup), *where(database, source_keys))
    assert made.exit_code == 0, made.output
    assert (f"the key is not in the backup: keep {source_keys / 'kinmatch.key'} apart from it"
            in made.output)
    assert backup.stat().st_mode & 0o777 == 0o600
    content = backup.read_bytes()
    for _, key in keyring.keys:
        assert key not in content and base64.b64encode(key) not in content
    assert run_cli("db", "backup", str(backup), *where(database, source_keys)).exit_code == 2

    original = table_rows(database)
    # every table holds rows but those the service's API has not filled here
    assert {name for name, rows in original.items() if not rows} == {
        "identifications", "login_sessions"}
    assert len(original["audit_log"]) >= 6 and len(original["analyses"]) == 1

    save_keyring(keyring, target_keys / "kinmatch.key")
    restored = run_cli("db", "restore", str(backup), *where(empty, target_keys))
    assert restored.exit_code == 0, restored.output
    entries = len(original["audit_log"])
    assert f"audit log intact: {entries} entries" in restored.output
    assert "opens the restored data" in restored.output
    assert table_rows(empty) == original
    verified = run_cli("audit", "verify", *where(empty, target_keys))
    assert verified.output == f"audit log intact: {entries} entries\n"

    # the restored database holds a case now: replaced only with --force
    again = run_cli("db", "restore", str(backup), *where(empty, target_keys))
    assert again.exit_code == 2 and "holds a case" in again.output
    assert "give --force to replace it" in again.output
    with empty.write() as s:
        record(s, Actor("mallory", KR), "edit", "sample", "V1")
    forced = run_cli("db", "restore", str(backup), "--force", *where(empty, target_keys))
    assert forced.exit_code == 0, forced.output
    assert table_rows(empty) == original
    # the log is append-only in the restored database too
    with pytest.raises((DBAPIError, StatementError), match="append-only"):
        with empty.write() as s:
            s.execute(text("DELETE FROM audit_log WHERE seq = 1"))


def test_without_its_key_a_restored_case_is_flagged(database: Database, empty: Database,
                                                     tmp_path: Path) -> None:
    keyring = populate(database)
    backup = tmp_path / "case.backup"
    summary = back_up(database, backup)
    assert restore(empty, backup) == summary
    assert key_opens(empty, keyring) is True
    assert key_opens(empty, Keyring.generate()) is False
    keys = tmp_path / "keys"
    result = run_cli("db", "restore", str(backup), "--force", *where(empty, keys))
    assert result.exit_code == 0
    assert f"no key at {keys / 'kinmatch.key'}: put there the key file" in result.output
    save_keyring(Keyring.generate(), keys / "kinmatch.key")
    result = run_cli("db", "restore", str(backup), "--force", *where(empty, keys))
    assert result.exit_code == 0
    assert "does not open the restored data" in result.output


def test_a_backup_taken_while_the_service_writes_is_consistent(
        database: Database, empty: Database, tmp_path: Path) -> None:
    stop, written = threading.Event(), [0]

    def writer() -> None:
        while not stop.is_set():
            with database.write() as s:
                record(s, Actor("alice", KR), "update", "sample", f"s{written[0]}",
                       after={"n": written[0]})
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 20:
            stop.wait(0.01)
        summary = back_up(database, tmp_path / "online.backup")
        during = written[0]
        while written[0] < during + 20:
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    # the backup holds a whole prefix of the log: neither empty nor all of it
    assert 20 <= summary.audit_entries == summary.rows["audit_log"] < written[0]
    restore(empty, tmp_path / "online.backup")
    with empty.read() as s:
        report = verify_audit_log(s)
    assert report.intact and report.entries == summary.audit_entries


def test_backups_are_refused_when_they_cannot_be_restored(tmp_path: Path) -> None:
    db = Database.open(data_folder=tmp_path / "data", check_schema=False)
    with pytest.raises(BackupError, match="there is no database at"):
        back_up(db, tmp_path / "x.backup")
    db.upgrade()
    with db.write() as s:
        make_programme(s)
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    with pytest.raises(BackupError, match="not a kinmatch backup"):
        restore(db, not_a_backup)
    pg_archive = tmp_path / "pg.backup"
    pg_archive.write_bytes(b"PGDMP\x01\x0f\x00")
    assert backup_kind(pg_archive) == "postgresql"
    with pytest.raises(BackupError, match=r"is a postgresql backup but .* is a sqlite database"):
        restore(db, pg_archive)
    # the usual way on one machine: the data folder holds the database and the key
    made = run_cli("db", "backup", str(tmp_path / "x.backup"), "--data",
                   str(tmp_path / "data"))
    assert made.exit_code == 0, made.output
    # 2 agencies, the programme and its 2 links, 12 users with a role each, the
    # schema version and the audit head
    rows = 2 + 1 + 2 + 12 + 12 + 1 + 1
    assert made.output.splitlines()[1:] == [
        f"revision 0001, 20 tables, {rows} rows; audit log: empty",
        f"the key is not in the backup: keep {tmp_path / 'data' / 'kinmatch.key'} apart from "
        "it (its personal data and profiles open only with that key)"]
    nowhere = run_cli("db", "backup", str(tmp_path / "y.backup"), "--data",
                      str(tmp_path / "typo"))
    assert nowhere.exit_code == 2 and "there is no database at" in nowhere.output
    assert not (tmp_path / "typo").exists()
    result = run_cli("db", "grant-app-role", "kinmatch_app", "--data", str(tmp_path / "data"))
    assert result.exit_code == 2 and "SQLite has no database roles" in result.output
