"""The reporter thread: sends queued reports in batches, and heartbeats.

Everything queued while a request is in flight goes out in the next single
``reportTaskInstances`` call, so latency stays one round trip when idle and batches grow
under load. Kill requests found in the answers are handed back to the worker loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from jobmon_client.transport import ServerUnreachable
from jobmon_client.worker.documents import HEARTBEAT, REPORT, Client
from jobmon_client.worker.reports import Report

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_SECONDS = 30.0
RETRY_SECONDS = 2.0


class Reporter:
    """Owns one GraphQL client; one request in flight at a time."""

    def __init__(
        self,
        client_factory: Callable[[], Client],
        worker_id: str,
        held_ids: Callable[[], list[int]],
        on_kill: Callable[[list[int]], None],
        heartbeat_interval: float = DEFAULT_HEARTBEAT_SECONDS,
    ) -> None:
        self._client_factory = client_factory
        self._worker_id = worker_id
        self._held_ids = held_ids
        self._on_kill = on_kill
        self._interval = heartbeat_interval
        self._next_heartbeat = time.monotonic() + heartbeat_interval
        self._queue: list[Report] = []
        self._cond = threading.Condition()
        self._idle = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="jobmon-reporter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, reports: Iterable[Report]) -> None:
        """Queue reports; they are sent as soon as no request is in flight."""
        with self._cond:
            self._queue.extend(reports)
            if self._idle:
                self._cond.notify()

    def set_heartbeat_interval(self, seconds: float) -> None:
        if seconds <= 0 or seconds == self._interval:
            return
        with self._cond:
            self._interval = seconds
            self._next_heartbeat = min(self._next_heartbeat, time.monotonic() + seconds)
            self._cond.notify()

    def close(self) -> None:
        """Send what is queued, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        try:
            client = self._client_factory()
        except Exception:
            log.exception("cannot create a GraphQL client; no reports will be sent")
            return
        try:
            while True:
                batch, closing = self._next_batch()
                if batch:
                    self._send(client, batch, closing)
                elif closing:
                    return
                if not closing and time.monotonic() >= self._next_heartbeat:
                    self._heartbeat(client)
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def _next_batch(self) -> tuple[list[Report], bool]:
        with self._cond:
            while not self._queue and not self._closing:
                wait = self._next_heartbeat - time.monotonic()
                if wait <= 0:
                    break
                self._idle = True
                self._cond.wait(wait)
                self._idle = False
            batch, self._queue = self._queue, []
            return batch, self._closing

    def _send(self, client: Client, batch: list[Report], closing: bool) -> None:
        try:
            self._execute_report(client, batch)
        except ServerUnreachable as exc:
            if closing:
                log.error("could not send %d reports while stopping: %s", len(batch), exc)
                return
            log.warning("could not send %d reports, retrying: %s", len(batch), exc)
            with self._cond:
                self._queue[:0] = batch
                self._cond.wait(RETRY_SECONDS)
        except Exception as exc:  # refused by the server: salvage the others one by one
            if len(batch) == 1:
                log.error("report %s refused: %s", batch[0], exc)
                return
            log.warning(
                "a batch of %d reports was refused (%s); sending one by one", len(batch), exc
            )
            for report in batch:
                try:
                    self._execute_report(client, [report])
                except Exception as single_exc:
                    log.error("report %s refused: %s", report, single_exc)

    def _execute_report(self, client: Client, batch: list[Report]) -> None:
        result = client.execute(REPORT, {"workerId": self._worker_id, "reports": batch})
        answer = result["reportTaskInstances"]
        if answer.get("ignored"):
            log.debug("late reports ignored by the server for %s", answer["ignored"])
        for refused in answer.get("refused") or ():
            log.warning(
                "report on instance %s refused: %s", refused["taskInstanceId"], refused["message"]
            )
        if answer.get("killInstanceIds"):
            self._on_kill(list(answer["killInstanceIds"]))

    def _heartbeat(self, client: Client) -> None:
        self._next_heartbeat = time.monotonic() + self._interval
        ids = self._held_ids()
        if not ids:
            return
        try:
            result = client.execute(
                HEARTBEAT,
                {
                    "workerId": self._worker_id,
                    "taskInstanceIds": ids,
                    "nextReportSeconds": 3 * self._interval,
                },
            )
            kills = result["heartbeat"]["killInstanceIds"]
        except Exception as exc:
            log.warning("heartbeat for %d instances failed: %s", len(ids), exc)
            return
        if kills:
            self._on_kill(list(kills))
