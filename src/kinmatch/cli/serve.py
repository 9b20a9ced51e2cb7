"""``kinmatch serve``: the shared case as a web service."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click
import uvicorn

from kinmatch.cli.common import database_options, err_console, friendly
from kinmatch.service.app import create_app
from kinmatch.service.demo import load_demo
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import load_keyring

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "chosei" / "case.json"


@click.command("serve")
@database_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a reverse proxy with TLS in front for a team).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--demo", is_flag=True,
              help="Load the shipped Chōsei example with demo users of two agencies (a new "
                   "temporary data folder unless --data is given; passwords printed once).")
@click.option("--insecure-cookies", is_flag=True,
              help="Session cookies without the Secure flag (plain HTTP during development).")
@friendly
def serve_command(data: str | None, database: str | None, host: str, port: int, demo: bool,
                  insecure_cookies: bool) -> None:
    """Run the shared case service (JSON API, OpenAPI at /api/docs)."""
    temporary = None
    if demo and data is None and database is None:
        temporary = tempfile.mkdtemp(prefix="kinmatch-demo-")
        data = temporary
    folder = Path(data) if data else None
    try:
        db = Database.open(database, folder, check_schema=not demo)
        keyring = load_keyring(folder or Path("kinmatch-data"), create=demo)
        if demo:
            db.upgrade()
            with db.write() as session:
                users = load_demo(session, keyring, EXAMPLE)
            err_console.print(f"demo data in {db.describe()}; users (passwords shown once):")
            for user in users:
                err_console.print(f"  {user.username:24s} {user.agency:9s} "
                                  f"{user.role.value:16s} {user.password}", highlight=False)
        app = create_app(db, keyring, secure_cookies=not insecure_cookies)
        err_console.print(f"kinmatch serve: http://{host}:{port}/api/docs "
                          f"(database {db.describe()})")
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

