"""What became of a local task that ran: DONE, ERROR, RESOURCE_ERROR, ..., with its usage."""

from __future__ import annotations

from dataclasses import dataclass

from jobmon_client.distributor import ClaimedInstance, Ended
from jobmon_client.worker.process import ProcessResult, TaskProcess, stderr_tail

WORKER_STOPPED = "worker stopped"
KILLED_ON_REQUEST = "killed on request"


@dataclass(slots=True)
class RunningTask:
    """A launched instance and why it is being killed, if it is."""

    instance: ClaimedInstance
    slots: int
    process: TaskProcess
    runtime_limit: float | None
    wall_started: float  # epoch seconds: how the guardian checks it is the same process
    kill_reason: str | None = None  # "runtime", "request", "stop" or "lease"


def ended_as(task: RunningTask, result: ProcessResult) -> Ended:
    """What became of an instance that ran: DONE, ERROR, RESOURCE_ERROR, ..."""
    reason = task.kill_reason
    if reason == "runtime":
        tail = stderr_tail(task.process.stderr_path)
        summary = f"runtime limit of {task.runtime_limit:g}s exceeded"
        message = f"{summary}\n{tail}" if tail else summary
        return _with_usage(task, result, "RESOURCE_ERROR", message, resource_kind="runtime")
    if reason == "request":
        return _with_usage(task, result, "ERROR_FATAL", KILLED_ON_REQUEST)
    if reason == "stop":
        return _with_usage(task, result, "UNKNOWN_ERROR", WORKER_STOPPED)
    if reason == "lease":
        message = "stopped: its lease ran out while the server could not be reached"
        return _with_usage(task, result, "UNKNOWN_ERROR", message)
    if result.exit_code == 0:
        return _with_usage(task, result, "DONE", None)
    tail = stderr_tail(task.process.stderr_path)
    return _with_usage(task, result, "ERROR", tail or f"exit code {result.exit_code}")


def _with_usage(
    task: RunningTask,
    result: ProcessResult,
    status: str,
    message: str | None,
    resource_kind: str | None = None,
) -> Ended:
    return Ended(
        task.instance.id,
        status,
        exit_code=result.exit_code,
        error_message=message,
        resource_kind=resource_kind,
        max_rss_bytes=result.max_rss_bytes,
        cpu_seconds=result.cpu_seconds,
        wallclock_seconds=result.wallclock_seconds,
    )
