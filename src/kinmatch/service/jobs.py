"""Analyses as jobs: queued in the database, run by workers, resumable.

Starting an analysis stores it *queued* with its immutable inputs (a sealed
snapshot of the case document and its SHA-256) and parameters. A worker
(a thread of the server by default) claims the oldest queued analysis with
one conditional UPDATE (so two workers never run the same one), runs the
library's DVI pipeline on the snapshot, reports each stage as progress,
and stores the results — or the error. A cancel request is honoured
between stages.

While an analysis runs, a heartbeat thread stamps it every
:data:`HEARTBEAT`, during long stages too. An analysis left *running* by a
worker that died (a server killed, a machine lost) is queued again, by the
server that starts next or by any running server's periodic check, when

* its worker is a process of this machine that no longer exists (a server
  restarted on the same machine resumes its analyses at once), or has this
  server's own name (a container restarted with the same host name and
  process id), or
* its heartbeat is older than :data:`STALE` (a worker on another machine).

The pipeline is deterministic, so running it again from its snapshot gives
the same results. A worker that finds its analysis taken from it (queued
again by another server while it was cut off from the database) drops its
work: only the worker named on the analysis stores results. New data
never changes an analysis: it reads only its snapshot.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from kinmatch.dvi.pipeline import STAGES, DVIOptions, run_dvi_case
from kinmatch.errors import KinmatchError
from kinmatch.formats.dvi_json import parse_dvi_case
from kinmatch.storage.audit import SYSTEM, digest, record
from kinmatch.storage.database import Database
from kinmatch.storage.encryption import Keyring, sealed_place
from kinmatch.storage.models import Analysis, AnalysisStatus, now

HEARTBEAT = timedelta(seconds=5)
STALE = timedelta(seconds=30)

#: the analyses the runners of this process are running now
_running: set[str] = set()
_running_lock = threading.Lock()


def analysis_place(analysis_id: str) -> str:
    return sealed_place("analyses", analysis_id, "inputs")


def options_from(parameters: dict[str, Any]) -> DVIOptions:
    """The pipeline options of an analysis' parameters (unknown names refused)."""
    known = set(asdict(DVIOptions()))
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise KinmatchError(f"unknown analysis parameter(s) {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(known))})")
    return DVIOptions(**parameters)


def inputs_hash(document: dict[str, Any]) -> str:
    return digest(document)


class Cancelled(Exception):
    pass


class Lost(Exception):
    """The analysis was taken from this worker (queued again by another server)."""


def worker_name() -> str:
    """This process as a worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
    """Does process ``pid`` exist (on this machine)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def worker_gone(worker: str, host: str | None = None) -> bool:
    """Is ``worker`` (``host:pid``) a process of this machine (``host``,
    default this one) that no longer exists?"""
    name, _, pid = worker.rpartition(":")
    return (name == (host or socket.gethostname()) and pid.isdigit()
            and not process_alive(int(pid)))


def _aware(at: datetime | None) -> datetime | None:
    # SQLite returns naive times (UTC)
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=now().tzinfo)


class JobRunner:
    """Runs queued analyses in a background thread until stopped."""

    def __init__(self, database: Database, keyring: Keyring, *, poll: float = 0.5,
                 name: str | None = None) -> None:
        self.database, self.keyring, self.poll = database, keyring, poll
        self.name = name or worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.requeue_stale()
        self._thread = threading.Thread(target=self._loop, name="kinmatch-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def is_orphaned(self, analysis: Analysis, limit: datetime) -> bool:
        """Is the running ``analysis`` left by a dead worker (see the module)?"""
        with _running_lock:
            if analysis.id in _running:
                return False
        worker = analysis.worker or ""
        beat = _aware(analysis.heartbeat_at)
        return (not worker or worker == self.name or worker_gone(worker)
                or beat is None or beat < limit)

    def requeue_stale(self) -> int:
        """Queue again the analyses left running by dead workers; how many."""
        limit = now() - STALE
        with self.database.read() as s:
            orphans = [(a.id, a.worker, a.heartbeat_at) for a in s.execute(
                select(Analysis).where(Analysis.status == AnalysisStatus.RUNNING)).scalars()
                if self.is_orphaned(a, limit)]
        count = 0
        for analysis_id, worker, beat in orphans:
            with self.database.write() as s:
                # only if nobody took it meanwhile (another server's check, a late heartbeat)
                requeued = cast(CursorResult[Any], s.execute(update(Analysis).where(
                    Analysis.id == analysis_id, Analysis.status == AnalysisStatus.RUNNING,
                    Analysis.worker == worker, Analysis.heartbeat_at == beat).values(
                    status=AnalysisStatus.QUEUED, worker=None,
                    progress={"note": "resumed after its worker stopped"}))).rowcount
                if requeued == 1:
                    programme_id = s.get_one(Analysis, analysis_id).programme_id
                    record(s, SYSTEM, "requeue", "analysis", analysis_id,
                           programme_id=programme_id, detail={"worker": worker})
                    count += 1
        return count

    def _loop(self) -> None:
        next_check = time.monotonic() + HEARTBEAT.total_seconds()
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + HEARTBEAT.total_seconds()
                    self.requeue_stale()
                ran = self.run_one()
            except Exception:
                ran = False
            if not ran:
                self._wake.wait(self.poll)
                self._wake.clear()

    def claim(self) -> str | None:
        with self.database.write() as s:
            candidate = s.execute(select(Analysis.id).where(
                Analysis.status == AnalysisStatus.QUEUED).order_by(Analysis.created_at)
                .limit(1)).scalar_one_or_none()
            if candidate is None:
                return None
            claimed = cast(CursorResult[Any], s.execute(update(Analysis).where(
                Analysis.id == candidate, Analysis.status == AnalysisStatus.QUEUED).values(
                status=AnalysisStatus.RUNNING, worker=self.name, started_at=now(),
                heartbeat_at=now()))).rowcount
            return candidate if claimed == 1 else None

    def beat(self, analysis_id: str, **values: Any) -> bool:
        """Stamp the heartbeat (and ``values``) of an analysis this worker
        runs; ``False`` when it is no longer this worker's."""
        with self.database.write() as s:
            return cast(CursorResult[Any], s.execute(update(Analysis).where(
                Analysis.id == analysis_id, Analysis.worker == self.name,
                Analysis.status == AnalysisStatus.RUNNING).values(
                heartbeat_at=now(), **values))).rowcount == 1

    @contextmanager
    def heartbeat(self, analysis_id: str) -> Iterator[threading.Event]:
        """Beat every :data:`HEARTBEAT` in a thread while the block runs;
        the event yielded is set if the analysis was taken from this worker."""
        lost, done = threading.Event(), threading.Event()

        def beating() -> None:
            while not done.wait(HEARTBEAT.total_seconds()):
                try:
                    if not self.beat(analysis_id):
                        lost.set()
                        return
                except Exception:  # the database is away for a moment: beat again later
                    continue

        thread = threading.Thread(target=beating, name=f"kinmatch-heartbeat-{analysis_id}",
                                  daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            done.set()
            thread.join()

    def run_one(self) -> bool:
        """Run the oldest queued analysis; ``False`` when none is queued."""
        analysis_id = self.claim()
        if analysis_id is None:
            return False
        with _running_lock:
            _running.add(analysis_id)
        try:
            self._run(analysis_id)
        finally:
            with _running_lock:
                _running.discard(analysis_id)
        return True

    def _run(self, analysis_id: str) -> None:
        with self.database.read() as s:
            analysis = s.get_one(Analysis, analysis_id)
            sealed, parameters = analysis.inputs_sealed, dict(analysis.parameters)

        with self.heartbeat(analysis_id) as lost:

            def on_stage(i: int) -> None:
                if lost.is_set():
                    raise Lost
                with self.database.read() as s:
                    cancel = s.execute(select(Analysis.cancel_requested).where(
                        Analysis.id == analysis_id)).scalar_one()
                if cancel:
                    raise Cancelled
                progress = {"stage": i, "stages": len(STAGES),
                            "name": STAGES[i] if i < len(STAGES) else "done"}
                if not self.beat(analysis_id, progress=progress):
                    raise Lost

            try:
                document = self.keyring.open(sealed, analysis_place(analysis_id))
                case = parse_dvi_case(json.dumps(document), f"analysis {analysis_id}")
                result = run_dvi_case(case, options_from(parameters),
                                      source=f"analysis {analysis_id}", on_stage=on_stage)
                results = json.loads(json.dumps(result.to_dict(), allow_nan=False))
            except Lost:
                return
            except Cancelled:
                self._finish(analysis_id, AnalysisStatus.CANCELLED, error="cancelled on request")
                return
            except KinmatchError as exc:
                self._finish(analysis_id, AnalysisStatus.FAILED, error=str(exc))
                return
            except Exception as exc:
                self._finish(analysis_id, AnalysisStatus.FAILED,
                             error=f"internal error: {type(exc).__name__}: {exc}")
                return
        self._finish(analysis_id, AnalysisStatus.DONE, results=results)

    def _finish(self, analysis_id: str, status: AnalysisStatus, *,
                results: dict[str, Any] | None = None, error: str | None = None) -> None:
        """Store how the analysis ended — if it is still this worker's."""
        with self.database.write() as s:
            row = s.get_one(Analysis, analysis_id)
            if row.worker != self.name or row.status is not AnalysisStatus.RUNNING:
                return
            row.status, row.results, row.error = status, results, error
            row.finished_at = now()
            record(s, SYSTEM, status.value, "analysis", analysis_id,
                   programme_id=row.programme_id,
                   after=None if results is None else {"results": digest(results)},
                   detail={"error": error} if error else {})
