"""A real server process on a loopback port over SQLite, with its log, for hostile requests.

Everything here is refused at the edge, before any database work, so one backend tells
what every backend does (tests/fuzz/test_bad_inputs.py sends lone surrogates to all three).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from jobmon_server.embedded import free_port

from tests.helpers import wait_until_healthy

T = TypeVar("T")


JOBMON = str(Path(sys.executable).parent / "jobmon")


@dataclass
class EdgeServer:
    """A ``jobmon server`` process of its own (so that no test code shares its interpreter,
    and a stall is the server's alone), logging JSON lines to a file."""

    url: str
    process: subprocess.Popen
    log_path: Path

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"

    def loop_cpu_seconds(self) -> float:
        """CPU time the server's main thread (its event loop) has used, user and system."""
        stat = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_problems(self) -> list[str]:
        """Lines at ERROR or above, and any traceback, in the server's log so far."""
        problems = []
        for line in self.log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"level": "?", "message": line}
            if (
                entry.get("level") in ("ERROR", "CRITICAL")
                or "exception" in entry
                or ("Traceback" in line)
            ):
                problems.append(line[:500])
        return problems


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    directory = tmp_path_factory.mktemp("edge")
    port = free_port()
    log_path = directory / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                JOBMON,
                "server",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{directory}/jobmon.db",
                "--log-format",
                "json",
                "--log-level",
                "info",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield EdgeServer(url, process, log_path)
    finally:
        process.terminate()
        process.wait(30)


def health_while(url: str, hostile: Callable[[], T]) -> tuple[T, list[float]]:
    """Run ``hostile`` on a thread and time /health answers until it returns."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = hostile()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            outcome["error"] = exc

    latencies: list[float] = []
    with httpx.Client(timeout=30) as client:
        client.get(f"{url}/health")  # the connection is open before timing starts
        thread = threading.Thread(target=run)
        thread.start()
        while thread.is_alive() or not latencies:
            started = time.perf_counter()
            answer = client.get(f"{url}/health")
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], latencies
