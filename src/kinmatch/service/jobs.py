"""Analyses as jobs: queued in the database, run by workers, resumable.

Starting an analysis stores it *queued* with its immutable inputs (a sealed
snapshot of the case document and its SHA-256) and parameters. A worker
(a thread of the server by default) claims the oldest queued analysis with
one conditional UPDATE (so two workers never run the same one), runs the
library's DVI pipeline on the snapshot, reports each stage as progress,
beats a heartbeat, and stores the results — or the error. A cancel request
is honoured between stages. When a server starts, analyses left *running*
by a server that stopped (their heartbeat is stale) are queued again: the
pipeline is deterministic, so running it again from its snapshot gives the
same results. New data never changes an analysis: it reads only its
snapshot.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import asdict
from datetime import timedelta
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


class JobRunner:
    """Runs queued analyses in a background thread until stopped."""

    def __init__(self, database: Database, keyring: Keyring, *, poll: float = 0.5,
                 name: str | None = None) -> None:
        self.database, self.keyring, self.poll = database, keyring, poll
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
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

    def requeue_stale(self) -> int:
        """Queue again the analyses left running by a stopped server."""
        limit = now() - STALE
        with self.database.write() as s:
            stale = s.execute(select(Analysis).where(
                Analysis.status == AnalysisStatus.RUNNING)).scalars().all()
            count = 0
            for analysis in stale:
                beat = analysis.heartbeat_at
                if beat is not None and beat.tzinfo is None:
                    beat = beat.replace(tzinfo=limit.tzinfo)
                if beat is None or beat < limit or analysis.worker == self.name:
                    analysis.status = AnalysisStatus.QUEUED
                    analysis.worker = None
                    analysis.progress = {"note": "resumed after the server stopped"}
                    record(s, SYSTEM, "requeue", "analysis", analysis.id,
                           programme_id=analysis.programme_id)
                    count += 1
        return count

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
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

    def run_one(self) -> bool:
        """Run the oldest queued analysis; ``False`` when none is queued."""
        analysis_id = self.claim()
        if analysis_id is None:
            return False
        with self.database.read() as s:
            analysis = s.get_one(Analysis, analysis_id)
            sealed, parameters = analysis.inputs_sealed, dict(analysis.parameters)

        def on_stage(i: int) -> None:
            with self.database.write() as s:
                row = s.get_one(Analysis, analysis_id)
                if row.cancel_requested:
                    raise Cancelled
                row.progress = {"stage": i, "stages": len(STAGES),
                                "name": STAGES[i] if i < len(STAGES) else "done"}
                row.heartbeat_at = now()

        try:
            document = self.keyring.open(sealed, analysis_place(analysis_id))
            case = parse_dvi_case(json.dumps(document), f"analysis {analysis_id}")
            result = run_dvi_case(case, options_from(parameters), source=f"analysis {analysis_id}",
                                  on_stage=on_stage)
            results = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        except Cancelled:
            self._finish(analysis_id, AnalysisStatus.CANCELLED, error="cancelled on request")
            return True
        except KinmatchError as exc:
            self._finish(analysis_id, AnalysisStatus.FAILED, error=str(exc))
            return True
        except Exception as exc:
            self._finish(analysis_id, AnalysisStatus.FAILED,
                         error=f"internal error: {type(exc).__name__}: {exc}")
            return True
        self._finish(analysis_id, AnalysisStatus.DONE, results=results)
        return True

    def _finish(self, analysis_id: str, status: AnalysisStatus, *,
                results: dict[str, Any] | None = None, error: str | None = None) -> None:
        with self.database.write() as s:
            row = s.get_one(Analysis, analysis_id)
            row.status, row.results, row.error = status, results, error
            row.finished_at = now()
            record(s, SYSTEM, status.value, "analysis", analysis_id,
                   programme_id=row.programme_id,
                   after=None if results is None else {"results": digest(results)},
                   detail={"error": error} if error else {})

