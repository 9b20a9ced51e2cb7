"""Backups of a shared case's database, and restoring them.

* **SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``)
  copies the database in one step inside one read transaction. In WAL mode
  the service keeps writing meanwhile, and the copy is the database as it
  was when the backup began, with every committed transaction whole. The
  backup is one SQLite file (rollback journal, not WAL), readable by its
  owner only. A restore copies it back through the same API into the
  database file, in one write transaction of the live database: readers see
  the old case or the new one, never a mixture.
* **PostgreSQL**: ``pg_dump`` in its custom format (restored with
  ``pg_restore``, in one transaction). The dump runs in a snapshot exported
  by a ``REPEATABLE READ`` transaction in which the rows are counted too, so
  the summary printed describes exactly what was dumped. Owners and
  privileges are not restored: the restoring role owns what it restores,
  and the application's role is granted its rights again
  (:func:`kinmatch.storage.maintenance.grant_app_role`).

A backup never contains the key. The personal data and profiles in it are
sealed (:mod:`kinmatch.storage.encryption`) and open only with the key file
or ``$KINMATCH_KEYS``, which must be kept apart from the backups: a stolen
backup alone reveals names and profiles to nobody, and a lost key makes
every backup's sealed data unreadable.

A restore refuses a database that holds a case (any row besides the schema
version and an empty audit head) unless forced; an empty database, or one
just created by ``kinmatch db upgrade``, is filled without asking. Moving a
case between SQLite and PostgreSQL is not a restore (the backup formats
differ) and is refused.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, func, inspect, select, table
from sqlalchemy.engine import URL

from kinmatch.storage.database import Database, StorageError
from kinmatch.storage.encryption import Keyring, SealError, sealed_place
from kinmatch.storage.maintenance import SEALED

#: the first bytes of each kind of backup file
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: where Debian installs each major version of PostgreSQL's programs
POSTGRESQL_PROGRAMS = "/usr/lib/postgresql/*/bin"
#: tables whose rows do not make a case (a new database has them)
SCHEMA_ONLY = frozenset({"alembic_version", "audit_head"})


class BackupError(StorageError):
    """A backup cannot be written, or a restore cannot (or may not) be done."""


@dataclass(frozen=True)
class CaseSummary:
    """What a database holds: rows per table, and the end of the audit
    chain (two databases with the same summary hold the same number of
    rows and the same audit log up to its last hash)."""

    revision: str | None
    rows: dict[str, int]
    audit_entries: int
    audit_hash: str

    @property
    def case_rows(self) -> int:
        """Rows of the case: every table but the schema version and the audit head."""
        return sum(n for name, n in self.rows.items() if name not in SCHEMA_ONLY)

    def describe(self) -> str:
        audit = (f"audit log: {self.audit_entries} entries, last hash {self.audit_hash[:16]}"
                 if self.audit_entries else "audit log: empty")
        return (f"revision {self.revision or '(none)'}, {len(self.rows)} tables, "
                f"{sum(self.rows.values())} rows; {audit}")


def case_summary(connection: Connection) -> CaseSummary:
    """Count the rows of every table of the database behind ``connection``
    (all of them, kinmatch's or not) and read the audit head."""
    names = sorted(inspect(connection).get_table_names())
    rows = {name: int(connection.execute(select(func.count()).select_from(table(name)))
                      .scalar_one()) for name in names}
    revision = None
    if "alembic_version" in rows:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version"
                                              ).scalar_one_or_none()
    seq, last = 0, ""
    if "audit_head" in rows:
        head = connection.exec_driver_sql(
            "SELECT last_seq, last_hash FROM audit_head WHERE id = 1").one_or_none()
        if head is not None:
            seq, last = int(head[0]), str(head[1])
    return CaseSummary(revision, rows, seq, last)


def summarize(db: Database) -> CaseSummary:
    with db.engine.connect() as connection:
        return case_summary(connection)


# -- the programs and addresses of PostgreSQL ---------------------------------
def postgresql_program(name: str, server_major: int | None = None) -> str:
    """``pg_dump`` or ``pg_restore``: Debian's of the server's major version
    (``/usr/lib/postgresql/N/bin``), else the one on ``PATH``, else the
    newest in Debian's folders (a newer pg_dump reads an older server)."""
    installed: dict[int, str] = {}
    for path in glob.glob(f"{POSTGRESQL_PROGRAMS}/{name}"):
        version = Path(path).parent.parent.name
        if version.isdigit():
            installed[int(version)] = path
    if server_major in installed:
        return installed[server_major]
    found = shutil.which(name)
    if found:
        return found
    if installed:
        return installed[max(installed)]
    raise BackupError(f"{name} is not installed: install PostgreSQL's client programs "
                      "(Debian: apt-get install postgresql-client)")


def libpq_address(url: URL) -> tuple[str, dict[str, str]]:
    """The address for PostgreSQL's programs, and their environment: the
    password goes in ``PGPASSWORD``, never on the command line (where other
    users of the machine could read it)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None)
    return address.render_as_string(hide_password=False), env


def _server_major(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed: {message}")


# -- backup --------------------------------------------------------------------
def sqlite_file(db: Database) -> Path:
    """The file of a SQLite database (which must exist)."""
    name = db.url.database
    if not name or name == ":memory:":
        raise BackupError(f"{db.describe()} is not a database file")
    path = Path(name)
    if not path.is_file():
        raise BackupError(f"there is no database at {path}")
    return path


def _sqlite_backup(db: Database, target: Path) -> CaseSummary:
    with closing(sqlite3.connect(sqlite_file(db), timeout=30)) as source, \
            closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    return _summarize_sqlite_file(target)


def _summarize_sqlite_file(path: Path) -> CaseSummary:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)

    engine = create_engine("sqlite://", creator=connect)
    try:
        with engine.connect() as connection:
            return case_summary(connection)
    finally:
        engine.dispose()


def _postgresql_backup(db: Database, target: Path) -> CaseSummary:
    address, env = libpq_address(db.url)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        summary = case_summary(conn)
        _run([postgresql_program("pg_dump", _server_major(conn)), "--format=custom",
              f"--snapshot={snapshot}", "--no-password", f"--file={target}",
              f"--dbname={address}"], env, "pg_dump")
    return summary


def _private_temporary(target: Path) -> Path:
    """An empty file beside ``target``, readable by its owner only."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return temporary


def _sync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def back_up(db: Database, target: Path, *, replace: bool = False) -> CaseSummary:
    """Write a backup of ``db`` to ``target`` while the service may be
    running; what it holds. The file appears only when whole (written
    beside it, then renamed), readable by its owner only; it holds no key."""
    if target.exists() and not replace:
        raise BackupError(f"{target} exists: give another name (or --force to replace it)")
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    write: Callable[[Database, Path], CaseSummary] = (
        _sqlite_backup if db.dialect == "sqlite" else _postgresql_backup)
    temporary = _private_temporary(target)
    try:
        summary = write(db, temporary)
        if summary.revision is None:
            raise BackupError(f"{db.describe()} is empty: there is nothing to back up")
        _sync(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return summary


# -- restore -------------------------------------------------------------------
def backup_kind(path: Path) -> str:
    """``"sqlite"`` or ``"postgresql"``: which database wrote the backup."""
    if not path.is_file():
        raise BackupError(f"there is no backup at {path}")
    with path.open("rb") as handle:
        start = handle.read(len(SQLITE_MAGIC))
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a kinmatch backup (neither a SQLite database nor a "
                      "pg_dump archive)")


def _check_sqlite_backup(path: Path) -> None:
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    if check != "ok":
        raise BackupError(f"{path} is damaged: {check}")
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is a SQLite database but not a kinmatch backup")


def _sqlite_restore(db: Database, source: Path) -> None:
    _check_sqlite_backup(source)
    name = db.url.database
    if not name or name == ":memory:":
        raise BackupError(f"{db.describe()} is not a database file")
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    uri = f"{source.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as backup, \
            closing(sqlite3.connect(name, timeout=30)) as live:
        backup.backup(live)


def _postgresql_restore(db: Database, source: Path, *, clean: bool) -> None:
    address, env = libpq_address(db.url)
    with db.engine.connect() as conn:
        program = postgresql_program("pg_restore", _server_major(conn))
    args = [program, "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
            "--no-password", f"--dbname={address}"]
    if clean:
        args += ["--clean", "--if-exists"]
    _run([*args, str(source)], env, "pg_restore")


def restore(db: Database, source: Path, *, force: bool = False) -> CaseSummary:
    """Restore the backup ``source`` into ``db`` (the service stopped); what
    the restored database holds. A database holding a case is replaced only
    with ``force``."""
    kind = backup_kind(source)
    if kind != db.dialect:
        raise BackupError(
            f"{source} is a {kind} backup but {db.describe()} is a {db.dialect} database: "
            f"restore it into a {kind} database (a backup does not move a case between them)")
    present = summarize(db)
    if present.case_rows and not force:
        raise BackupError(
            f"{db.describe()} holds a case ({present.case_rows} rows): restore refuses to "
            "overwrite it; restore into a new database, or give --force to replace it")
    db.dispose()
    if kind == "sqlite":
        _sqlite_restore(db, source)
    else:
        _postgresql_restore(db, source, clean=bool(present.rows))
    db.dispose()
    return summarize(db)


def key_opens(db: Database, keyring: Keyring) -> bool | None:
    """Does ``keyring`` open the database's sealed values? (One of each
    sealed column is tried; ``None``: nothing is sealed.)"""
    tried = False
    with db.read() as session:
        for model, attribute, column in SEALED:
            column_value = getattr(model, attribute)
            row = session.execute(select(model.id, column_value)
                                  .where(column_value.is_not(None)).limit(1)).first()
            if row is None or not row[1]:
                continue
            tried = True
            try:
                keyring.open(row[1], sealed_place(model.__tablename__, str(row[0]), column))
            except SealError:
                return False
    return True if tried else None
