"""Start a Jobmon process for a benchmark on a fresh SQLite database and read its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jobmon_process(
    command: str, *extra: str, db_url: str | None = None
) -> Iterator[tuple[str, int]]:
    """Run ``jobmon server`` or ``jobmon up`` on a free port; yield (url, pid)."""
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        db = db_url or f"sqlite:///{tmp}/bench.db"
        proc = subprocess.Popen(
            [
                str(BIN / "jobmon"),
                command,
                "--port",
                str(port),
                "--db",
                db,
                "--log-level",
                "warning",
                *extra,
            ],
            env={**os.environ, "JOBMON_SERVER_URL": url},
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_until_healthy(url, proc)
            os.environ["JOBMON_SERVER_URL"] = url
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Return once ``url``/health answers; exit if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the Jobmon process for {url} did not start")
        time.sleep(0.1)
