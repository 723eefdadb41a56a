"""The claimer thread: long-polls for work whenever the distributor has room for more."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from jobmon_client.distributor import ClaimedInstance
from jobmon_client.worker.documents import SYNC, Client

log = logging.getLogger(__name__)

CLAIM_WAIT_SECONDS = 5.0
RETRY_START_SECONDS = 0.2
RETRY_MAX_SECONDS = 2.0
ROOM_CHECK_SECONDS = 1.0
# The server answers a claim at once while an instance it asked to kill is still held;
# while the same kill requests come back alone, claim at most this often.
REPEATED_KILLS_PAUSE_SECONDS = 0.5


class Claimer:
    """Claims as many instances as ``room()`` says, and hands them to the loop.

    ``room`` is asked before every claim; when it is 0 the claimer waits for ``more_room``
    (set by the loop when instances end) or a second, whichever comes first.
    """

    def __init__(
        self,
        client_factory: Callable[[], Client],
        cluster_name: str,
        worker_id: str,
        room: Callable[[], int],
        deliver: Callable[[list[ClaimedInstance], list[int], float], None],
        on_intervals: Callable[[float, float | None], None],
        on_done: Callable[[], None],
        wait_seconds: float = CLAIM_WAIT_SECONDS,
    ) -> None:
        self._client_factory = client_factory
        self._cluster_name = cluster_name
        self._worker_id = worker_id
        self._room = room
        self._deliver = deliver
        self._on_intervals = on_intervals
        self._on_done = on_done
        self._wait_seconds = wait_seconds
        self._stopping = threading.Event()
        self.more_room = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobmon-claimer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Claim no more (a claim in flight still completes and is delivered)."""
        self._stopping.set()
        self.more_room.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            client = self._client_factory()
        except Exception:
            log.exception("cannot create a GraphQL client")
            self._on_done()
            return
        try:
            self._claim_until_stopped(client)
        finally:
            self._on_done()
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def _claim_until_stopped(self, client: Client) -> None:
        delay = RETRY_START_SECONDS
        announced: set[int] = set()
        while not self._stopping.is_set():
            limit = self._room()
            if limit <= 0:
                self.more_room.wait(ROOM_CHECK_SECONDS)
                self.more_room.clear()
                continue
            try:
                result = client.execute(
                    SYNC,
                    {
                        "clusterName": self._cluster_name,
                        "workerId": self._worker_id,
                        "reports": [],
                        "claimLimit": limit,
                        "waitSeconds": self._wait_seconds,
                    },
                )
                answer = result["workerSync"]
                instances = [ClaimedInstance.from_wire(i) for i in answer["instances"]]
            except Exception as exc:
                log.warning("claiming failed (%s); trying again in %.1fs", exc, delay)
                self._stopping.wait(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_START_SECONDS
            self._on_intervals(
                float(answer.get("heartbeatIntervalSeconds") or 0),
                answer.get("leaseSeconds"),
            )
            kills = list(answer.get("killInstanceIds") or ())
            if instances or kills:
                # The lease began when the server claimed them, at the end of a long poll.
                self._deliver(instances, kills, time.monotonic())
            repeated = bool(kills) and not instances and announced.issuperset(kills)
            announced = set(kills)
            if repeated:
                self._stopping.wait(REPEATED_KILLS_PAUSE_SECONDS)
