"""``kinmatch db`` and ``kinmatch audit``: keeping the shared case's database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from kinmatch.cli.common import database_options, err_console, friendly
from kinmatch.storage.audit import verify_audit_log
from kinmatch.storage.backup import back_up, key_opens, restore
from kinmatch.storage.database import Database, current_revision, head_revision
from kinmatch.storage.encryption import KEYS_ENV, SealError, key_file_path, load_keyring
from kinmatch.storage.maintenance import grant_app_role, rotate_key


def _folder(data: str | None) -> Path:
    return Path(data) if data else Path("kinmatch-data")


@click.group("db")
def db_group() -> None:
    """Create, upgrade and keep the shared case's database."""


@db_group.command("upgrade")
@database_options
@friendly
def upgrade_command(data: str | None, database: str | None) -> None:
    """Create the database or upgrade it to this kinmatch's schema (and create
    the key file in the data folder when there is no key)."""
    db = Database.open(database, data, check_schema=False)
    before = current_revision(db.engine)
    db.upgrade()
    load_keyring(_folder(data), create=True)
    after = head_revision()
    state = "created" if before is None else ("already at" if before == after else "upgraded")
    click.echo(f"{db.describe()}: {state} revision {after}")


@db_group.command("rotate-key")
@database_options
@click.option("--drop-old", is_flag=True,
              help="Remove the old keys from the key file afterwards (backups made before "
                   "then need the old key file).")
@friendly
def rotate_key_command(data: str | None, database: str | None, drop_old: bool) -> None:
    """Re-seal all personal data and profiles under a new key."""
    db = Database.open(database, data)
    folder = _folder(data)
    keyring, count = rotate_key(db, load_keyring(folder), key_file_path(folder),
                                drop_old=drop_old)
    click.echo(f"{count} sealed values re-sealed with key {keyring.current_id.hex()}; "
               f"{len(keyring.keys)} key(s) in {key_file_path(folder)}")


def _key_place(folder: Path) -> str:
    return f"${KEYS_ENV}" if os.environ.get(KEYS_ENV) else str(key_file_path(folder))


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@database_options
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@friendly
def backup_command(file: Path, data: str | None, database: str | None, force: bool) -> None:
    """Back up the database to FILE while the service runs (SQLite: its online
    backup; PostgreSQL: pg_dump, custom format). The key is not in the
    backup: keep the key file apart from it."""
    db = Database.open(database, data, check_schema=False, create=False)
    summary = back_up(db, file, replace=force)
    click.echo(f"backup of {db.describe()} written to {file}")
    click.echo(summary.describe())
    click.echo(f"the key is not in the backup: keep {_key_place(_folder(data))} apart from it "
               "(its personal data and profiles open only with that key)")


@db_group.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_options
@click.option("--force", is_flag=True,
              help="Replace the case the database holds (refused without it).")
@friendly
def restore_command(file: Path, data: str | None, database: str | None, force: bool) -> None:
    """Restore the backup FILE into the database (stop the service first).
    A database holding a case is replaced only with --force."""
    db = Database.open(database, data, check_schema=False)
    summary = restore(db, file, force=force)
    click.echo(f"restored {file} into {db.describe()}")
    click.echo(summary.describe())
    with db.read() as session:
        report = verify_audit_log(session)
    if report.intact:
        click.echo(f"audit log intact: {report.entries} entries")
    else:
        err_console.print(f"[red]audit log NOT intact[/red]: {'; '.join(report.problems)}",
                          highlight=False)
    folder = _folder(data)
    try:
        opens = key_opens(db, load_keyring(folder))
    except SealError:
        click.echo(f"no key at {key_file_path(folder)}: put there the key file kept apart "
                   f"from the backup (or set ${KEYS_ENV}) before starting the service")
    else:
        if opens is False:
            err_console.print(f"[yellow]warning[/yellow]: the key ({_key_place(folder)}) "
                              "does not open the restored data: put the key file kept with "
                              f"the backed-up database at {key_file_path(folder)} (or set "
                              f"${KEYS_ENV})", highlight=False)
        elif opens:
            click.echo(f"the key ({_key_place(folder)}) opens the restored data")
    if summary.revision != head_revision():
        click.echo(f"the backup is at revision {summary.revision}: run `kinmatch db upgrade`")
    if db.dialect == "postgresql":
        click.echo("privileges are not restored: run `kinmatch db grant-app-role ROLE` for "
                   "the service's role")
    if not report.intact:
        sys.exit(1)


@db_group.command("grant-app-role")
@click.argument("role")
@database_options
@friendly
def grant_app_role_command(role: str, data: str | None, database: str | None) -> None:
    """PostgreSQL: grant ROLE, the role the service connects as, what it needs
    and no more: it reads and writes the case but only adds to the audit log
    (no UPDATE, DELETE or TRUNCATE). Run it as the tables' owner after every
    `kinmatch db upgrade`."""
    db = Database.open(database, data)
    privileges = grant_app_role(db, role)
    click.echo(f"{role} on {db.describe()}:")
    for table, allowed in privileges.items():
        click.echo(f"  {table:24s} {', '.join(allowed)}")
    click.echo(f"run the service as {role} (kinmatch serve --database postgresql://{role}@...) "
               "and this command again after every `kinmatch db upgrade`")


@click.group("audit")
def audit_group() -> None:
    """The audit log of the shared case."""


@audit_group.command("verify")
@database_options
@friendly
def verify_command(data: str | None, database: str | None) -> None:
    """Check the audit log's hash chain: any entry edited, inserted or deleted
    is reported (exit status 1)."""
    db = Database.open(database, data)
    with db.read() as session:
        report = verify_audit_log(session)
    if report.intact:
        click.echo(f"audit log intact: {report.entries} entries")
        return
    for problem in report.problems:
        err_console.print(f"[red]{problem}[/red]", highlight=False)
    err_console.print(f"audit log NOT intact: {len(report.problems)} problem(s) in "
                      f"{report.entries} entries")
    sys.exit(1)
