"""Where a shared case lives: the database, its engine, sessions and migrations.

Two databases are supported, with the same tables and the same tests:

* **SQLite**, embedded, the default: one file ``kinmatch.sqlite3`` in a data
  folder, in WAL mode (readers never wait for the writer), foreign keys
  enforced, a busy timeout so concurrent writers queue instead of failing;
  transactions that write begin ``IMMEDIATE`` (they take the write lock at
  once, so two writers never deadlock upgrading a read lock); the writers
  of one process queue on a lock of their own first, so a waiting writer
  starts as soon as the one before it commits (SQLite's busy handler would
  have it poll, sleeping up to 100 ms between tries, which under load
  costs more than the writes);
* **PostgreSQL** for teams (``postgresql://user@host/db``; the driver is
  psycopg 3).

The schema is created and upgraded by Alembic migrations only
(:func:`upgrade`, ``kinmatch db upgrade``), never by ``create_all``, so a
database made by one version of kinmatch is upgraded in place by the next.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from kinmatch.errors import KinmatchError

#: the SQLite file inside a data folder
SQLITE_FILE = "kinmatch.sqlite3"

#: environment variables read when no option is given
DATA_ENV = "KINMATCH_DATA"
DATABASE_ENV = "KINMATCH_DATABASE_URL"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StorageError(KinmatchError):
    """The database cannot be reached, is not upgraded, or refused a write."""


def database_url(database: str | None, data_folder: Path) -> URL:
    """The SQLAlchemy URL of ``database`` (a ``postgresql://`` or
    ``sqlite:///`` address), or of the SQLite file in ``data_folder``."""
    if database is None:
        return URL.create("sqlite+pysqlite", database=str(data_folder / SQLITE_FILE))
    try:
        url = make_url(database)
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise StorageError(f"not a database address: {database!r} ({exc})") from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    raise StorageError(
        f"unsupported database {backend!r} in {database!r}: use postgresql://... or a "
        "data folder (SQLite)")


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how transactions begin (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: URL) -> Engine:
    """An engine for ``url``; SQLite connections get WAL mode, foreign keys
    and a busy timeout, and transactions begun as :class:`Database` says."""
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # as many connections as the server has threads (40) and more: a thread never
        # waits for a connection, only (when it writes) for the writer before it
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               pool_size=10, max_overflow=50)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # up to 50 connections: one for each of the server's 40 threads, a second for a thread
    # that writes an audit entry while it reads (a refusal), the job runner's; PostgreSQL's
    # default max_connections (100) leaves room for a second server and the command line
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` (Alembic migrations)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None``: empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest schema revision this kinmatch knows."""
    head = ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise StorageError("kinmatch ships no database migrations")
    return head


@dataclass
class Database:
    """A connected database: an engine and its sessions.

    ``read()`` and ``write()`` give sessions in a transaction that commits
    when the block ends without an exception and rolls back otherwise; a
    write transaction on SQLite holds the write lock from its start.
    """

    engine: Engine
    url: URL
    _writers: threading.RLock = field(default_factory=threading.RLock, repr=False,
                                      compare=False)
    _sessionmaker: sessionmaker[Session] | None = field(default=None, repr=False,
                                                         compare=False)

    @classmethod
    def open(cls, database: str | None = None, data_folder: str | Path | None = None,
             *, check_schema: bool = True, create: bool = True) -> Database:
        """Open the database at ``database`` (an address) or in ``data_folder``
        (default: ``$KINMATCH_DATA`` or ``./kinmatch-data``); with
        ``check_schema`` refuse one that is not upgraded to this version,
        without ``create`` one that does not exist (a SQLite file is
        otherwise created when first used)."""
        database = database or os.environ.get(DATABASE_ENV) or None
        folder = Path(data_folder or os.environ.get(DATA_ENV) or "kinmatch-data")
        url = database_url(database, folder)
        if ((check_schema or not create) and url.get_backend_name() == "sqlite" and url.database
                and not Path(url.database).exists()):
            raise StorageError(f"there is no database at {url.database}: run `kinmatch db "
                               "upgrade` to create one (or give --data / --database)")
        db = cls(make_engine(url), url)
        if check_schema:
            db.check_schema()
        return db

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        """The address without its password."""
        return self.url.render_as_string(hide_password=True)

    def check_schema(self) -> None:
        current, head = current_revision(self.engine), head_revision()
        if current != head:
            state = "empty" if current is None else f"at revision {current}"
            raise StorageError(
                f"the database {self.describe()} is {state}, this kinmatch needs revision "
                f"{head}: run `kinmatch db upgrade`")

    def upgrade(self) -> None:
        upgrade(self.engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions()() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        engine = self.engine
        sqlite = self.dialect == "sqlite"
        if sqlite:
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        with (self._writers if sqlite else nullcontext()), \
                Session(engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _sessions(self) -> sessionmaker[Session]:
        if self._sessionmaker is None:
            self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessionmaker

    def dispose(self) -> None:
        self.engine.dispose()
