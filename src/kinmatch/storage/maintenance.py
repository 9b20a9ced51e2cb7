"""Keeping a shared case's database: key rotation, the application's role.

:func:`rotate_key` adds a new key to the keyring, re-seals every sealed
value with it in one transaction, and only then saves the keyring, so an
interruption leaves the database readable with the keyring on disk; with
``drop_old`` the old keys are removed from the saved keyring afterwards
(backups made before the rotation then need the old keyring file).

:func:`grant_app_role` gives the PostgreSQL role the service connects as
what it needs and no more. The tables belong to the role that ran the
migrations (the *owner*); the application's role reads and writes the case
but may only add to the audit log: ``SELECT, INSERT`` on ``audit_log``
(no ``UPDATE``, ``DELETE`` or ``TRUNCATE``), ``SELECT, UPDATE`` on the
audit head (adding an entry moves it), ``SELECT`` on the schema version.
Not being the owner, it cannot disable the log's trigger or alter the
tables either; the trigger stays, for the owner's own sessions. In SQL, run
by the owner after every ``kinmatch db upgrade``::

    GRANT CONNECT ON DATABASE <db> TO <role>;
    GRANT USAGE ON SCHEMA <schema> TO <role>;
    REVOKE ALL ON TABLE <each table> FROM <role>;
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE <each case table> TO <role>;
    GRANT SELECT, INSERT ON TABLE audit_log TO <role>;
    GRANT SELECT, UPDATE ON TABLE audit_head TO <role>;
    GRANT SELECT ON TABLE alembic_version TO <role>;
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from kinmatch.storage.database import Database, StorageError
from kinmatch.storage.encryption import Keyring, save_keyring, sealed_place
from kinmatch.storage.models import Analysis, Base, Family, MissingPerson, Relative, Sample, User

#: (model, column attribute, place column name) of every sealed column
SEALED: tuple[tuple[type[Any], str, str], ...] = (
    (MissingPerson, "personal_sealed", "personal"), (Family, "personal_sealed", "personal"),
    (Relative, "personal_sealed", "personal"), (Sample, "profile_sealed", "profile"),
    (Analysis, "inputs_sealed", "inputs"), (User, "totp_sealed", "totp"),
    (User, "totp_pending_sealed", "totp_pending"))

#: what the application's role may do on each table (the others: READ_WRITE)
APPEND_ONLY: dict[str, tuple[str, ...]] = {
    "audit_log": ("SELECT", "INSERT"),
    "audit_head": ("SELECT", "UPDATE"),
    "alembic_version": ("SELECT",),
}
READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")


def rotate_key(db: Database, keyring: Keyring, key_file: Path, *, drop_old: bool = False
               ) -> tuple[Keyring, int]:
    """Re-seal everything under a new key; the new keyring and the number
    of values re-sealed."""
    rotated = keyring.rotated()
    count = 0
    with db.write() as session:
        for model, attribute, column in SEALED:
            for row in session.execute(select(model)).scalars():
                sealed = getattr(row, attribute)
                if not sealed:
                    continue
                place = sealed_place(model.__tablename__, str(row.id), column)
                setattr(row, attribute, rotated.seal(rotated.open(sealed, place), place))
                count += 1
        save_keyring(rotated, key_file)
    if drop_old:
        rotated = rotated.newest_only()
        save_keyring(rotated, key_file)
    return rotated, count


def app_role_privileges() -> dict[str, tuple[str, ...]]:
    """The privileges of the application's role, by table."""
    names = sorted({t.name for t in Base.metadata.sorted_tables} | set(APPEND_ONLY))
    return {name: APPEND_ONLY.get(name, READ_WRITE) for name in names}


def grant_app_role(db: Database, role: str) -> dict[str, tuple[str, ...]]:
    """Grant the PostgreSQL role ``role`` what the service needs (see the
    module), run as the tables' owner; the privileges granted, by table.
    Refused for a superuser or a role that owns the tables (or is a member
    of their owner): either could change the audit log whatever is granted."""
    if db.dialect != "postgresql":
        raise StorageError("SQLite has no database roles: keep the data folder readable by "
                           "the service's user only (triggers refuse changes to the audit log)")
    db.check_schema()
    privileges = app_role_privileges()
    with db.engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote_identifier
        found = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"),
                             {"role": role}).one_or_none()
        if found is None:
            raise StorageError(f"there is no role {role!r}: create it first (as a superuser "
                               f"or a role with CREATEROLE): CREATE ROLE {quote(role)} LOGIN "
                               "PASSWORD '...'")
        if found[0]:
            raise StorageError(f"{role!r} is a superuser: it bypasses every privilege; give "
                               "the service a role of its own")
        owner = conn.execute(text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'audit_log'")).scalar_one()
        if conn.execute(text("SELECT pg_has_role(:role, :owner, 'MEMBER')"),
                        {"role": role, "owner": owner}).scalar_one():
            raise StorageError(f"{role!r} owns the tables (or is a member of their owner "
                               f"{owner!r}): an owner can change the audit log; give the "
                               "service a role of its own")
        database, schema = conn.execute(text("SELECT current_database(), current_schema()")
                                        ).one()
        # identifiers cannot be bound: quoted, and sent without parameter parsing
        ddl = conn.execution_options(no_parameters=True).exec_driver_sql
        ddl(f"GRANT CONNECT ON DATABASE {quote(database)} TO {quote(role)}")
        ddl(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(role)}")
        for name, allowed in privileges.items():
            ddl(f"REVOKE ALL ON TABLE {quote(name)} FROM {quote(role)}")
            ddl(f"GRANT {', '.join(allowed)} ON TABLE {quote(name)} TO {quote(role)}")
    return privileges
