"""Small helpers shared by the tests: GraphQL look-ups and shell commands for tasks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from jobmon_client.transport import GraphQLClient

TASK_INSTANCES = """
query($id: Int!) {
  task(id: $id) {
    __typename
    ... on Task { id status numAttempts
      instances(first: 100) { items { id status exitCode workerId started finished
                                      distributorId hostname stdoutPath
                                      requestedResources stderrPath } } }
    ... on Error { message }
  }
}"""

WORKFLOW = """
query($id: Int!) {
  workflow(id: $id) {
    __typename
    ... on Workflow { id status totalTasks taskCounts { status count }
                      latestRun { id status } }
    ... on Error { message }
  }
}"""


def task_instances(url: str, task_id: int) -> list[dict[str, Any]]:
    with GraphQLClient(url) as client:
        task = client.execute(TASK_INSTANCES, {"id": task_id})["task"]
    return list(task["instances"]["items"])


def workflow(url: str, workflow_id: int) -> dict[str, Any]:
    with GraphQLClient(url) as client:
        return dict(client.execute(WORKFLOW, {"id": workflow_id})["workflow"])


def stamp_command(directory: Path, label: str, seconds: float = 0.0) -> str:
    """A command that records when it started and ended, in nanoseconds, and sleeps between."""
    return (
        f"date +%s%N > {directory}/{label}.start; sleep {seconds}; "
        f"date +%s%N > {directory}/{label}.end"
    )


def read_stamps(directory: Path, label: str) -> tuple[int, int]:
    return (
        int((directory / f"{label}.start").read_text()),
        int((directory / f"{label}.end").read_text()),
    )


def python_command(code: str) -> str:
    """Run a snippet with this interpreter (quoted for /bin/sh)."""
    return f"{sys.executable} -c '{code}'"


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once a server process answers on ``url``/health."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, f"the server for {url} exited"
        assert time.monotonic() < deadline, f"the server for {url} did not start"
        time.sleep(0.1)
