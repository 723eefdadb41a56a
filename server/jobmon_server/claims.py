"""Claims that wait: a worker asks for work and is answered as soon as some is queued.

While nothing is ready the request waits (up to the server's ``max_claim_wait``) for this
process's wake-up of the cluster, re-checking once a second for work another replica
queued; a worker that hung up meanwhile is handed nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from jobmon_server import presence, workers
from jobmon_server.context import Services
from jobmon_server.wakeup import wait_for

_cluster_ids: dict[tuple[int, str], int] = {}


async def cluster_id(services: Services, name: str) -> int:
    """A cluster's id by name, remembered (clusters are never renamed or removed)."""
    key = (id(services), name)
    found = _cluster_ids.get(key)
    if found is None:
        found = _cluster_ids[key] = await services.read(workers.cluster_id, name)
    return found


async def claim_waiting(
    services: Services,
    request: Any,
    cluster_id: int,
    worker_id: str,
    first: Callable[[Session], workers.Synced],
    limit: int,
    wait_seconds: float,
) -> workers.Synced:
    """Run ``first`` (reports and a claim, in one transaction); if it claimed nothing and
    had nothing to say, claim again as work arrives until ``wait_seconds`` pass."""
    settings = services.settings
    deadline = time.monotonic() + min(max(wait_seconds, 0.0), settings.max_claim_wait)
    event = services.wakeup.listen(cluster_id)
    synced = await services.write(first)
    if presence.seen_due(worker_id):
        await services.write(presence.seen, worker_id)
    while _nothing(synced) and time.monotonic() < deadline:
        await wait_for(event, min(deadline - time.monotonic(), 1.0))
        if request is not None and await request.is_disconnected():
            # The worker gave up waiting (or died): claim nothing it cannot receive.
            return synced
        event = services.wakeup.listen(cluster_id)
        claimed = await services.write(
            workers.claim, cluster_id, worker_id, limit, settings.report_within
        )
        synced = workers.Synced(synced.outcome, claimed)
    return synced


def _nothing(synced: workers.Synced) -> bool:
    outcome = synced.outcome
    return not (
        synced.claimed.instances
        or synced.claimed.kill_ids
        or outcome.accepted
        or outcome.ignored
        or outcome.refused
        or outcome.kill_ids
    )
