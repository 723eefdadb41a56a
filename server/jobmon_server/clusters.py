"""Clusters and their queues: registration by workers, limits, and where a request goes.

A queue's limits (cores, memory, runtime) come from its worker: a Slurm worker reads its
partitions when it starts and registers them. A request over its queue's limits moves to
the first of its fallback queues that fits; at bind time it is refused when none does, and
on a retry it is capped at the limit, with ``capped`` in the request saying so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server import resources as res
from jobmon_server.db import models
from jobmon_server.errors import ConflictError, ValidationFailed

LOCAL_DISTRIBUTORS = frozenset({"sequential", "multiprocess"})
# A distributor is named by its worker: the built-in ones, or one a site installs.
DISTRIBUTOR_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")


@dataclass(frozen=True)
class QueueLimits:
    name: str
    default: bool = False
    max_cores: int | None = None
    max_memory_mb: float | None = None
    max_runtime_s: float | None = None

    @classmethod
    def from_row(cls, queue: models.Queue) -> QueueLimits:
        limits = queue.limits or {}
        return cls(
            name=queue.name,
            default=bool(limits.get("default", False)),
            max_cores=limits.get("max_cores"),
            max_memory_mb=limits.get("max_memory_mb"),
            max_runtime_s=limits.get("max_runtime_s"),
        )

    def limits(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "name"}

    def exceeded(self, requested: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
        """The resources over this queue's limits: kind -> (asked, limit)."""
        over: dict[str, tuple[float, float]] = {}
        for kind, limit, parse in (
            ("cores", self.max_cores, float),
            ("memory", self.max_memory_mb, res.memory_mb),
            ("runtime", self.max_runtime_s, res.runtime_s),
        ):
            if limit is not None and kind in requested:
                asked = parse(requested[kind])
                if asked > limit:
                    over[kind] = (asked, float(limit))
        return over


def register_cluster(
    session: Session, name: str, distributor: str, queues: Sequence[QueueLimits]
) -> tuple[models.Cluster, list[QueueLimits]]:
    """Create a cluster or update its queues' limits (queues not named are kept)."""
    if not DISTRIBUTOR_NAME.match(distributor):
        raise ValidationFailed(
            f"'{distributor}' is not a distributor name: use lower-case letters, digits, '_', "
            "'.' or '-', starting with a letter (such as slurm or multiprocess)",
            "distributor",
        )
    if not name or len(name) > 255:
        raise ValidationFailed("a cluster name needs 1 to 255 characters", "name")
    if sum(q.default for q in queues) > 1:
        raise ValidationFailed("at most one queue can be the default", "queues")
    repeated = sorted(n for n, count in Counter(q.name for q in queues).items() if count > 1)
    if repeated:
        raise ValidationFailed(
            f"queue {repeated[0]!r} is named more than once; name each queue once", "queues"
        )
    cluster = session.scalars(
        select(models.Cluster).where(models.Cluster.name == name).with_for_update(key_share=True)
    ).first()
    if cluster is None:
        cluster = models.Cluster(name=name, distributor=distributor)
        session.add(cluster)
        session.flush()
    elif cluster.distributor != distributor:
        raise ConflictError(
            f"cluster '{name}' is a {cluster.distributor} cluster, not {distributor}; "
            "register this one under another name"
        )
    existing = {
        q.name: q
        for q in session.scalars(select(models.Queue).where(models.Queue.cluster_id == cluster.id))
    }
    if any(q.default for q in queues):
        for stored in existing.values():
            if (stored.limits or {}).get("default"):
                stored.limits = {**stored.limits, "default": False}
    for queue in queues:
        row = existing.get(queue.name)
        if row is None:
            session.add(models.Queue(cluster_id=cluster.id, name=queue.name, limits=queue.limits()))
        else:
            row.limits = queue.limits()
    session.flush()
    return cluster, cluster_queues(session, cluster.id)


def cluster_queues(session: Session, cluster_id: int) -> list[QueueLimits]:
    rows = session.scalars(
        select(models.Queue).where(models.Queue.cluster_id == cluster_id).order_by(models.Queue.id)
    )
    return [QueueLimits.from_row(q) for q in rows]


def all_clusters(session: Session) -> list[tuple[models.Cluster, list[QueueLimits]]]:
    clusters = session.scalars(select(models.Cluster).order_by(models.Cluster.id)).all()
    return [(c, cluster_queues(session, c.id)) for c in clusters]


class Placement:
    """The queues of one cluster, and where a request goes among them."""

    def __init__(self, cluster: models.Cluster, queues: Sequence[QueueLimits]) -> None:
        self.cluster = cluster
        self.queues = {q.name: q for q in queues}
        self.default = next((q for q in queues if q.default), None)
        self.checked = cluster.distributor not in LOCAL_DISTRIBUTORS

    def queue_of(self, requested: Mapping[str, Any]) -> QueueLimits | None:
        name = requested.get("queue")
        if name is None:
            return self.default
        return self.queues.get(str(name))

    def place(
        self, requested: dict[str, Any], fallback: Sequence[str] | None, owner: str
    ) -> dict[str, Any]:
        """Bind time: the request as it will be sent, or ValidationFailed naming the task."""
        if not self.checked:
            return requested
        queue = self._known_queue(requested, owner)
        if queue is None or not queue.exceeded(requested):
            return requested
        for name in fallback or []:
            target = self._named(name, owner)
            if not target.exceeded(requested):
                return {**requested, "queue": target.name}
        over = ", ".join(
            f"{kind} {_show(kind, asked)} (limit {_show(kind, limit)})"
            for kind, (asked, limit) in queue.exceeded(requested).items()
        )
        tried = f" nor in its fallback queues {', '.join(fallback)}" if fallback else ""
        raise ValidationFailed(
            f"{owner} asks for {over} on queue '{queue.name}' of cluster '{self.cluster.name}', "
            f"which does not fit there{tried}; ask for less or add a fallback queue that fits",
            "resources",
        )

    def place_retry(self, requested: dict[str, Any], fallback: Sequence[str] | None) -> dict:
        """After scaling for a retry: move to a fallback queue, or cap at the limit."""
        if not self.checked:
            return requested
        queue = self.queue_of(requested)
        if queue is None or not queue.exceeded(requested):
            return requested
        for name in fallback or []:
            target = self.queues.get(name)
            if target is not None and not target.exceeded(requested):
                return {**requested, "queue": target.name}
        capped = dict(requested)
        for kind, (_, limit) in queue.exceeded(requested).items():
            capped[kind] = _format(kind, limit)
            capped["capped"] = sorted({*capped.get("capped", []), kind})
        return capped

    def _known_queue(self, requested: Mapping[str, Any], owner: str) -> QueueLimits | None:
        if "queue" in requested:
            return self._named(str(requested["queue"]), owner)
        return self.default

    def _named(self, name: str, owner: str) -> QueueLimits:
        queue = self.queues.get(name)
        if queue is None:
            raise ValidationFailed(
                f"{owner} asks for queue '{name}', which cluster '{self.cluster.name}' does not "
                "have; its queues are: " + ", ".join(sorted(self.queues)),
                "queue",
            )
        return queue


def _show(kind: str, value: float) -> str:
    return _format(kind, value) if kind != "cores" else str(int(value))


def _format(kind: str, value: float) -> Any:
    if kind == "memory":
        return f"{int(value)}M"
    if kind == "runtime":
        return f"{int(value)}s"
    return int(value)
