"""`jobmon server` as a process: JSON logs that name each request, and a clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from jobmon_server.embedded import free_port

from tests.helpers import wait_until_healthy

JOBMON = str(Path(sys.executable).parent / "jobmon")


def test_json_logs_name_the_request_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            JOBMON,
            "server",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path}/j.db",
            "--log-format",
            "json",
            "--log-level",
            "info",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_healthy(url, process)
        answer = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=10)
        request_id = answer.headers["x-request-id"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    # uvicorn finishes what is in flight, then ends by the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(e["message"] == "Application shutdown complete." for e in entries), stderr
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e.get("request_id") == request_id for e in entries), stderr
