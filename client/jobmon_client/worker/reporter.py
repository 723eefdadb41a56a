"""The reporter thread: sends reports in batches until the server has them, and heartbeats.

Everything queued while a request is in flight goes out in the next single ``workerSync``
call, so latency stays one round trip when idle and batches grow under load; while the
worker holds instances, a small batch that only says instances started waits a few
milliseconds for more (their ends, often: one request then says both), and a batch with a
final report goes at once. The same call
claims what the worker has room for: the task a DONE report made ready comes back in its
answer. No report is dropped for a transient failure: each is written to the journal
before it is sent and kept until the server answers for it (applied, ignored as late or
repeated, or refused by name, which is logged); a server that cannot be reached, or whose
database is unavailable, is tried again with short jittered pauses, for as long as it
takes. A batch the server rejects as a whole is split to find the report it objects to.

The reporter also keeps the worker's lease: when each held instance was last renewed (by
its claim or a heartbeat), so that the worker knows when the server would give up on it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable

from jobmon_client.distributor import ClaimedInstance
from jobmon_client.transport import ServerError, ServerUnreachable
from jobmon_client.worker.documents import HEARTBEAT, SYNC, Client
from jobmon_client.worker.journal import Journal
from jobmon_client.worker.reports import Report

log = logging.getLogger(__name__)

_OPEN = ("LAUNCHED", "RUNNING")  # reports after which an instance will report again

DEFAULT_HEARTBEAT_SECONDS = 30.0
RETRY_START_SECONDS = 0.2
RETRY_MAX_SECONDS = 2.0
HEARTBEAT_BATCH = 10_000
HEARTBEAT_RETRY_SECONDS = 2.0
# A report the server rejects (not for a transient reason) this often is given up.
REJECTIONS_BEFORE_GIVING_UP = 3
CLOSE_FLUSH_SECONDS = 10.0
# A batch smaller than this waits up to COALESCE_SECONDS for more while instances are held.
COALESCE_REPORTS = 256
MAX_REPORTS = 10_000  # the server's bound on reports a request
COALESCE_SECONDS = 0.05


class Reporter:
    """Owns one GraphQL client; one request in flight at a time."""

    def __init__(
        self,
        client_factory: Callable[[], Client],
        worker_id: str,
        held_ids: Callable[[], list[int]],
        on_kill: Callable[[list[int]], None],
        journal: Journal | None = None,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_SECONDS,
        on_renewed: Callable[[], None] = lambda: None,
        cluster_name: str = "",
        room: Callable[[], int] = lambda: 0,
        deliver: Callable[[list[ClaimedInstance], list[int], float], None] | None = None,
        coalesce_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self._coalesce_seconds = coalesce_seconds
        self._on_renewed = on_renewed
        self._cluster_name = cluster_name
        self._room = room
        self._deliver = deliver
        self._client_factory = client_factory
        self._worker_id = worker_id
        self._held_ids = held_ids
        self._on_kill = on_kill
        self._journal = journal
        self._interval = heartbeat_interval
        self._lease_seconds = 3 * heartbeat_interval
        self._next_heartbeat = time.monotonic() + heartbeat_interval
        self._queue: list[tuple[int, Report]] = []
        self._rejections: dict[int, int] = {}
        self._renewed: dict[int, float] = {}
        self._cond = threading.Condition()
        self._idle = False
        self._closing = False
        self._local_seq = 0
        # The last failure showed the server is down: it cannot declare anything lost, and
        # extends every lease when it is back; meanwhile the lease does not run out here.
        self._down = False
        # Changes whenever the lease may have moved (a claim, a renewal, new intervals, the
        # server going down or coming back): the loop looks at the lease again then.
        self.lease_generation = 0
        self.sent = 0  # reports the server answered for
        self._thread = threading.Thread(target=self._run, name="jobmon-reporter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def _server_down(self) -> bool:
        return self._down

    @_server_down.setter
    def _server_down(self, down: bool) -> None:
        if down != self._down:
            self._down = down
            self.lease_generation += 1

    # -- what the other threads call -------------------------------------------------
    def put(self, reports: Iterable[Report]) -> None:
        """Queue reports (journaled first); they go out as soon as no request is in flight."""
        reports = list(reports)
        if not reports:
            return
        if self._journal is not None:
            seqs = self._journal.add_reports(reports)
        else:
            seqs = list(range(self._local_seq + 1, self._local_seq + 1 + len(reports)))
            self._local_seq += len(reports)
        with self._cond:
            self._queue.extend(zip(seqs, reports, strict=True))
            for report in reports:
                if report["status"] not in _OPEN:
                    self._renewed.pop(report["taskInstanceId"], None)
            if self._idle:
                self._cond.notify()

    def claimed(self, instance_ids: Iterable[int], at: float) -> None:
        """These instances were claimed at ``at`` (monotonic: when the answer came; the
        server claims them just before it answers): their leases began then."""
        with self._cond:
            for instance_id in instance_ids:
                self._renewed[instance_id] = at
            self.lease_generation += 1

    def lease_remaining(self) -> float | None:
        """Seconds until the server may give up on the first of the held instances (None
        when it holds none, or while the server is down and cannot give up on any)."""
        if self._server_down:
            return None
        held = self._held_ids()
        with self._cond:
            times = [self._renewed[i] for i in held if i in self._renewed]
            if len(self._renewed) > 2 * len(held) + 1000:  # ended without a final report
                self._renewed = {i: self._renewed[i] for i in held if i in self._renewed}
        if not times:
            return None
        return min(times) + self._lease_seconds - time.monotonic()

    def set_intervals(self, heartbeat: float, lease: float | None = None) -> None:
        if heartbeat <= 0:
            return
        with self._cond:
            lease_seconds = lease if lease else 3 * heartbeat
            if lease_seconds != self._lease_seconds:
                self._lease_seconds = lease_seconds
                self.lease_generation += 1
            if heartbeat != self._interval:
                self._interval = heartbeat
                self._next_heartbeat = min(self._next_heartbeat, time.monotonic() + heartbeat)
                self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self) -> None:
        """Send what is queued (for a while), then stop the thread. What could not be sent
        stays in the journal for the next worker."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            client = self._client_factory()
        except Exception:
            log.exception("cannot create a GraphQL client; no reports will be sent")
            return
        delay = RETRY_START_SECONDS
        close_deadline: float | None = None
        failed = False
        try:
            while True:
                # Back off only after a failed send: reports that arrived while the last
                # batch was out go at once (a chain's next task waits for them).
                batch, closing = self._next_batch(delay if failed else None)
                if closing and close_deadline is None:
                    close_deadline = time.monotonic() + CLOSE_FLUSH_SECONDS
                if batch:
                    failed = not self._send(client, batch)
                    if not failed:
                        delay = RETRY_START_SECONDS
                    else:
                        delay = min(delay * 2, RETRY_MAX_SECONDS)
                        if close_deadline is not None and time.monotonic() > close_deadline:
                            log.error(
                                "could not send %d reports before stopping; they stay in the "
                                "journal for the next worker on this host",
                                len(self._queue),
                            )
                            return
                elif closing:
                    return
                if not closing and time.monotonic() >= self._next_heartbeat:
                    self._heartbeat(client)
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def _next_batch(self, retry_after: float | None) -> tuple[list[tuple[int, Report]], bool]:
        """The reports to send now. After a failure, wait ``retry_after`` first."""
        with self._cond:
            if retry_after is not None and not self._closing:
                self._cond.wait(retry_after * random.uniform(0.5, 1.0))
            while not self._queue and not self._closing:
                wait = self._next_heartbeat - time.monotonic()
                if wait <= 0:
                    break
                self._idle = True
                self._cond.wait(wait)
                self._idle = False
            if self._queue and not self._closing and retry_after is None:
                self._coalesce()
            # The server takes at most MAX_REPORTS a request: the rest go in the next.
            batch, self._queue = self._queue[:MAX_REPORTS], self._queue[MAX_REPORTS:]
            return batch, self._closing

    def _coalesce(self) -> None:
        """Wait (holding the condition) a little for more while a batch is small and the
        worker holds instances: their reports will follow, and a request per report
        would cost the server more than the reports do. With nothing held (the last
        task of a chain just ended, say) it goes at once. A final report waiting here is
        in the journal already: a worker that dies meanwhile leaves it to the next."""
        deadline = time.monotonic() + self._coalesce_seconds
        while len(self._queue) < COALESCE_REPORTS and not self._closing:
            left = deadline - time.monotonic()
            if left <= 0 or not self._held_ids():
                return
            self._idle = True
            self._cond.wait(left)
            self._idle = False

    def _send(self, client: Client, batch: list[tuple[int, Report]]) -> bool:
        """Send a batch; True once the server answered for every report in it."""
        try:
            self._execute_report(client, batch)
            self._server_down = False
            return True
        except ServerUnreachable as exc:  # unreachable, or its database is unavailable
            self._server_down = exc.server_down
            log.warning("could not send %d reports, retrying: %s", len(batch), exc)
            self._requeue(batch)
            return False
        except ServerError as exc:  # the server objects to the request itself
            if len(batch) > 1:
                middle = len(batch) // 2
                log.warning(
                    "a batch of %d reports was refused (%s); sending it in halves", len(batch), exc
                )
                first = self._send(client, batch[:middle])
                second = self._send(client, batch[middle:])
                return first and second
            seq, report = batch[0]
            self._rejections[seq] = self._rejections.get(seq, 0) + 1
            if self._rejections[seq] >= REJECTIONS_BEFORE_GIVING_UP:
                log.error(
                    "report %s refused %d times, giving it up: %s",
                    report,
                    self._rejections[seq],
                    exc,
                )
                self._acknowledge([seq])
                return True
            log.warning("report %s refused (%s); trying it again", report, exc)
            self._requeue(batch)
            return False

    def _requeue(self, batch: list[tuple[int, Report]]) -> None:
        with self._cond:
            self._queue[:0] = batch

    def _acknowledge(self, seqs: list[int]) -> None:
        for seq in seqs:
            self._rejections.pop(seq, None)
        if self._journal is not None:
            self._journal.acknowledge(seqs)
        self.sent += len(seqs)

    def _execute_report(self, client: Client, batch: list[tuple[int, Report]]) -> None:
        room = self._room() if self._deliver is not None else 0
        result = client.execute(
            SYNC,
            {
                "workerId": self._worker_id,
                "clusterName": self._cluster_name,
                "reports": [r for _, r in batch],
                "claimLimit": max(0, room),
                "waitSeconds": 0.0,
            },
        )
        answer = result["workerSync"]
        self._acknowledge([seq for seq, _ in batch])
        self.set_intervals(
            float(answer.get("heartbeatIntervalSeconds") or 0), answer.get("leaseSeconds")
        )
        if answer.get("ignored"):
            log.debug("late or repeated reports ignored by the server for %s", answer["ignored"])
        for refused in answer.get("refused") or ():
            log.warning(
                "report on instance %s refused: %s", refused["taskInstanceId"], refused["message"]
            )
        instances = [ClaimedInstance.from_wire(i) for i in answer.get("instances") or ()]
        kills = list(answer.get("killInstanceIds") or ())
        if instances and self._deliver is not None:
            self._deliver(instances, kills, time.monotonic())
        elif kills:
            self._on_kill(kills)

    def _heartbeat(self, client: Client) -> None:
        self._next_heartbeat = time.monotonic() + self._interval
        ids = list(self._held_ids())
        if not ids:
            return
        sent_at = time.monotonic()
        try:
            kills = []
            for start in range(0, len(ids), HEARTBEAT_BATCH):  # the server's bound a request
                result = client.execute(
                    HEARTBEAT,
                    {
                        "workerId": self._worker_id,
                        "taskInstanceIds": ids[start : start + HEARTBEAT_BATCH],
                        "nextReportSeconds": self._lease_seconds,
                    },
                )
                kills += result["heartbeat"]["killInstanceIds"]
        except Exception as exc:
            if isinstance(exc, ServerUnreachable):
                self._server_down = exc.server_down
            log.warning("heartbeat for %d instances failed (%s); trying again soon", len(ids), exc)
            self._next_heartbeat = time.monotonic() + min(self._interval, HEARTBEAT_RETRY_SECONDS)
            return
        self._server_down = False
        with self._cond:
            for instance_id in set(ids) - set(kills):
                if instance_id in self._renewed:
                    self._renewed[instance_id] = sent_at
            self.lease_generation += 1
        self._on_renewed()
        if kills:
            self._on_kill(list(kills))
