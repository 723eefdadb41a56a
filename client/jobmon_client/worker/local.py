"""The local distributors: "sequential" (one task at a time) and "multiprocess" (a pool of
slots on this machine), running each command as a child process.

Tasks start in sessions of their own (``process.TaskProcess``), so they would outlive a
worker that is killed: a guardian process (``guardian.py``) stops them when the worker
ends or when its lease runs out, and each task's pid is noted in the worker's journal so
that the next worker on this host can make sure it is gone.

``wait`` blocks in one selector over the children's pidfds and a wake-up eventfd, so an
exit is seen at once and no thread polls.
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
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jobmon_client.config import task_environment_bytes
from jobmon_client.distributor import (
    AdoptedInstance,
    ClaimedInstance,
    DistributorContext,
    Ended,
    Launched,
    QueueSpec,
)
from jobmon_client.log_paths import attempt_log_paths
from jobmon_client.worker import guardian
from jobmon_client.worker.guardian_pipe import GuardianPipe, group_alive, killpg
from jobmon_client.worker.limits import (
    SHORT_TASK_SECONDS,
    backlog_size,
    default_parallelism,
    runtime_limit,
    slots_needed,
)
from jobmon_client.worker.outcome import (
    KILLED_ON_REQUEST,
    WORKER_STOPPED,
    RunningTask,
    ended_as,
)
from jobmon_client.worker.process import TaskProcess

log = logging.getLogger(__name__)

KILL_GRACE_SECONDS = 5.0
# Stop the tasks this long before the lease runs out (at most; a fifth of a short lease).
LEASE_MARGIN_SECONDS = 2.0
# The guardian is told of new tasks after each round of launches, and at least this often.
GUARDIAN_FLUSH_LAUNCHES = 8
HOSTNAME = os.uname().nodename
_MAX_NAME = 180


def create(context: DistributorContext) -> LocalDistributor:
    kind = "sequential" if context.options.get("kind") == "sequential" else "multiprocess"
    if context.cluster_name == "sequential":
        kind = "sequential"
    return LocalDistributor(
        kind,
        default_parallelism(kind, context.parallelism),
        context.log_dir,
        kill_grace=float(context.options.get("kill_grace", KILL_GRACE_SECONDS)),
        max_backlog=context.options.get("max_backlog"),
        note=context.note,
        forget=context.forget,
    )


@dataclass(slots=True)
class _Orphan:
    """A process a stopped worker left, being killed."""

    instance_id: int
    pid: int
    pidfd: int
    status: str
    message: str


class LocalDistributor:
    """Runs claimed instances as child processes within a number of slots.

    Claims keep instances waiting here beyond the free slots while tasks are short (their
    recent average under a second): a slot that frees is refilled at once, without waiting
    for the server. As many wait as the slots run in about half a second (at least 32, at
    most 256, or ``max_backlog``), so that trivial tasks are claimed a hundred at a time,
    not a dozen. The bound is what a worker that stops (or dies) costs: the instances
    waiting here end as UNKNOWN_ERROR and are retried, an attempt each. Long tasks are not
    hoarded: another worker may run them sooner.
    """

    def __init__(
        self,
        kind: str,
        parallelism: int,
        log_dir: Path,
        *,
        kill_grace: float = KILL_GRACE_SECONDS,
        max_backlog: int | None = None,
        note: object = None,
        forget: object = None,
    ) -> None:
        self.kind = kind
        self.parallelism = parallelism
        self.log_dir = Path(log_dir).expanduser()
        self.kill_grace = kill_grace
        self.max_backlog = None if max_backlog is None else int(max_backlog)
        self._note = note if callable(note) else (lambda instance_id, info: None)
        self._forget = forget if callable(forget) else (lambda instance_id: None)
        self.running: dict[int, RunningTask] = {}
        self.busy_slots = 0
        self._waiting: deque[tuple[ClaimedInstance, int]] = deque()
        self._waiting_slots = 0
        self._ended: list[Launched | Ended] = []
        self._orphans: dict[int, _Orphan] = {}
        self._selector = selectors.DefaultSelector()
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._wake_lock = threading.Lock()
        self._selector.register(self._wake_fd, selectors.EVENT_READ, None)
        self._deadlines: list[tuple[float, int, int, str]] = []  # (when, seq, id, action)
        self._seq = itertools.count()
        self._workflow_dirs: dict[int, str] = {}
        self._average_seconds = SHORT_TASK_SECONDS  # recent tasks' wall time (moving average)
        self._lease_ends: float | None = None
        self._guardian: GuardianPipe | None = None
        self._stopping = False

    # -- called from any thread -------------------------------------------------------
    def capacity(self) -> int:
        committed = self.busy_slots + self._waiting_slots
        backlog = self.backlog()
        if self._stopping or committed >= self.parallelism + backlog // 2:
            return 0  # claim again once half the backlog is used
        return self.parallelism + backlog - committed

    def top_up(self) -> int:
        """How many a claim that is made anyway may take: up to a full backlog (the claimer
        waits for half the backlog to be used before a claim of its own)."""
        if self._stopping:
            return 0
        committed = self.busy_slots + self._waiting_slots
        return max(0, self.parallelism + self.backlog() - committed)

    def backlog(self) -> int:
        """How many instances may wait here beyond the slots."""
        return backlog_size(self.parallelism, self._average_seconds, self.max_backlog)

    def held(self) -> list[int]:
        return list(self.running.copy()) + [i.id for i, _ in self._waiting.copy()]

    def wake(self) -> None:
        """Make a blocked ``wait`` return (a no-op once closed)."""
        with self._wake_lock:
            if self._wake_fd >= 0:
                os.eventfd_write(self._wake_fd, 1)

    # -- called from the loop's thread ------------------------------------------------
    def queues(self) -> Sequence[QueueSpec]:
        return ()

    def submit(self, instances: Sequence[ClaimedInstance]) -> list[Launched | Ended]:
        for instance in instances:
            slots = slots_needed(instance.resources, self.parallelism)
            self._waiting.append((instance, slots))
            self._waiting_slots += slots
        self._launch_waiting()
        return self._take_ended()

    def wait(self, timeout: float) -> list[Launched | Ended]:
        # The lease is checked on entry: the loop renews it (set_lease) between waits.
        if self._lease_ends is not None and time.monotonic() >= self._lease_ends:
            self._fence()
        if self._deadlines:
            timeout = min(timeout, max(0.0, self._deadlines[0][0] - time.monotonic()))
        if self._lease_ends is not None and self.running:
            timeout = min(timeout, max(0.0, self._lease_ends - time.monotonic()))
        if not self._ended:
            for key, _ in self._selector.select(timeout):
                item = key.data
                if item is None:
                    _drain(self._wake_fd)
                elif isinstance(item, _Orphan):
                    self._orphan_gone(item)
                else:
                    self._ended.append(self._collect(item))
        if self._deadlines:
            self._run_deadlines()
        self._launch_waiting()
        return self._take_ended()

    def terminate(self, instance_ids: Sequence[int]) -> None:
        for instance_id in instance_ids:
            if self._kill(instance_id, "request"):
                continue
            for item in [w for w in self._waiting if w[0].id == instance_id]:
                self._waiting.remove(item)
                self._waiting_slots -= item[1]
                self._ended.append(
                    Ended(instance_id, "ERROR_FATAL", error_message=KILLED_ON_REQUEST)
                )

    def adopt(self, instances: Sequence[AdoptedInstance]) -> list[Ended]:
        """A stopped worker's processes cannot be followed (they are not children here):
        those still running are killed, and every instance ends as UNKNOWN_ERROR (retried)
        or, if it was told to die, ERROR_FATAL."""
        ended: list[Ended] = []
        for instance in instances:
            if instance.status == "KILL_SELF":
                status, message = "ERROR_FATAL", KILLED_ON_REQUEST
            else:
                status = "UNKNOWN_ERROR"
                message = "its worker stopped before it finished; the next worker stopped it"
            pid, started = _noted_process(instance)
            pidfd = -1
            if pid is not None and guardian.owns_group(pid, started):
                with contextlib.suppress(ProcessLookupError):
                    pidfd = os.pidfd_open(pid)
            if pidfd < 0:
                if pid is not None and group_alive(pid) and guardian.owns_group(pid, started):
                    # Only members of its group are left: stop them, nothing to wait on.
                    killpg(pid, signal.SIGKILL)
                ended.append(Ended(instance.id, status, error_message=message))
                self._forget(instance.id)
                continue
            orphan = _Orphan(instance.id, pid, pidfd, status, message)  # type: ignore[arg-type]
            self._orphans[instance.id] = orphan
            self._selector.register(pidfd, selectors.EVENT_READ, orphan)
            killpg(orphan.pid, signal.SIGTERM)
            self._schedule(time.monotonic() + self.kill_grace, instance.id, "orphan")
            log.info(
                "stopping process %d that a stopped worker left (instance %d)", pid, instance.id
            )
        return ended

    def set_lease(self, seconds: float | None) -> None:
        if seconds is None:
            self._lease_ends = None
        else:
            margin = min(LEASE_MARGIN_SECONDS, 0.2 * max(0.0, seconds))
            self._lease_ends = time.monotonic() + max(0.0, seconds - margin)
        if self._guardian is not None:
            remaining = None if self._lease_ends is None else self._lease_ends - time.monotonic()
            self._guardian.lease(remaining)

    def stop(self) -> None:
        self._stopping = True
        while self._waiting:
            instance, slots = self._waiting.popleft()
            self._waiting_slots -= slots
            self._ended.append(Ended(instance.id, "UNKNOWN_ERROR", error_message=WORKER_STOPPED))
        for instance_id in list(self.running):
            self._kill(instance_id, "stop")

    def close(self) -> None:
        for orphan in self._orphans.values():
            os.close(orphan.pidfd)
        self._orphans.clear()
        if self._guardian is not None:
            self._guardian.close()
            self._guardian = None
        self._selector.close()
        with self._wake_lock:
            os.close(self._wake_fd)
            self._wake_fd = -1

    # -- internals --------------------------------------------------------------------
    def _take_ended(self) -> list[Launched | Ended]:
        ended, self._ended = self._ended, []
        return ended

    def _launch_waiting(self) -> None:
        """Launch what fits, then tell the guardian in one write what started and what
        ended this round (every few launches in a long round)."""
        launched = 0
        if self._waiting and not self._stopping:
            self._guarded()  # once a round: is the guardian still there?
        while (
            self._waiting
            and not self._stopping
            and self.busy_slots + self._waiting[0][1] <= self.parallelism
        ):
            instance, slots = self._waiting.popleft()
            self._waiting_slots -= slots
            self._ended.append(self._launch(instance, slots))
            launched += 1
            if launched % GUARDIAN_FLUSH_LAUNCHES == 0 and self._guardian is not None:
                self._guardian.flush()
        if self._guardian is not None:
            self._guardian.flush()

    def _launch(self, instance: ClaimedInstance, slots: int) -> Launched | Ended:
        try:
            limit = runtime_limit(instance.resources)
        except ValueError as exc:
            return Ended(instance.id, "ERROR", error_message=f"invalid resources: {exc}")
        try:
            try:
                process = self._spawn(instance)
            except FileNotFoundError:  # the log directory went away: make it again, once
                self._workflow_dirs.pop(instance.workflow_id, None)
                process = self._spawn(instance)
        except OSError as exc:
            log.warning("cannot launch instance %d: %s", instance.id, exc)
            return Ended(instance.id, "UNKNOWN_ERROR", error_message=f"cannot launch: {exc}")
        started = time.time()
        guardian_pipe = self._guardian if self._guardian is not None else self._guarded()
        guardian_pipe.add(process.pid, started)
        self._note(instance.id, {"pid": process.pid, "started": started})
        task = RunningTask(instance, slots, process, limit, started)
        self.running[instance.id] = task
        self.busy_slots += slots
        self._selector.register(process, selectors.EVENT_READ, task)
        if limit is not None:
            self._schedule(process.started + limit, instance.id, "runtime")
        log.debug("launched instance %d as pid %d: %s", instance.id, process.pid, instance.command)
        return Launched(
            instance.id,
            str(process.pid),
            hostname=HOSTNAME,
            stdout_path=process.stdout_path,
            stderr_path=process.stderr_path,
            running=True,
        )

    def _guarded(self) -> GuardianPipe:
        if self._guardian is None or not self._guardian.alive():
            previous = self._guardian
            self._guardian = GuardianPipe(self.kill_grace)
            if previous is not None:  # it died: tell the new one everything again
                log.warning("the guardian of this worker's tasks ended; starting it again")
                for task in self.running.values():
                    self._guardian.add(task.process.pid, task.wall_started)
            if self._lease_ends is not None:
                self._guardian.lease(self._lease_ends - time.monotonic())
        return self._guardian

    def _kill(self, instance_id: int, reason: str) -> bool:
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

    def _fence(self) -> None:
        """The lease ran out unrenewed: the server will run these tasks elsewhere."""
        if self.running:
            log.warning(
                "the server could not be told that %d tasks still run before their lease ran "
                "out; stopping them (the server retries them)",
                len(self.running),
            )
        for instance_id in list(self.running):
            self._kill(instance_id, "lease")
        self._lease_ends = None

    def _collect(self, task: RunningTask) -> Ended:
        process = task.process
        self._selector.unregister(process)
        result = process.reap()
        del self.running[task.instance.id]
        self.busy_slots -= task.slots
        self._average_seconds += 0.1 * (result.wallclock_seconds - self._average_seconds)
        if task.kill_reason is not None:
            process.signal_group(signal.SIGKILL)  # whatever the shell left behind
        if self._guardian is not None:
            self._guardian.remove(process.pid)
        self._forget(task.instance.id)
        log.debug("instance %d exited with %d", task.instance.id, result.exit_code)
        return ended_as(task, result)

    def _orphan_gone(self, orphan: _Orphan) -> None:
        self._selector.unregister(orphan.pidfd)
        os.close(orphan.pidfd)
        del self._orphans[orphan.instance_id]
        killpg(orphan.pid, signal.SIGKILL)  # what is left of its group
        self._forget(orphan.instance_id)
        self._ended.append(Ended(orphan.instance_id, orphan.status, error_message=orphan.message))

    def _spawn(self, instance: ClaimedInstance) -> TaskProcess:
        directory = self._workflow_dir(instance.workflow_id)
        stem = f"{_file_name(instance.name)}.{instance.id}"
        resources = instance.resources
        if resources.get("stdout") or resources.get("stderr"):
            out, err = attempt_log_paths(directory, resources, stem)
        else:  # the common case, without building paths
            out, err = f"{directory}/{stem}.out", f"{directory}/{stem}.err"
        return TaskProcess.spawn(instance.command, out, err, task_environment_bytes())

    def _schedule(self, when: float, instance_id: int, action: str) -> None:
        heapq.heappush(self._deadlines, (when, next(self._seq), instance_id, action))
        if len(self._deadlines) > 64 + 4 * (len(self.running) + len(self._orphans)):
            live = [d for d in self._deadlines if d[2] in self.running or d[2] in self._orphans]
            heapq.heapify(live)
            self._deadlines = live

    def _run_deadlines(self) -> None:
        now = time.monotonic()
        while self._deadlines and self._deadlines[0][0] <= now:
            _, _, instance_id, action = heapq.heappop(self._deadlines)
            if action == "orphan":
                orphan = self._orphans.get(instance_id)
                if orphan is not None:
                    killpg(orphan.pid, signal.SIGKILL)
                continue
            task = self.running.get(instance_id)
            if task is None:
                continue
            if action == "runtime":
                log.debug("instance %d exceeded its runtime limit", instance_id)
                self._kill(instance_id, "runtime")
            else:
                task.process.signal_group(signal.SIGKILL)

    def _workflow_dir(self, workflow_id: int) -> str:
        directory = self._workflow_dirs.get(workflow_id)
        if directory is None:
            path = self.log_dir / str(workflow_id)
            path.mkdir(parents=True, exist_ok=True)
            directory = self._workflow_dirs[workflow_id] = str(path)
        return directory


def _noted_process(instance: AdoptedInstance) -> tuple[int | None, float]:
    """The pid a stopped worker noted for an instance (its journal), or the one it
    reported, when it ran on this host."""
    pid = instance.notes.get("pid")
    if pid is not None:
        return int(pid), float(instance.notes.get("started", 0.0))
    if instance.hostname == HOSTNAME and (instance.distributor_id or "").isdigit():
        return int(instance.distributor_id), 0.0  # type: ignore[arg-type]
    return None, 0.0


def _file_name(name: str) -> str:
    return name.replace("/", "_").replace("\0", "_")[:_MAX_NAME] or "task"


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        os.eventfd_read(fd)
