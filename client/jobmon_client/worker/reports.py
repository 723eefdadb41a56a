"""The ``InstanceReport`` inputs the worker sends about each instance."""

from __future__ import annotations

import socket
from typing import Any

from jobmon_client.worker.distributor import FinishedTask, RunningTask
from jobmon_client.worker.process import stderr_tail

Report = dict[str, Any]

HOSTNAME = socket.gethostname()
WORKER_STOPPED = "worker stopped"
KILLED_ON_REQUEST = "killed on request"


def launched(task: RunningTask) -> tuple[Report, Report]:
    """LAUNCHED (with where it runs and where its output goes), then RUNNING."""
    instance_id = task.instance.id
    process = task.process
    return (
        {
            "taskInstanceId": instance_id,
            "status": "LAUNCHED",
            "distributorId": str(process.pid),
            "hostname": HOSTNAME,
            "stdoutPath": process.stdout_path,
            "stderrPath": process.stderr_path,
        },
        {"taskInstanceId": instance_id, "status": "RUNNING"},
    )


def finished(done: FinishedTask) -> Report:
    """The final report of an instance that ran: DONE, ERROR, RESOURCE_ERROR, ..."""
    task, result = done.task, done.result
    report: Report = {
        "taskInstanceId": task.instance.id,
        "exitCode": result.exit_code,
        "maxRssBytes": result.max_rss_bytes,
        "cpuSeconds": result.cpu_seconds,
        "wallclockSeconds": result.wallclock_seconds,
    }
    reason = task.kill_reason
    if reason == "runtime":
        report["status"] = "RESOURCE_ERROR"
        report["resourceKind"] = "runtime"
        report["errorMessage"] = _with_tail(
            f"runtime limit of {task.runtime_limit:g}s exceeded", task
        )
    elif reason == "request":
        report["status"] = "ERROR_FATAL"
        report["errorMessage"] = KILLED_ON_REQUEST
    elif reason == "stop":
        report["status"] = "UNKNOWN_ERROR"
        report["errorMessage"] = WORKER_STOPPED
    elif result.exit_code == 0:
        report["status"] = "DONE"
    else:
        report["status"] = "ERROR"
        tail = stderr_tail(task.process.stderr_path)
        report["errorMessage"] = tail or f"exit code {result.exit_code}"
    return report


def not_run(instance_id: int, status: str, message: str) -> Report:
    """The final report of an instance that was claimed but never ran."""
    return {"taskInstanceId": instance_id, "status": status, "errorMessage": message}


def _with_tail(summary: str, task: RunningTask) -> str:
    tail = stderr_tail(task.process.stderr_path)
    return f"{summary}\n{tail}" if tail else summary
