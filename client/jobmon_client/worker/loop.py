"""The worker loop: one for every distributor (``jobmon worker --cluster NAME``).

It announces the worker, registers the cluster's queues, takes over what a stopped worker
of the same cluster left on this host (its journal: reports to send again, processes to
check), and then loops: claimed instances go to the distributor, what the distributor
says became of them goes to the server, and kill requests go back to the distributor.

Threads: the loop's own thread blocks in the distributor's ``wait`` and is the only one
that calls the distributor (but for ``held``, ``capacity`` and ``wake``); the claimer
long-polls for work while the distributor has room; the reporter sends reports and
heartbeats and keeps the lease. The other threads talk to the loop through an inbox
followed by a wake-up.
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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from jobmon_client.distributor import (
    AdoptedInstance,
    ClaimedInstance,
    Distributor,
    DistributorContext,
    Ended,
    Launched,
    find_distributor,
)
from jobmon_client.worker import journal as journals
from jobmon_client.worker import reports
from jobmon_client.worker.claimer import CLAIM_WAIT_SECONDS, Claimer
from jobmon_client.worker.documents import (
    ADOPT,
    ANNOUNCE,
    CLUSTER_KIND,
    REGISTER,
    STOPPED,
    Client,
)
from jobmon_client.worker.reporter import Reporter

log = logging.getLogger(__name__)

LOCAL_KINDS = ("sequential", "multiprocess")
# How often the loop looks at the lease when nothing else happens.
LEASE_CHECK_SECONDS = 1.0
# Between renewals, what is left of the lease is worked out at most this often (it costs a
# look at every held instance; a stale answer is earlier than the truth, never later).
LEASE_RECHECK_SECONDS = 0.05
STOP_WAIT_SECONDS = 30.0


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def default_log_dir() -> Path:
    return Path.home() / ".jobmon" / "logs"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("jobmon")
    except Exception:  # noqa: BLE001 - a checkout without metadata
        return "unknown"


class WorkerError(Exception):
    """The worker cannot start: the message says why and what to do."""


class Worker:
    """Runs the task instances of one cluster through its distributor until stopped."""

    def __init__(
        self,
        cluster_name: str,
        *,
        distributor: str | None = None,
        server_url: str | None = None,
        parallelism: int | None = None,
        log_dir: Path | None = None,
        state_dir: Path | None = None,
        worker_id: str | None = None,
        client_factory: Callable[[], Client] | None = None,
        claim_wait_seconds: float = CLAIM_WAIT_SECONDS,
        options: dict[str, Any] | None = None,
    ) -> None:
        from jobmon_client.config import graphql_url

        self.cluster_name = cluster_name
        self.kind = distributor
        self.server_url = graphql_url(server_url)
        self.parallelism = parallelism
        self.log_dir = Path(log_dir) if log_dir is not None else default_log_dir()
        self.state_dir = Path(state_dir) if state_dir is not None else journals.default_state_dir()
        self.worker_id = worker_id or default_worker_id()
        self.claim_wait_seconds = claim_wait_seconds
        self.options = dict(options or {})
        if client_factory is None:
            from jobmon_client.config import worker_auth_headers
            from jobmon_client.transport import GraphQLClient

            url = self.server_url
            headers = worker_auth_headers()

            def client_factory() -> Client:
                # Few retries inside a request: the loop's threads retry on their own, and
                # must learn soon that the server is away (the lease depends on it).
                return GraphQLClient(url, retries=2, headers=headers)

        self._client_factory = client_factory
        self._inbox: deque[tuple[str, Any]] = deque()
        self._in_transit = 0  # claimed, not yet handed to the distributor
        self._in_transit_lock = threading.Lock()
        self.distributor: Distributor | None = None
        self.ready = threading.Event()  # set once it serves its cluster

    # -- start ------------------------------------------------------------------------
    def _make_distributor(self, client: Client, journal: journals.Journal) -> Distributor:
        kind = self.kind or self._kind_of_cluster(client)
        context = DistributorContext(
            cluster_name=self.cluster_name,
            worker_id=self.worker_id,
            server_url=self.server_url,
            log_dir=self.log_dir,
            parallelism=self.parallelism,
            options={"kind": kind, **self.options},
            note=journal.note,
            forget=journal.forget,
        )
        try:
            factory = find_distributor(kind)
        except LookupError as exc:
            raise WorkerError(str(exc)) from None
        return factory(context)

    def _kind_of_cluster(self, client: Client) -> str:
        """A cluster named like a distributor is one of its kind; otherwise ask the server."""
        from jobmon_client.distributor import installed_distributors

        if self.cluster_name in installed_distributors():
            return self.cluster_name
        clusters = client.execute(CLUSTER_KIND)["clusters"]
        for cluster in clusters:
            if cluster["name"] == self.cluster_name:
                return str(cluster["distributor"])
        raise WorkerError(
            f"cluster '{self.cluster_name}' is not known to the server and is not the name of "
            "an installed distributor; say which distributor serves it with --distributor "
            "(such as --distributor slurm)"
        )

    def _register(self, client: Client, distributor: Distributor) -> None:
        queues = [
            {
                "name": q.name,
                "default": q.default,
                "maxCores": q.max_cores,
                "maxMemoryMb": q.max_memory_mb,
                "maxRuntimeSeconds": q.max_runtime_seconds,
            }
            for q in distributor.queues()
        ]
        if distributor.kind not in LOCAL_KINDS or queues:
            queue_overrides = self.options.get("queue_overrides") or {}
            for queue in queues:
                queue.update(queue_overrides.get(queue["name"], {}))
            payload = client.execute(
                REGISTER,
                {"name": self.cluster_name, "distributor": distributor.kind, "queues": queues},
            )["registerCluster"]
            if payload["__typename"] != "Cluster":
                raise WorkerError(
                    f"cannot register cluster {self.cluster_name}: {payload['message']}"
                )
            if queues:
                log.info(
                    "cluster %s registered with queues %s",
                    self.cluster_name,
                    ", ".join(q["name"] for q in payload["queues"]),
                )
        announced = client.execute(
            ANNOUNCE,
            {
                "workerId": self.worker_id,
                "clusterName": self.cluster_name,
                "hostname": socket.gethostname(),
                "version": _version(),
            },
        )["announceWorker"]
        if announced["__typename"] != "Worker":
            raise WorkerError(f"cannot serve cluster {self.cluster_name}: {announced['message']}")

    def _take_over(
        self, client: Client, distributor: Distributor, journal: journals.Journal
    ) -> tuple[list[reports.Report], list[Ended]]:
        """What stopped workers of this cluster on this host left: their unsent reports,
        and the instances they held (all of the cluster's, for a distributor whose jobs
        outlive their worker, such as Slurm)."""
        directory = journal.path.parent
        with journals.predecessors(directory, own=journal.path) as olds:
            whole_cluster = distributor.kind not in LOCAL_KINDS
            if not olds and not whole_cluster:
                return [], []
            notes: dict[int, dict[str, Any]] = {}
            for old in olds:
                notes.update(old.notes)
            adopted = client.execute(
                ADOPT,
                {
                    "clusterName": self.cluster_name,
                    "workerId": self.worker_id,
                    "fromWorkerIds": None if whole_cluster else [o.worker_id for o in olds],
                },
            )["adoptTaskInstances"]
            unsent = [r for old in olds for _, r in sorted(old.reports.items())]
            instances = [AdoptedInstance.from_wire(a, notes.get(int(a["id"]))) for a in adopted]
            ended = list(distributor.adopt(instances))
            for instance in instances:  # keep following what still runs across a restart
                if instance.id in notes and instance.id not in {e.instance_id for e in ended}:
                    journal.note(instance.id, notes[instance.id])
        if instances or unsent:
            log.info(
                "took over from stopped workers: %d instances (%d already ended), %d unsent "
                "reports",
                len(instances),
                len(ended),
                len(unsent),
            )
        return unsent, ended

    # -- run --------------------------------------------------------------------------
    def run(self, stop_event: threading.Event | None = None) -> None:
        """Claim and run instances until ``stop_event`` is set, then stop gracefully."""
        stop = stop_event if stop_event is not None else threading.Event()
        client = self._client_factory()
        journal = journals.Journal(
            journals.journal_dir(self.state_dir, self.server_url, self.cluster_name),
            self.worker_id,
        )
        distributor: Distributor | None = None
        try:
            distributor = self._make_distributor(client, journal)
            self.distributor = distributor
            self._register(client, distributor)
            unsent, ended = self._take_over(client, distributor, journal)
            self._serve(stop, distributor, journal, unsent, ended)
        finally:
            with contextlib.suppress(Exception):
                client.execute(STOPPED, {"workerId": self.worker_id})
            close = getattr(client, "close", None)
            if close is not None:
                close()
            if distributor is not None:
                distributor.close()
            journal.close()
            log.info("worker %s stopped", self.worker_id)

    def _serve(
        self,
        stop: threading.Event,
        distributor: Distributor,
        journal: journals.Journal,
        unsent: list[reports.Report],
        adopted_ends: list[Ended],
    ) -> None:
        reporter = self._reporter = Reporter(
            self._client_factory,
            self.worker_id,
            distributor.held,
            lambda ids: self._post("kill", ids),
            journal,
            on_renewed=distributor.wake,  # the loop tells the distributor the new lease
            cluster_name=self.cluster_name,
            room=self._top_up,
            deliver=lambda instances, kills, at: self._post("claimed", (instances, kills, at)),
        )
        claimer = self._claimer = Claimer(
            self._client_factory,
            self.cluster_name,
            self.worker_id,
            self._room,
            lambda instances, kills, at: self._post("claimed", (instances, kills, at)),
            reporter.set_intervals,
            lambda: self._post("claimer_done", None),
            wait_seconds=self.claim_wait_seconds,
        )
        reporter.put(unsent)
        reporter.put(reports.of_events(adopted_ends))

        def wake_on_stop() -> None:
            stop.wait()
            distributor.wake()

        threading.Thread(target=wake_on_stop, name="jobmon-stop", daemon=True).start()
        log.info(
            "worker %s serves cluster %s (%s), logs in %s",
            self.worker_id,
            self.cluster_name,
            distributor.kind,
            self.log_dir,
        )
        reporter.start()
        claimer.start()
        self.ready.set()
        try:
            self._loop(stop, distributor, journal.round)
        except BaseException:
            log.exception("worker loop failed; stopping what runs")
            self._abort(distributor)
            raise
        finally:
            claimer.stop()
            claimer.join(self.claim_wait_seconds + 1)
            reporter.close()

    def _room(self) -> int:
        distributor = self.distributor
        return 0 if distributor is None else distributor.capacity() - self._in_transit

    def _top_up(self) -> int:
        """What a request that goes anyway (the reporter's) may claim: enough to fill the
        distributor, for a distributor that says (``top_up``), else its capacity."""
        distributor = self.distributor
        if distributor is None:
            return 0
        top_up = getattr(distributor, "top_up", distributor.capacity)
        return int(top_up()) - self._in_transit

    def _post(self, kind: str, payload: Any) -> None:
        """Hand something to the loop from another thread."""
        if kind == "claimed":
            with self._in_transit_lock:
                self._in_transit += len(payload[0])
        self._inbox.append((kind, payload))
        if self.distributor is not None:
            self.distributor.wake()

    def _loop(
        self,
        stop: threading.Event,
        distributor: Distributor,
        journal_round: Callable[[], contextlib.AbstractContextManager[None]],
    ) -> None:
        stopping = False
        claimer_done = False
        lease_told: float | None = None  # when the distributor was told the lease ends
        # The lease is looked at again when it may have moved on, or every 50 ms.
        ends_seen: float | None = None
        lease_generation, lease_checked = -1, 0.0
        stop_deadline = 0.0
        while True:
            with journal_round():  # what is noted goes out with the round's reports
                self._handle(distributor.wait(LEASE_CHECK_SECONDS))
                while self._inbox:
                    kind, payload = self._inbox.popleft()
                    if kind == "claimed":
                        instances, kills, claimed_at = payload
                        self._accept(distributor, instances, claimed_at, stopping)
                        distributor.terminate(kills)
                    elif kind == "kill":
                        distributor.terminate(payload)
                    elif kind == "claimer_done":
                        claimer_done = True
            now = time.monotonic()
            generation = self._reporter.lease_generation
            if generation != lease_generation or now - lease_checked >= LEASE_RECHECK_SECONDS:
                lease = self._reporter.lease_remaining()
                ends_seen = None if lease is None else now + lease
                lease_generation, lease_checked = generation, now
            ends = ends_seen
            lease = None if ends is None else ends - now
            if (ends is None) != (lease_told is None) or (
                ends is not None
                and lease_told is not None
                and abs(ends - lease_told) > min(1.0, 0.1 * max(lease or 0.0, 0.0))
            ):
                # Told when it changes, not each time round (the guardian is a pipe away).
                distributor.set_lease(lease)
                lease_told = ends
            if not stopping and stop.is_set():
                stopping = True
                stop_deadline = time.monotonic() + STOP_WAIT_SECONDS
                log.info(
                    "worker %s stopping: %d instances held", self.worker_id, len(distributor.held())
                )
                self._claimer.stop()
                distributor.stop()
            if stopping and claimer_done and not distributor.held():
                return
            if stopping and time.monotonic() > stop_deadline:
                log.warning(
                    "instances still held after %ss: %s", STOP_WAIT_SECONDS, distributor.held()
                )
                return

    def _accept(
        self,
        distributor: Distributor,
        instances: Sequence[ClaimedInstance],
        claimed_at: float,
        stopping: bool,
    ) -> None:
        self._reporter.claimed([i.id for i in instances], claimed_at)
        try:
            if stopping:
                self._reporter.put(
                    reports.of_end(Ended(i.id, "UNKNOWN_ERROR", error_message="worker stopped"))
                    for i in instances
                )
            elif instances:
                self._handle(distributor.submit(instances))
        finally:
            with self._in_transit_lock:
                self._in_transit -= len(instances)

    def _handle(self, events: Sequence[Launched | Ended]) -> None:
        if not events:
            return
        self._reporter.put(reports.of_events(events))
        if (
            not self._claimer.more_room.is_set()
            and any(isinstance(e, Ended) for e in events)
            and self._room() > 0
        ):
            self._claimer.more_room.set()

    def _abort(self, distributor: Distributor) -> None:
        """After a failure of the loop: stop what runs, and report what can be reported."""
        with contextlib.suppress(Exception):
            distributor.stop()
            deadline = time.monotonic() + 5.0
            while distributor.held() and time.monotonic() < deadline:
                self._handle(distributor.wait(0.2))


def run_worker(
    cluster_name: str,
    server_url: str | None = None,
    parallelism: int | None = None,
    log_dir: Path | None = None,
    stop_event: threading.Event | None = None,
    worker_id: str | None = None,
    *,
    distributor: str | None = None,
    state_dir: Path | None = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Run a worker for a cluster until ``stop_event`` is set.

    In the main thread, SIGTERM and SIGINT stop it gracefully as well (a second one
    stops at once).
    """
    stop = stop_event if stop_event is not None else threading.Event()
    worker = Worker(
        cluster_name,
        distributor=distributor,
        server_url=server_url,
        parallelism=parallelism,
        log_dir=log_dir,
        state_dir=state_dir,
        worker_id=worker_id,
        options=options,
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
