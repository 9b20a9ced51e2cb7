"""A real ``kinmatch serve`` process (Uvicorn on 127.0.0.1), for the tests
and the benchmark of the service under load and faults.

The server runs on a data folder prepared beforehand (its key file, and its
SQLite database unless a PostgreSQL address is given), in a process of its
own, so it can be stopped as an operator would (SIGTERM) or killed as a
crash would (SIGKILL: no clean-up, no rollback, no final write).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from databases import free_port

#: the ``kinmatch`` command of this environment (a console script beside Python)
KINMATCH = Path(sys.executable).with_name("kinmatch")


@dataclass
class ServerProcess:
    """A running ``kinmatch serve``: its process, its address, its log."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL, as a crash or the out-of-memory killer would; the process
        is reaped, so its pid no longer names a live process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Uvicorn shuts down cleanly), SIGKILL if it does not."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(data: Path, database: str | None = None, *,
                 timeout: float = 120.0) -> ServerProcess:
    """Start ``kinmatch serve`` on ``data`` (and ``database``) on a free port;
    return once ``/api/health`` answers."""
    port = free_port()
    args = [str(KINMATCH), "serve", "--data", str(data), "--host", "127.0.0.1",
            "--port", str(port), "--insecure-cookies"]
    if database is not None:
        args += ["--database", database]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINMATCH_")}
    log = data / f"server-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kinmatch serve exited with {process.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            if httpx2.get(f"{server.url}/api/health", timeout=2.0).status_code == 200:
                return server
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"kinmatch serve did not answer within {timeout} s:\n{server.log_tail()}")


@contextmanager
def running_server(data: Path, database: str | None = None) -> Iterator[ServerProcess]:
    """A server for the block; stopped (or killed) when the block ends."""
    server = start_server(data, database)
    try:
        yield server
    finally:
        server.stop()
