"""The service killed with SIGKILL and started again on the same database,
on SQLite and PostgreSQL.

* Killed during a large import (the Chōsei example, 2.4 MB, through the
  API) at several moments: the database is consistent (the audit log
  verifies; SQLite's integrity and foreign-key checks pass) and the import
  is absent — or whole, row for row the same as the same file imported
  uninterrupted into another programme.
* Killed while an analysis of the Chōsei case runs (in its longest stage,
  the pairwise LRs, after the heartbeat has ticked within that stage): the
  server started again queues it again at once (its worker, a process of
  this machine, is gone) and runs it to the end, with results identical to
  an uninterrupted run of the library on the analysis' snapshot.
* Two requests writing the same unique code at once (on PostgreSQL both
  may find it free): the database's refusal is a 409, not a 500 — and only
  a unique constraint's refusal, not any integrity error.
* The job runner's liveness rules on their own: who is requeued (a dead
  local worker, this server's own name, a stale heartbeat) and who is not
  (a live worker elsewhere with a fresh heartbeat), and the heartbeat
  ticking during a long stage and noticing an analysis taken from it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from service_process import ServerProcess, start_server
from shared_case import Programme2, make_programme
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from support import EXAMPLES, quietly, run_cli

from kinmatch.dvi.pipeline import run_dvi_case
from kinmatch.formats.dvi_json import parse_dvi_case
from kinmatch.service import jobs
from kinmatch.service.app import unique_violation
from kinmatch.service.auth import new_api_token
from kinmatch.service.jobs import JobRunner, analysis_place, options_from, worker_name
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring, key_file_path, save_keyring
from kinmatch.storage.imports import import_case
from kinmatch.storage.models import (
    Agency,
    Analysis,
    AnalysisStatus,
    AuditEntry,
    Family,
    ImportRecord,
    MarkerDatabase,
    MissingPerson,
    Programme,
    Relative,
    Role,
    RoleGrant,
    Sample,
    User,
    now,
)

CHOSEI = EXAMPLES / "chosei" / "case.json"
KR = "NFS-KR"
MARKERS = {"markers": f"markers of {CHOSEI.name}", "lineage": f"lineage databases of {CHOSEI.name}"}


@dataclass
class Served:
    """A data folder a server can be started on, and what the test needs."""

    folder: Path
    address: str | None  # PostgreSQL's, or None: SQLite in the folder
    database: Database
    keyring: Keyring
    programme: Programme2
    token: str  # an analyst of NFS-KR

    def start(self) -> ServerProcess:
        return start_server(self.folder, self.address)

    def client(self, server: ServerProcess) -> httpx2.Client:
        return httpx2.Client(base_url=server.url, timeout=300.0,
                             headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
def served(database: Database, tmp_path: Path) -> Served:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    keyring = Keyring.generate()
    save_keyring(keyring, key_file_path(folder))
    with database.write() as s:
        made = make_programme(s)
        token, _ = new_api_token(s, s.get_one(User, made.users[(KR, Role.ANALYST)]), "faults")
    address = (None if database.dialect == "sqlite"
               else database.url.render_as_string(hide_password=False))
    return Served(folder, address, database, keyring, made, token)


def case_rows(db: Database, programme_id: str) -> dict[str, int]:
    """How many rows of each kind a programme holds."""
    counts = {}
    with db.read() as s:
        for name, model in (("families", Family), ("missing persons", MissingPerson),
                            ("samples", Sample), ("marker databases", MarkerDatabase),
                            ("imports", ImportRecord)):
            counts[name] = s.execute(select(func.count()).select_from(model).where(
                model.programme_id == programme_id)).scalar_one()
        counts["relatives"] = s.execute(select(func.count()).select_from(Relative).join(
            Family, Family.id == Relative.family_id).where(
            Family.programme_id == programme_id)).scalar_one()
    return counts


def rows_of(case: dict[str, Any]) -> dict[str, int]:
    """The rows a DVI case document becomes (counted from the file): a family, its
    missing persons, a relative for each person typed or dead, a sample for each
    typed relative and each remains; its markers and lineage databases; one import."""
    typed = [set(f.get("profiles", {})) | set(f.get("y_haplotypes", {}))
             | set(f.get("mtdna_profiles", {})) for f in case["families"]]
    relatives = [t | set(f.get("deceased", ())) for t, f in zip(typed, case["families"],
                                                               strict=True)]
    return {"families": len(case["families"]),
            "missing persons": sum(len(f["missing"]) for f in case["families"]),
            "samples": sum(map(len, typed)) + len(case["samples"]),
            "marker databases": 1 + bool(case.get("lineage")), "imports": 1,
            "relatives": sum(map(len, relatives))}


def check_consistent(served: Served) -> None:
    """The audit log verifies (`kinmatch audit verify`); on SQLite the file
    passes its integrity and foreign-key checks."""
    where = ["--data", str(served.folder)] + (["--database", served.address]
                                               if served.address else [])
    verified = run_cli("audit", "verify", *where)
    assert verified.exit_code == 0, verified.output
    if served.database.dialect == "sqlite":
        with served.database.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def second_programme(served: Served) -> str:
    """Another programme of the same agencies, where NFS-KR's analyst works too."""
    with served.database.write() as s:
        first = s.get_one(Programme, served.programme.programme_id)
        other = Programme(code="OTHER", name="Another programme")
        other.agencies = list(first.agencies)
        s.add(other)
        s.flush()
        s.add(RoleGrant(user_id=served.programme.users[(KR, Role.ANALYST)],
                        programme_id=other.id, role=Role.ANALYST))
        return other.id


def post_import(server: ServerProcess, served: Served, programme: str,
                outcome: dict[str, Any]) -> None:
    """Import the Chōsei example; ``outcome`` gets the status or the error."""
    try:
        with served.client(server) as http:
            answer = http.post(f"/api/programmes/{programme}/imports",
                               files={"file": (CHOSEI.name, CHOSEI.read_bytes())})
        outcome["status"] = answer.status_code
    except httpx2.HTTPError as exc:
        outcome["error"] = type(exc).__name__


@pytest.mark.slow
def test_a_server_killed_during_an_import_leaves_it_absent_or_whole(served: Served) -> None:
    chosei = served.programme.programme_id
    empty = case_rows(served.database, chosei)
    assert empty == dict.fromkeys(empty, 0)
    other = second_programme(served)
    server = served.start()
    try:
        # the same file imported uninterrupted elsewhere: what "whole" is, and how long it takes
        took = time.perf_counter()
        reference: dict[str, Any] = {}
        post_import(server, served, "OTHER", reference)
        took = time.perf_counter() - took
        assert reference == {"status": 201}
        whole = case_rows(served.database, other)
        assert whole == rows_of(json.loads(CHOSEI.read_text()))
        outcomes = []
        for fraction in (0.15, 0.4, 0.65, 0.9):
            outcome: dict[str, Any] = {}
            request = threading.Thread(target=post_import,
                                       args=(server, served, "CHOSEI", outcome))
            request.start()
            time.sleep(took * fraction)
            server.kill()
            request.join()
            check_consistent(served)
            rows = case_rows(served.database, chosei)
            assert rows in (empty, whole), f"killed at {fraction:.0%}: {rows}"
            if outcome.get("status") == 201:
                assert rows == whole  # answered before the kill: stored whole
            outcomes.append("whole" if rows == whole else "absent")
            server = served.start()
            if rows == whole:
                break
        # killed in the middle at least once (the import left no trace), then imported anew
        assert outcomes[0] == "absent", outcomes
        if outcomes[-1] == "absent":
            again: dict[str, Any] = {}
            post_import(server, served, "CHOSEI", again)
            assert again == {"status": 201}
        assert case_rows(served.database, chosei) == whole
    finally:
        server.stop()
    check_consistent(served)


#: the uninterrupted run's results by the analysis' input hash (both databases make
#: the same snapshot: run the library once)
REFERENCE: dict[str, dict[str, Any]] = {}


def uninterrupted_results(served: Served, analysis_id: str) -> dict[str, Any]:
    """The library's DVI pipeline run on the analysis' snapshot, in this process,
    as the JSON the service stores (its source named as the worker names it)."""
    with served.database.read() as s:
        analysis = s.get_one(Analysis, analysis_id)
        sealed, parameters, digest = (analysis.inputs_sealed, analysis.parameters,
                                      analysis.input_hash)
    if digest not in REFERENCE:
        document = served.keyring.open(sealed, analysis_place(analysis_id))
        case = parse_dvi_case(json.dumps(document), "snapshot")
        result = quietly(run_dvi_case, case, options_from(parameters), source="snapshot")
        REFERENCE[digest] = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    expected = json.loads(json.dumps(REFERENCE[digest]))
    expected["case"]["source"] = f"analysis {analysis_id}"
    return dict(expected)


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


def analysis_row(served: Served, analysis_id: str) -> Analysis:
    with served.database.read() as s:
        return s.get_one(Analysis, analysis_id)


@pytest.mark.slow
def test_an_analysis_killed_while_running_is_resumed_with_the_same_results(
        served: Served) -> None:
    made = served.programme
    with served.database.write() as s:
        import_case(s, served.keyring, programme_id=made.programme_id,
                    agency_id=made.agencies[KR], user_id=made.users[(KR, Role.ANALYST)],
                    data=CHOSEI.read_bytes(), filename=CHOSEI.name)
    server = served.start()
    try:
        with served.client(server) as http:
            started = http.post("/api/programmes/CHOSEI/analyses", json=MARKERS)
        assert started.status_code == 202, started.text
        analysis_id = started.json()["id"]

        def in_pairwise_stage() -> Analysis | None:
            row = analysis_row(served, analysis_id)
            running = row.status is AnalysisStatus.RUNNING and row.progress.get("stage") == 1
            return row if running else None

        first = wait_until(in_pairwise_stage, 120, "the pairwise LRs stage")
        # the heartbeat ticks within the stage (which lasts longer than STALE on its own)
        beating = wait_until(
            lambda: (row := in_pairwise_stage()) is not None
            and row.heartbeat_at > first.heartbeat_at and row,
            3 * jobs.HEARTBEAT.total_seconds(), "a heartbeat within the stage")
        assert beating.worker == f"{socket.gethostname()}:{server.pid}"
        server.kill()
        killed = analysis_row(served, analysis_id)
        assert killed.status is AnalysisStatus.RUNNING and killed.results is None
        check_consistent(served)

        server = served.start()  # a new process: another worker name
        expected = uninterrupted_results(served, analysis_id)  # meanwhile, here
        done = wait_until(lambda: (row := analysis_row(served, analysis_id)).status
                          not in (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING) and row,
                          900, "the resumed analysis")
        assert done.status is AnalysisStatus.DONE, done.error
        assert done.worker == f"{socket.gethostname()}:{server.pid}"
        assert done.results == expected
        with served.client(server) as http:
            shown = http.get(f"/api/programmes/CHOSEI/analyses/{analysis_id}").json()
        assert shown["status"] == "done" and shown["results"] == expected
    finally:
        server.stop()
    with served.database.read() as s:
        trail = [(e.action, e.detail) for e in s.execute(select(AuditEntry).where(
            AuditEntry.object_id == analysis_id).order_by(AuditEntry.seq)).scalars()]
    assert trail == [("start", {}), ("requeue", {"worker": killed.worker}), ("done", {})]
    check_consistent(served)


# --- the liveness rules, without a server ---------------------------------------------


def running_analysis(db: Database, made: Programme2, worker: str,
                     beat_age: timedelta) -> str:
    """An analysis marked running by ``worker``, its last heartbeat ``beat_age`` ago."""
    with db.write() as s:
        analysis = Analysis(programme_id=made.programme_id,
                            created_by=made.users[(KR, Role.ANALYST)],
                            agency_id=made.agencies[KR], input_hash="0" * 64,
                            inputs_sealed=b"", parameters={}, kinmatch_version="test",
                            status=AnalysisStatus.RUNNING, worker=worker,
                            started_at=now() - beat_age, heartbeat_at=now() - beat_age)
        s.add(analysis)
        s.flush()
        return analysis.id


def dead_pid() -> int:
    """The process id of a process that has ended (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def programme(database: Database) -> Programme2:
    with database.write() as s:
        return make_programme(s)


def statuses(db: Database, ids: list[str]) -> list[str]:
    with db.read() as s:
        return [s.get_one(Analysis, i).status.value for i in ids]


def test_requeued_are_the_analyses_of_dead_workers_and_only_those(
        database: Database, programme: Programme2) -> None:
    host = socket.gethostname()
    fresh, old = timedelta(seconds=1), jobs.STALE + timedelta(seconds=5)
    ids = [
        running_analysis(database, programme, f"{host}:{dead_pid()}", fresh),  # gone
        # its own name, running nothing: a container started again (same host name, pid)
        running_analysis(database, programme, worker_name(), fresh),
        running_analysis(database, programme, "elsewhere:4242", old),  # stale heartbeat
        running_analysis(database, programme, "elsewhere:4243", fresh),  # alive elsewhere
        running_analysis(database, programme, f"{host}:1", fresh),  # a live local process
    ]
    runner = JobRunner(database, Keyring.generate())  # named worker_name(), as a server
    assert runner.requeue_stale() == 3
    assert statuses(database, ids) == ["queued"] * 3 + ["running"] * 2
    assert runner.requeue_stale() == 0
    with database.read() as s:
        requeued = s.execute(select(AuditEntry.object_id).where(
            AuditEntry.action == "requeue")).scalars().all()
    assert sorted(requeued) == sorted(ids[:3])


@pytest.fixture
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    seconds = 0.05
    monkeypatch.setattr(jobs, "HEARTBEAT", timedelta(seconds=seconds))
    yield seconds


def test_the_heartbeat_ticks_during_a_stage_and_notices_a_lost_analysis(
        database: Database, programme: Programme2, quick_heartbeat: float) -> None:
    runner = JobRunner(database, Keyring.generate(), name="worker-a:1")
    analysis_id = running_analysis(database, programme, runner.name, timedelta(0))
    first = analysis_row_at(database, analysis_id)
    with runner.heartbeat(analysis_id) as lost:
        time.sleep(6 * quick_heartbeat)  # a long stage: no progress reported
        second = analysis_row_at(database, analysis_id)
        assert second > first and not lost.is_set()
        with database.write() as s:  # another server queued it again and took it
            s.get_one(Analysis, analysis_id).worker = "worker-b:2"
        wait = time.monotonic() + 100 * quick_heartbeat
        while not lost.is_set() and time.monotonic() < wait:
            time.sleep(quick_heartbeat)
        assert lost.is_set()
    assert not runner.beat(analysis_id)


def analysis_row_at(db: Database, analysis_id: str) -> Any:
    with db.read() as s:
        return s.get_one(Analysis, analysis_id).heartbeat_at


def test_only_a_unique_constraint_refusal_counts_as_a_clash(database: Database) -> None:
    with database.write() as s:
        s.add(Agency(code="NFS-KR", name="National Forensic Service", country="KR"))
    refusals = []
    for agency in (Agency(code="NFS-KR", name="the same code again", country="KR"),
                   Agency(code="NEW", name=None, country="KR")):  # a NOT NULL column
        with pytest.raises(IntegrityError) as refused, database.write() as s:
            s.add(agency)
        refusals.append(unique_violation(refused.value))
    assert refusals == [True, False]
