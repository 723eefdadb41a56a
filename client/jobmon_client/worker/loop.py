"""The worker loop: claim, launch, follow and report task instances on this machine.

Threads: the loop's own thread blocks in the distributor's selector (children's pidfds and
a wake-up eventfd) and does all process work; the claimer long-polls for work while slots
are free; the reporter batches reports and sends heartbeats. The other threads talk to
the loop through an inbox deque followed by a wake-up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jobmon_client.worker import reports
from jobmon_client.worker.claimer import CLAIM_WAIT_SECONDS, Claimer
from jobmon_client.worker.distributor import KILL_GRACE_SECONDS, FinishedTask, LocalDistributor
from jobmon_client.worker.documents import Client
from jobmon_client.worker.instance import ClaimedInstance
from jobmon_client.worker.reporter import Reporter
from jobmon_client.worker.slots import SlotPool

log = logging.getLogger(__name__)

CLUSTERS = ("sequential", "multiprocess")
ABORT_WAIT_SECONDS = 5.0


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def default_log_dir() -> Path:
    return Path.home() / ".jobmon" / "logs"


def default_backlog(parallelism: int) -> int:
    """At most this many claimed instances wait locally for a slot (short tasks only)."""
    return max(32, 2 * parallelism)


def cluster_parallelism(cluster_name: str, parallelism: int | None) -> int:
    """Slots of a local cluster: 1 for "sequential", the CPU count for "multiprocess"."""
    if cluster_name == "sequential":
        if parallelism not in (None, 1):
            log.warning("the sequential cluster runs one task at a time; ignoring parallelism")
        return 1
    if cluster_name == "multiprocess":
        slots = parallelism if parallelism is not None else (os.cpu_count() or 1)
        if slots < 1:
            raise ValueError(f"parallelism must be at least 1, got {slots}")
        return slots
    raise ValueError(
        f"unknown cluster {cluster_name!r}: this worker runs the local clusters "
        f"{', '.join(CLUSTERS)}"
    )


class Worker:
    """Runs the task instances of one local cluster until stopped."""

    def __init__(
        self,
        cluster_name: str,
        *,
        server_url: str | None = None,
        parallelism: int | None = None,
        log_dir: Path | None = None,
        worker_id: str | None = None,
        client_factory: Callable[[], Client] | None = None,
        kill_grace: float = KILL_GRACE_SECONDS,
        claim_wait_seconds: float = CLAIM_WAIT_SECONDS,
        max_backlog: int | None = None,
    ) -> None:
        self.cluster_name = cluster_name
        self.parallelism = cluster_parallelism(cluster_name, parallelism)
        self.log_dir = Path(log_dir) if log_dir is not None else default_log_dir()
        self.worker_id = worker_id or default_worker_id()
        self.kill_grace = kill_grace
        self.claim_wait_seconds = claim_wait_seconds
        self.max_backlog = default_backlog(self.parallelism) if max_backlog is None else max_backlog
        if client_factory is None:
            from jobmon_client.transport import GraphQLClient

            def client_factory() -> Client:
                return GraphQLClient(server_url)

        self._client_factory = client_factory
        self._inbox: deque[tuple[str, Any]] = deque()
        self._pending: deque[ClaimedInstance] = deque()

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Claim and run instances until ``stop_event`` is set, then stop gracefully.

        On stop it claims no more, kills what runs and reports it (and whatever was
        claimed but not started) as UNKNOWN_ERROR, so the server retries it.
        """
        stop = stop_event if stop_event is not None else threading.Event()
        self._distributor = distributor = LocalDistributor(
            self.parallelism, self.log_dir, self.kill_grace
        )
        self._slots = SlotPool(self.parallelism)
        self._reporter = Reporter(
            self._client_factory,
            self.worker_id,
            self._held_ids,
            lambda ids: self._post("kill", ids),
        )
        self._claimer = Claimer(
            self._client_factory,
            self.cluster_name,
            self.worker_id,
            self._slots,
            lambda instances, kills: self._post("claimed", (instances, kills)),
            self._reporter.set_heartbeat_interval,
            lambda: self._post("claimer_done", None),
            wait_seconds=self.claim_wait_seconds,
            max_backlog=self.max_backlog,
        )

        def wake_on_stop() -> None:
            stop.wait()
            distributor.wake()

        threading.Thread(target=wake_on_stop, name="jobmon-stop", daemon=True).start()
        log.info(
            "worker %s started: cluster %s, %d slots, logs in %s",
            self.worker_id,
            self.cluster_name,
            self.parallelism,
            self.log_dir,
        )
        self._reporter.start()
        self._claimer.start()
        try:
            self._loop(stop)
        except BaseException:
            log.exception("worker loop failed; killing running tasks")
            self._abort()
            raise
        finally:
            self._claimer.stop()
            self._claimer.join(self.claim_wait_seconds + 1)
            self._reporter.close()
            distributor.close()
            log.info("worker %s stopped", self.worker_id)

    # -- the loop ---------------------------------------------------------------------
    def _loop(self, stop: threading.Event) -> None:
        distributor = self._distributor
        stopping = False
        self._claimer_done = False
        while True:
            for done in distributor.wait():
                self._finish(done)
            if self._inbox:
                self._drain_inbox(stopping)
            if not stopping and stop.is_set():
                stopping = True
                self._begin_stop()
            if stopping:
                if self._claimer_done and not distributor.running:
                    return
            elif self._pending:
                self._launch_pending()

    def _held_ids(self) -> list[int]:
        """Instances this worker holds: running or claimed and waiting for slots."""
        return self._distributor.running_ids() + [i.id for i in self._pending.copy()]

    def _post(self, kind: str, payload: Any) -> None:
        """Hand something to the loop from another thread."""
        self._inbox.append((kind, payload))
        self._distributor.wake()

    def _drain_inbox(self, stopping: bool) -> None:
        while self._inbox:
            kind, payload = self._inbox.popleft()
            if kind == "claimed":
                instances, kills = payload
                if stopping:
                    self._drop(instances, "UNKNOWN_ERROR", reports.WORKER_STOPPED)
                else:
                    self._pending.extend(instances)
                self._kill(kills)
            elif kind == "kill":
                self._kill(payload)
            elif kind == "claimer_done":
                self._claimer_done = True

    def _launch_pending(self) -> None:
        distributor, pending, reporter = self._distributor, self._pending, self._reporter
        while pending and distributor.fits(pending[0]):
            instance = pending.popleft()
            try:
                task = distributor.launch(instance)
            except ValueError as exc:
                log.warning("instance %d has invalid resources: %s", instance.id, exc)
                self._drop([instance], "ERROR", f"invalid resources: {exc}")
                continue
            except OSError as exc:
                log.warning("cannot launch instance %d: %s", instance.id, exc)
                self._drop([instance], "UNKNOWN_ERROR", f"cannot launch: {exc}")
                continue
            reporter.put(reports.launched(task))

    def _finish(self, done: FinishedTask) -> None:
        self._reporter.put((reports.finished(done),))
        self._slots.release(done.task.instance.slots)

    def _kill(self, instance_ids: list[int]) -> None:
        for instance_id in instance_ids:
            if self._distributor.kill(instance_id, "request"):
                continue
            waiting = [i for i in self._pending if i.id == instance_id]
            for instance in waiting:
                self._pending.remove(instance)
            self._drop(waiting, "ERROR_FATAL", reports.KILLED_ON_REQUEST)

    def _drop(self, instances: list[ClaimedInstance], status: str, message: str) -> None:
        """Report claimed instances that will not run, and free their slots."""
        if not instances:
            return
        self._reporter.put(reports.not_run(i.id, status, message) for i in instances)
        self._slots.release(sum(i.slots for i in instances))

    def _begin_stop(self) -> None:
        log.info(
            "worker %s stopping: %d tasks running", self.worker_id, len(self._distributor.running)
        )
        self._claimer.stop()
        self._drop(list(self._pending), "UNKNOWN_ERROR", reports.WORKER_STOPPED)
        self._pending.clear()
        for instance_id in self._distributor.running_ids():
            self._distributor.kill(instance_id, "stop")

    def _abort(self) -> None:
        """After a failure of the loop: kill every task at once and report it."""
        distributor = self._distributor
        for task in list(distributor.running.values()):
            if task.kill_reason is None:
                task.kill_reason = "stop"
            task.process.signal_group(signal.SIGKILL)
        deadline = time.monotonic() + ABORT_WAIT_SECONDS
        while distributor.running and time.monotonic() < deadline:
            for done in distributor.wait(deadline - time.monotonic()):
                self._finish(done)
        self._drain_inbox(stopping=True)
        self._drop(list(self._pending), "UNKNOWN_ERROR", reports.WORKER_STOPPED)
        self._pending.clear()


def run_worker(
    cluster_name: str,
    server_url: str | None = None,
    parallelism: int | None = None,
    log_dir: Path | None = None,
    stop_event: threading.Event | None = None,
    worker_id: str | None = None,
) -> None:
    """Run a worker for a local cluster until ``stop_event`` is set.

    In the main thread, SIGTERM and SIGINT stop it gracefully as well (a second one
    kills the running tasks at once).
    """
    stop = stop_event if stop_event is not None else threading.Event()
    worker = Worker(
        cluster_name,
        server_url=server_url,
        parallelism=parallelism,
        log_dir=log_dir,
        worker_id=worker_id,
    )
    with stop_on_signals(stop):
        worker.run(stop)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
