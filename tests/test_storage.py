"""The shared case's storage, on SQLite and PostgreSQL: migrations, the
hash-chained audit log (and its tampering detected), sealed data,
optimistic locking."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from kinmatch.storage.audit import (
    GENESIS,
    Actor,
    digest,
    entry_fields,
    entry_hash,
    record,
    utc_text,
    verify_audit_log,
)
from kinmatch.storage.database import Database, StorageError, current_revision, head_revision
from kinmatch.storage.encryption import Keyring, SealError, load_keyring
from kinmatch.storage.models import Agency, AuditEntry, Base, MissingPerson, Programme

ALICE = Actor("alice", "NFS-KR", "u-alice", "127.0.0.1")


def test_upgrade_reaches_the_head_revision(database: Database) -> None:
    assert current_revision(database.engine) == head_revision() == "0001"
    database.check_schema()


def test_the_migrations_build_exactly_the_models_tables(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_an_empty_database_is_refused_until_upgraded(tmp_path: object) -> None:
    db = Database.open(data_folder=f"{tmp_path}/data", check_schema=False)
    with pytest.raises(StorageError, match=r"is empty, this kinmatch needs revision 0001: "
                                           r"run `kinmatch db upgrade`"):
        db.check_schema()


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    db = Database.open(data_folder=f"{tmp_path}/data", check_schema=False)
    db.upgrade()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("address, message", [
    ("mysql://x@y/z", "unsupported database 'mysql'"),
    ("::not a url::", "not a database address"),
])
def test_unsupported_addresses_are_refused(address: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        Database.open(address, check_schema=False)


def _write_entries(db: Database, n: int) -> None:
    for i in range(n):
        with db.write() as s:
            record(s, ALICE, "update", "missing_person", f"mp-{i}", before={"v": i},
                   after={"v": i + 1}, detail={"field": "status"})


def test_audit_entries_form_a_chain(database: Database) -> None:
    _write_entries(database, 5)
    with database.read() as s:
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        report = verify_audit_log(s)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.entry_hash
    # recomputed independently of the module's helper: SHA-256 over the text
    first = entries[0]
    fields = entry_fields(first)
    assert fields["at"].endswith("Z") and fields["before_hash"] == digest({"v": 0})
    text_ = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.entry_hash == hashlib.sha256((GENESIS + text_).encode()).hexdigest()
    assert report.intact and report.entries == 5


def test_the_database_refuses_to_change_or_delete_audit_entries(database: Database) -> None:
    _write_entries(database, 2)
    for statement in ("UPDATE audit_log SET username = 'mallory' WHERE seq = 1",
                      "DELETE FROM audit_log WHERE seq = 2"):
        with pytest.raises((DBAPIError, StatementError), match="append-only"):
            with database.write() as s:
                s.execute(text(statement))
    with database.read() as s:
        assert verify_audit_log(s).intact


def _bypass_triggers(db: Database, statement: str) -> None:
    """Edit the log as someone with the database file or superuser rights."""
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.exec_driver_sql(statement)


@pytest.mark.parametrize("statement, problem", [
    ("UPDATE audit_log SET username = 'mallory' WHERE seq = 2",
     "entry 2: its content was changed after it was written"),
    ("UPDATE audit_log SET detail = '{\"field\": \"name\"}' WHERE seq = 3",
     "entry 3: its content was changed"),
    ("DELETE FROM audit_log WHERE seq = 2", "entry 2: missing (the next entry is number 3)"),
    ("DELETE FROM audit_log WHERE seq = 4",
     "the log ends at entry 3 but 4 entries were written"),
])
def test_audit_verify_finds_edited_and_deleted_entries(database: Database, statement: str,
                                                        problem: str) -> None:
    _write_entries(database, 4)
    _bypass_triggers(database, statement)
    with database.read() as s:
        report = verify_audit_log(s)
    assert not report.intact
    assert any(problem in p for p in report.problems), report.problems


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(
        database: Database) -> None:
    _write_entries(database, 3)
    with database.read() as s:
        e2 = s.get(AuditEntry, 2)
        assert e2 is not None
        fields = {**entry_fields(e2), "username": "mallory"}
        forged = entry_hash(e2.prev_hash, fields)
    _bypass_triggers(database, f"UPDATE audit_log SET username = 'mallory', "
                               f"entry_hash = '{forged}' WHERE seq = 2")
    with database.read() as s:
        report = verify_audit_log(s)
    assert report.problems == ["entry 3: does not follow the entry before it (the chain is "
                               "broken: an entry before it was changed, removed or inserted)"]


def test_a_failed_transaction_leaves_no_audit_entry(database: Database) -> None:
    with pytest.raises(RuntimeError):
        with database.write() as s:
            record(s, ALICE, "create", "agency", "a1")
            raise RuntimeError("the change failed")
    _write_entries(database, 1)
    with database.read() as s:
        assert [e.seq for e in s.execute(select(AuditEntry)).scalars()] == [1]
        assert verify_audit_log(s).intact


def test_edits_on_an_old_version_conflict(database: Database) -> None:
    with database.write() as s:
        agency = Agency(code="NFS-KR", name="National Forensic Service", country="KR")
        programme = Programme(code="CHOSEI", name="Chōsei mine")
        s.add_all([agency, programme])
        s.flush()
        s.add(MissingPerson(id="mp1", programme_id=programme.id, code="K001",
                            owner_agency_id=agency.id))
    with database.read() as s1:
        stale = s1.get(MissingPerson, "mp1")
    assert stale is not None and stale.version == 1
    with database.write() as s:
        current = s.get(MissingPerson, "mp1")
        assert current is not None
        current.status = "donors_sampled"
    assert stale.version == 1
    with pytest.raises(StaleDataError):
        with database.write() as s:
            merged = s.merge(stale, load=False)
            merged.status = "remains_typed"
    with database.read() as s:
        row = s.get(MissingPerson, "mp1")
        assert row is not None and (row.status, row.version) == ("donors_sampled", 2)


def test_sealed_values_open_only_in_their_place_and_with_their_key() -> None:
    keys = Keyring.generate()
    value = {"names": {"hangul": "김철수", "kanji": "金哲洙", "latin": "Kim Cheol-su"},
             "birth_year": 1915}
    sealed = keys.seal(value, "missing_persons:mp1:personal")
    assert b"Kim" not in sealed and "김".encode() not in sealed
    assert keys.open(sealed, "missing_persons:mp1:personal") == value
    with pytest.raises(SealError, match="altered or belongs elsewhere"):
        keys.open(sealed, "missing_persons:mp2:personal")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealError, match="altered"):
        keys.open(tampered, "missing_persons:mp1:personal")
    with pytest.raises(SealError, match="not in the keyring"):
        Keyring.generate().open(sealed, "missing_persons:mp1:personal")
    rotated = keys.rotated()
    assert rotated.open(sealed, "missing_persons:mp1:personal") == value
    resealed = rotated.seal(value, "x")
    assert rotated.key_id_of(resealed) == rotated.current_id != keys.current_id


def test_the_key_file_is_created_private_and_read_back(tmp_path: object) -> None:
    folder = Path(f"{tmp_path}/data")
    with pytest.raises(SealError, match="kinmatch db upgrade"):
        load_keyring(folder, {})
    created = load_keyring(folder, {}, create=True)
    assert os.stat(folder / "kinmatch.key").st_mode & 0o777 == 0o600
    assert load_keyring(folder, {}) == created
    from_env = load_keyring(folder, {"KINMATCH_KEYS": created.rotated().dumps().strip()
                                     .replace("\n", ";")})
    assert len(from_env.keys) == 2 and from_env.keys[0] == created.keys[0]
    (folder / "kinmatch.key").write_text("garbage\n")
    with pytest.raises(SealError, match=r"kinmatch.key, line 1: not a key"):
        load_keyring(folder, {})


def test_audit_times_are_written_in_utc() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    kst = at.astimezone(timezone(timedelta(hours=9)))
    assert utc_text(at) == utc_text(kst) == "2026-01-02T03:04:05.678901Z"
    assert utc_text(at.replace(tzinfo=None)) == utc_text(at)  # SQLite gives naive UTC
