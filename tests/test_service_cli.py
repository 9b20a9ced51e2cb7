"""``kinmatch serve``, ``kinmatch db`` and ``kinmatch audit`` as a user runs
them: a real server on 127.0.0.1 with the demo, the database created and
upgraded, the audit log verified (and tampering found), keys rotated."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from support import run_cli

from kinmatch.cli.serve import EXAMPLE
from kinmatch.service.demo import load_demo
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import load_keyring
from kinmatch.storage.models import Sample

KINMATCH = str(Path(sys.executable).parent / "kinmatch")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    port = free_port()
    data = tmp_path / "data"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([KINMATCH, "serve", "--demo", "--data", str(data), "--port",
                                 str(port), "--insecure-cookies"], stdout=out, stderr=out,
                                env={**os.environ, "COLUMNS": "200"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"kinmatch serve --demo did not start:\n{log.read_text()}")
            time.sleep(0.2)
        passwords = dict(re.findall(r"^\s+(\S+)\s+\S+\s+\S+\s+(\S+)$", log.read_text(), re.M))
        yield base, passwords, data
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_the_demo_serves_the_chosei_case_to_two_agencies(
        demo_server: tuple[str, dict[str, str], Path]) -> None:
    base, passwords, data = demo_server
    assert len(passwords) == 12 and "nfs-analyst" in passwords and "nrips-reviewer" in passwords
    with httpx.Client(base_url=base) as kr, httpx.Client(base_url=base) as jp:
        r = kr.post("/api/session", json={"username": "nfs-analyst",
                                          "password": passwords["nfs-analyst"]})
        assert r.status_code == 200
        jp.post("/api/session", json={"username": "nrips-analyst",
                                      "password": passwords["nrips-analyst"]})
        example = json.loads(EXAMPLE.read_text())
        families = kr.get("/api/programmes/CHOSEI/families").json()
        assert [f["code"] for f in families] == sorted(f["name"] for f in example["families"])
        remains = kr.get("/api/programmes/CHOSEI/samples", params={"kind": "remains"}).json()
        assert sorted(r["code"] for r in remains) == sorted(s["id"] for s in example["samples"])
        korean = next(f["code"] for f in families if "K" in f["code"])
        donor = next(d for f in families if f["code"] == korean for d in f["donors"])
        profile = f"/api/programmes/CHOSEI/samples/{korean}:{donor}/profile"
        assert kr.get(profile).status_code == 200
        assert jp.get(profile).status_code == 403
        assert jp.get(f"/api/programmes/CHOSEI/samples/{remains[0]['code']}/profile"
                      ).status_code == 200
    assert run_cli("audit", "verify", "--data", str(data)).output.startswith(
        "audit log intact: ")


def test_db_upgrade_creates_the_database_and_the_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_cli("db", "upgrade", "--data", str(data))
    assert first.exit_code == 0, first.output
    assert re.fullmatch(r"sqlite\+pysqlite:///.*kinmatch\.sqlite3: created revision 0001\n",
                        first.output)
    assert (data / "kinmatch.key").stat().st_mode & 0o777 == 0o600
    again = run_cli("db", "upgrade", "--data", str(data))
    assert again.output.endswith("already at revision 0001\n")
    nowhere = run_cli("audit", "verify", "--data", str(tmp_path / "elsewhere"))
    assert nowhere.exit_code == 2 and "there is no database at" in nowhere.output
    assert "run `kinmatch db upgrade`" in nowhere.output
    assert not (tmp_path / "elsewhere").exists()


def _demo_database(tmp_path: Path) -> Path:
    """A data folder with the demo case loaded (no server)."""
    data = tmp_path / "data"
    assert run_cli("db", "upgrade", "--data", str(data)).exit_code == 0
    db = Database.open(data_folder=data)
    with db.write() as session:
        load_demo(session, load_keyring(data), EXAMPLE)
    db.dispose()
    return data


@pytest.mark.slow
def test_audit_verify_finds_an_entry_edited_in_the_database_file(tmp_path: Path) -> None:
    data = _demo_database(tmp_path)
    assert run_cli("audit", "verify", "--data", str(data)).exit_code == 0
    with sqlite3.connect(data / "kinmatch.sqlite3") as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET username = 'mallory' WHERE seq = 1")
    result = run_cli("audit", "verify", "--data", str(data))
    assert result.exit_code == 1
    assert "entry 1: its content was changed after it was written" in result.output


@pytest.mark.slow
def test_rotate_key_reseals_everything(tmp_path: Path) -> None:
    data = _demo_database(tmp_path)
    old = load_keyring(data)
    result = run_cli("db", "rotate-key", "--data", str(data), "--drop-old")
    assert result.exit_code == 0, result.output
    count = int(result.output.split()[0])
    assert count > 300
    new = load_keyring(data)
    assert len(new.keys) == 1 and new.keys[0] not in old.keys
    db = Database.open(data_folder=data)
    with db.read() as session:
        for sample in session.query(Sample).limit(20):
            assert sample.profile_sealed is not None
            assert new.key_id_of(sample.profile_sealed) == new.current_id
            assert new.open(sample.profile_sealed, f"samples:{sample.id}:profile")["profile"]
