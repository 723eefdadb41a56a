"""Workers announce themselves: which clusters have a live worker, and on which hosts.

A worker is alive while it keeps asking for work (its claims and heartbeats mark it seen)
and has not said that it stopped. Seeing a worker is written at most every few seconds
per process, so that a busy worker's claims cost no extra write each.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.errors import ValidationFailed
from jobmon_server.transitions import utcnow

# A worker not seen for this long is taken as gone (claims long-poll for up to 30 s).
ALIVE_SECONDS = 45.0
SEEN_WRITE_SECONDS = 5.0

_last_written: dict[str, float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class WorkerRow:
    id: str
    cluster_name: str
    hostname: str
    version: str
    started: datetime
    last_seen: datetime
    stopped: datetime | None

    def alive(self, now: datetime) -> bool:
        return self.stopped is None and self.last_seen > now - timedelta(seconds=ALIVE_SECONDS)


def announce(
    session: Session,
    worker_id: str,
    cluster_id: int,
    hostname: str,
    version: str,
    token_id: int | None = None,
) -> None:
    """Record a worker that starts (or starts again under the same id), with the token it
    announced itself with (see ``authorize``)."""
    for name, value, longest in (
        ("workerId", worker_id, 120),
        ("hostname", hostname, 255),
        ("version", version, 50),
    ):
        if not value or len(value) > longest:
            raise ValidationFailed(f"{name} needs 1 to {longest} characters", name)
    now = utcnow()
    row = session.get(models.Worker, worker_id, with_for_update=True)
    if row is None:
        session.add(
            models.Worker(
                id=worker_id,
                cluster_id=cluster_id,
                hostname=hostname,
                version=version,
                started=now,
                last_seen=now,
                stopped=None,
                token_id=token_id,
            )
        )
    else:
        row.cluster_id, row.hostname, row.version = cluster_id, hostname, version
        row.last_seen, row.stopped = now, None
        row.token_id = token_id
    with _lock:
        _last_written[worker_id] = time.monotonic()


def seen_due(worker_id: str) -> bool:
    """Whether marking this worker seen is due (at most every few seconds per worker);
    asked before opening a transaction for it."""
    now = time.monotonic()
    with _lock:
        if now - _last_written.get(worker_id, 0.0) < SEEN_WRITE_SECONDS:
            return False
        _last_written[worker_id] = now
        if len(_last_written) > 10_000:  # forget workers long gone
            cutoff = now - 10 * ALIVE_SECONDS
            for key in [k for k, t in _last_written.items() if t < cutoff]:
                del _last_written[key]
        return True


def seen(session: Session, worker_id: str) -> None:
    """Mark a worker seen now."""
    session.execute(
        update(models.Worker)
        .where(models.Worker.id == worker_id)
        .values(last_seen=utcnow(), stopped=None)
        .execution_options(synchronize_session=False)
    )


def stopped(session: Session, worker_id: str) -> None:
    session.execute(
        update(models.Worker)
        .where(models.Worker.id == worker_id)
        .values(stopped=utcnow())
        .execution_options(synchronize_session=False)
    )
    with _lock:
        _last_written.pop(worker_id, None)


def recent_workers(session: Session, cluster_names: list[str] | None = None) -> list[WorkerRow]:
    """Workers seen within ten times the liveness window (older ones are history)."""
    cutoff = utcnow() - timedelta(seconds=10 * ALIVE_SECONDS)
    worker, cluster = models.Worker, models.Cluster
    query = (
        select(
            worker.id,
            cluster.name,
            worker.hostname,
            worker.version,
            worker.started,
            worker.last_seen,
            worker.stopped,
        )
        .join(cluster, cluster.id == worker.cluster_id)
        .where(worker.last_seen > cutoff)
        .order_by(cluster.name, worker.last_seen.desc())
        .limit(1000)
    )
    if cluster_names is not None:
        query = query.where(cluster.name.in_(cluster_names))
    return [WorkerRow(*row) for row in session.execute(query).all()]
