"""The claimer thread: long-polls for work whenever this worker has free slots."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from jobmon_client.worker.documents import CLAIM, Client
from jobmon_client.worker.instance import ClaimedInstance
from jobmon_client.worker.slots import SlotPool

log = logging.getLogger(__name__)

CLAIM_WAIT_SECONDS = 5.0
RETRY_START_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
# The server answers a claim at once while an instance it asked to kill is still held;
# while the same kill requests come back alone, claim at most this often.
REPEATED_KILLS_PAUSE_SECONDS = 0.5


class Claimer:
    """Claims up to the free slots, commits their slots, and hands them to the loop.

    With ``max_backlog`` it also keeps up to that many instances waiting locally, as
    many as twice the slots freed during the last claim's round trip: none when tasks
    are long, enough to keep the slots busy when they are a few milliseconds each.
    """

    def __init__(
        self,
        client_factory: Callable[[], Client],
        cluster_name: str,
        worker_id: str,
        slots: SlotPool,
        deliver: Callable[[list[ClaimedInstance], list[int]], None],
        on_heartbeat_interval: Callable[[float], None],
        on_done: Callable[[], None],
        wait_seconds: float = CLAIM_WAIT_SECONDS,
        max_backlog: int = 0,
    ) -> None:
        self._client_factory = client_factory
        self._cluster_name = cluster_name
        self._worker_id = worker_id
        self._slots = slots
        self._deliver = deliver
        self._on_heartbeat_interval = on_heartbeat_interval
        self._on_done = on_done
        self._wait_seconds = wait_seconds
        self._max_backlog = max_backlog
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jobmon-claimer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Claim no more (a claim in flight still completes and is delivered)."""
        self._stopping.set()
        self._slots.close()

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
        parallelism = self._slots.total
        delay = RETRY_START_SECONDS
        announced: set[int] = set()
        while not self._stopping.is_set():
            free = self._slots.wait_free()
            if free <= 0:
                return
            released_before = self._slots.released
            try:
                result = client.execute(
                    CLAIM,
                    {
                        "clusterName": self._cluster_name,
                        "workerId": self._worker_id,
                        "limit": free,
                        "waitSeconds": self._wait_seconds,
                    },
                )
                answer = result["claimTaskInstances"]
                instances = [ClaimedInstance.from_wire(i, parallelism) for i in answer["instances"]]
            except Exception as exc:
                log.warning("claiming failed (%s); retrying in %.0fs", exc, delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_START_SECONDS
            interval = answer.get("heartbeatIntervalSeconds")
            if interval:
                self._on_heartbeat_interval(float(interval))
            kills = list(answer.get("killInstanceIds") or ())
            if instances:
                self._slots.commit(sum(i.slots for i in instances))
                if self._max_backlog:
                    ended = self._slots.released - released_before
                    self._slots.set_backlog(min(self._max_backlog, 2 * ended))
            if instances or kills:
                self._deliver(instances, kills)
            repeated = bool(kills) and not instances and announced.issuperset(kills)
            announced = set(kills)
            if repeated:
                self._stopping.wait(REPEATED_KILLS_PAUSE_SECONDS)
