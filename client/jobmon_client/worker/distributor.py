"""The local distributor: a pool of slots on this machine running commands as children.

Only the worker loop's thread calls it, except ``wake`` and ``running_ids``. ``wait``
blocks in one selector over the children's pidfds and a wake-up eventfd, so an exit is
seen at once and no thread polls.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import selectors
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from jobmon_client.worker.instance import ClaimedInstance
from jobmon_client.worker.limits import runtime_limit
from jobmon_client.worker.process import ProcessResult, TaskProcess

log = logging.getLogger(__name__)

KILL_GRACE_SECONDS = 5.0
_MAX_NAME = 180


@dataclass(slots=True)
class RunningTask:
    """A launched instance and why it is being killed, if it is."""

    instance: ClaimedInstance
    process: TaskProcess
    runtime_limit: float | None
    kill_reason: str | None = None  # "runtime", "request" or "stop"


@dataclass(slots=True, frozen=True)
class FinishedTask:
    task: RunningTask
    result: ProcessResult


class LocalDistributor:
    """Runs claimed instances as child processes within a number of slots."""

    def __init__(
        self, parallelism: int, log_dir: Path, kill_grace: float = KILL_GRACE_SECONDS
    ) -> None:
        self.parallelism = parallelism
        self.log_dir = Path(log_dir).expanduser()
        self.kill_grace = kill_grace
        self.running: dict[int, RunningTask] = {}
        self.busy_slots = 0
        self._selector = selectors.DefaultSelector()
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._wake_lock = threading.Lock()
        self._selector.register(self._wake_fd, selectors.EVENT_READ, None)
        self._deadlines: list[tuple[float, int, int, str]] = []  # (when, seq, id, action)
        self._seq = itertools.count()
        self._workflow_dirs: dict[int, str] = {}

    # -- called from any thread -------------------------------------------------------
    def wake(self) -> None:
        """Make a blocked ``wait`` return (a no-op once closed)."""
        with self._wake_lock:
            if self._wake_fd >= 0:
                os.eventfd_write(self._wake_fd, 1)

    def running_ids(self) -> list[int]:
        return list(self.running.copy())

    # -- called from the loop's thread ------------------------------------------------
    def fits(self, instance: ClaimedInstance) -> bool:
        return self.busy_slots + instance.slots <= self.parallelism

    def launch(self, instance: ClaimedInstance) -> RunningTask:
        """Start an instance's command; raises OSError or ValueError when it cannot."""
        limit = runtime_limit(instance.resources)
        try:
            process = self._spawn(instance)
        except FileNotFoundError:  # the log directory went away: make it again, once
            self._workflow_dirs.pop(instance.workflow_id, None)
            process = self._spawn(instance)
        task = RunningTask(instance, process, limit)
        self.running[instance.id] = task
        self.busy_slots += instance.slots
        self._selector.register(process, selectors.EVENT_READ, task)
        if limit is not None:
            self._schedule(process.started + limit, instance.id, "runtime")
        log.debug("launched instance %d as pid %d: %s", instance.id, process.pid, instance.command)
        return task

    def kill(self, instance_id: int, reason: str) -> bool:
        """Terminate an instance's process group (SIGKILL after the grace period)."""
        task = self.running.get(instance_id)
        if task is None:
            return False
        if task.kill_reason is None:
            task.kill_reason = reason
            log.debug("killing instance %d (%s)", instance_id, reason)
            if self.kill_grace > 0:
                task.process.signal_group(signal.SIGTERM)
                self._schedule(time.monotonic() + self.kill_grace, instance_id, "escalate")
            else:
                task.process.signal_group(signal.SIGKILL)
        return True

    def wait(self, timeout: float | None = None) -> list[FinishedTask]:
        """Block until a child exits, a deadline passes or ``wake`` is called.

        Returns the instances that ended; enforces runtime limits and kill escalation.
        """
        if self._deadlines:
            due = max(0.0, self._deadlines[0][0] - time.monotonic())
            timeout = due if timeout is None else min(timeout, due)
        finished: list[FinishedTask] = []
        for key, _ in self._selector.select(timeout):
            task = key.data
            if task is None:
                _drain(self._wake_fd)
                continue
            finished.append(self._collect(task))
        if self._deadlines:
            self._run_deadlines()
        return finished

    def close(self) -> None:
        self._selector.close()
        with self._wake_lock:
            os.close(self._wake_fd)
            self._wake_fd = -1

    # -- internals --------------------------------------------------------------------
    def _collect(self, task: RunningTask) -> FinishedTask:
        process = task.process
        self._selector.unregister(process)
        result = process.reap()
        del self.running[task.instance.id]
        self.busy_slots -= task.instance.slots
        if task.kill_reason is not None:
            process.signal_group(signal.SIGKILL)  # whatever the shell left behind
        log.debug("instance %d exited with %d", task.instance.id, result.exit_code)
        return FinishedTask(task, result)

    def _spawn(self, instance: ClaimedInstance) -> TaskProcess:
        stem = (
            f"{self._workflow_dir(instance.workflow_id)}/{_file_name(instance.name)}.{instance.id}"
        )
        return TaskProcess.spawn(instance.command, stem + ".out", stem + ".err")

    def _schedule(self, when: float, instance_id: int, action: str) -> None:
        heapq.heappush(self._deadlines, (when, next(self._seq), instance_id, action))
        if len(self._deadlines) > 64 + 4 * len(self.running):
            live = [d for d in self._deadlines if d[2] in self.running]
            heapq.heapify(live)
            self._deadlines = live

    def _run_deadlines(self) -> None:
        now = time.monotonic()
        while self._deadlines and self._deadlines[0][0] <= now:
            _, _, instance_id, action = heapq.heappop(self._deadlines)
            task = self.running.get(instance_id)
            if task is None:
                continue
            if action == "runtime":
                log.debug("instance %d exceeded its runtime limit", instance_id)
                self.kill(instance_id, "runtime")
            else:
                task.process.signal_group(signal.SIGKILL)

    def _workflow_dir(self, workflow_id: int) -> str:
        directory = self._workflow_dirs.get(workflow_id)
        if directory is None:
            path = self.log_dir / str(workflow_id)
            path.mkdir(parents=True, exist_ok=True)
            directory = self._workflow_dirs[workflow_id] = str(path)
        return directory


def _file_name(name: str) -> str:
    return name.replace("/", "_").replace("\0", "_")[:_MAX_NAME] or "task"


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        os.eventfd_read(fd)
