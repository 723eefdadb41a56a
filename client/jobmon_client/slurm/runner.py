"""The runner inside each element of a Jobmon job array.

    python -m jobmon_client.slurm.runner MANIFEST

The worker writes one manifest per submission: the server, the worker's id, and one entry
per array element (task instance id, command, log files). The runner takes the entry of
``SLURM_ARRAY_TASK_ID``, reports RUNNING with its host and Slurm job id, heartbeats, runs
the command in its own process group, and reports DONE, or ERROR with the exit code and
the tail of stderr. It exits with the command's exit code.

When the command dies of SIGKILL or SIGTERM (the memory limit, the time limit, scancel),
the runner reports nothing final: Slurm's verdict (OUT_OF_MEMORY, TIMEOUT, CANCELLED) is
more telling, and the worker reports it from squeue. The runner talks to the server with
the standard library's HTTP client: it starts in every element of every array, so its
start-up (no httpx, no GraphQL stack) is part of each task's cost, and its memory counts
against the job's.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jobmon_client.config import auth_headers
from jobmon_client.worker.process import TaskProcess, stderr_tail

REPORT = """
mutation Report($workerId: String!, $clusterName: String!, $reports: JSON!) {
  workerSync(workerId: $workerId, clusterName: $clusterName, reports: $reports) { accepted }
}
"""
HEARTBEAT = """
mutation Heartbeat($workerId: String!, $ids: [Int!]!, $next: Float!) {
  heartbeat(workerId: $workerId, taskInstanceIds: $ids, nextReportSeconds: $next) {
    killInstanceIds
  }
}
"""
SLURM_KILLS = (signal.SIGKILL, signal.SIGTERM)
RETRY_SECONDS = 30.0
# The final report is tried for longer: a task that ran must not run again for want of it
# (the worker also reports it from the result file once Slurm says the job ended).
FINAL_RETRY_SECONDS = 600.0
# The command is stopped this long before its lease would run out unrenewed.
LEASE_MARGIN_SECONDS = 2.0


class Runner:
    def __init__(
        self, manifest: dict[str, Any], index: int, job_id: str, result_path: Path | None = None
    ) -> None:
        self.result_path = result_path
        self.entry = manifest["instances"][index]
        self.instance_id = int(self.entry["id"])
        self.worker_id = str(manifest["worker_id"])
        self.cluster_name = str(manifest["cluster_name"])
        self.interval = float(manifest["heartbeat_interval"])
        self.job_id = job_id
        self.url = str(manifest["graphql_url"])
        self.headers = {"Content-Type": "application/json", **auth_headers()}
        self.stopped = threading.Event()
        self.process: TaskProcess | None = None

    def post(
        self, document: str, variables: dict[str, Any], retry_seconds: float = RETRY_SECONDS
    ) -> dict[str, Any]:
        """POST a GraphQL document, retrying what is transient (no answer, a 5xx such as
        an unavailable database) with jittered backoff for up to ``retry_seconds``."""
        delay = 0.2
        give_up = time.monotonic() + retry_seconds
        body = json.dumps({"query": document, "variables": variables}).encode()
        while True:
            try:
                status, answer = post_json(self.url, body, self.headers)
                if status >= 500:
                    raise ServerSideError(f"server error {status}")
                if status >= 400:
                    raise RuntimeError(f"server refused the request ({status}): {answer[:500]!r}")
                data = json.loads(answer)
                if data.get("errors"):
                    raise RuntimeError(f"server refused the request: {data['errors']}")
                return dict(data["data"])
            except (OSError, http.client.HTTPException, ServerSideError):
                if time.monotonic() + delay > give_up:
                    raise
                self.stopped.wait(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, 2.0)

    def report(self, *statuses: str, retry_seconds: float = RETRY_SECONDS, **fields: Any) -> int:
        """Report statuses in order (with the same fields); return how many were applied."""
        reports = [{"taskInstanceId": self.instance_id, "status": s, **fields} for s in statuses]
        data = self.post(
            REPORT,
            {"workerId": self.worker_id, "clusterName": self.cluster_name, "reports": reports},
            retry_seconds,
        )
        return int(data["workerSync"]["accepted"])

    def heartbeat_until_stopped(self) -> None:
        """Renew the lease every interval; if it cannot be renewed before it runs out, the
        server runs the task elsewhere, so the command is stopped first."""
        lease = 3 * self.interval
        renewed = time.monotonic()
        while not self.stopped.wait(self.interval):
            sent = time.monotonic()
            try:
                kills = self.post(
                    HEARTBEAT,
                    {"workerId": self.worker_id, "ids": [self.instance_id], "next": lease},
                )["heartbeat"]["killInstanceIds"]
            except Exception as exc:  # noqa: BLE001 - a missed heartbeat is not fatal yet
                print(f"jobmon runner: heartbeat failed: {exc}", file=sys.stderr)
                if time.monotonic() > renewed + lease - LEASE_MARGIN_SECONDS:
                    print(
                        "jobmon runner: the lease ran out unrenewed; stopping the command",
                        file=sys.stderr,
                    )
                    self.stop_command()
                    return
                continue
            renewed = sent
            if self.instance_id in kills:
                self.stop_command()

    def stop_command(self) -> None:
        if self.process is not None:
            self.process.signal_group(signal.SIGTERM)

    def run(self) -> int:
        entry = self.entry
        # LAUNCHED too: the job may start before its worker's LAUNCHED report arrives.
        accepted = self.report(
            "LAUNCHED",
            "RUNNING",
            distributorId=self.job_id,
            hostname=socket.gethostname(),
            stdoutPath=entry["stdout"],
            stderrPath=entry["stderr"],
        )
        if not accepted:
            print(
                f"jobmon runner: task instance {self.instance_id} has already ended "
                "(stopped, or declared lost while this job waited); not running it",
                file=sys.stderr,
            )
            return 0
        Path(entry["stderr"]).parent.mkdir(parents=True, exist_ok=True)
        self.process = process = TaskProcess.spawn(
            entry["command"], entry["stdout"], entry["stderr"]
        )
        signal.signal(signal.SIGTERM, lambda signum, frame: process.signal_group(signum))
        beats = threading.Thread(target=self.heartbeat_until_stopped, daemon=True)
        beats.start()
        result = process.reap()
        self.stopped.set()
        code = result.exit_code
        if code > 128 and code - 128 in SLURM_KILLS:
            return code
        usage = {
            "exitCode": code,
            "maxRssBytes": result.max_rss_bytes,
            "cpuSeconds": result.cpu_seconds,
            "wallclockSeconds": result.wallclock_seconds,
        }
        if code == 0:
            final: dict[str, Any] = {"status": "DONE", **usage}
        else:
            tail = stderr_tail(entry["stderr"]) or f"exited with code {code}"
            final = {"status": "ERROR", "errorMessage": tail, **usage}
        if self.result_path is not None:  # for the worker, should this report be lost
            write_result(self.result_path, {"taskInstanceId": self.instance_id, **final})
        status = final.pop("status")
        self.report(status, retry_seconds=FINAL_RETRY_SECONDS, **final)
        return code


class ServerSideError(Exception):
    """The server answered 5xx (an unavailable database, say): worth sending again."""


def post_json(
    url: str, body: bytes, headers: dict[str, str], timeout: float = 30.0
) -> tuple[int, bytes]:
    """POST ``body`` to ``url``; the answer's status and body. Raises OSError or
    http.client.HTTPException when there is no answer."""
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        import ssl  # only here: loading it costs every element of every array

        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m jobmon_client.slurm.runner MANIFEST", file=sys.stderr)
        return 2
    manifest = json.loads(Path(argv[1]).read_text())
    index = int(os.environ["SLURM_ARRAY_TASK_ID"])
    job_id = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{index}"
    return Runner(manifest, index, job_id, result_path(argv[1], index)).run()


def result_path(manifest: str | Path, index: int) -> Path:
    """Where the runner of element ``index`` writes its final report."""
    return Path(f"{manifest}.{index}.result.json")


def write_result(path: Path, report: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(report))
    os.replace(temporary, path)


def read_result(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
