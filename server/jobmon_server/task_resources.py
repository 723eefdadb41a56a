"""A task's compute resources as stored: one row per distinct request, found by its hash,
and the scaled request of a retry after a RESOURCE_ERROR."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from jobmon_server import clusters, resources
from jobmon_server.db import models
from jobmon_server.db.rows import TaskRow
from jobmon_server.db.statements import insert_ignore

Task = models.Task


def scale_resources(session: Session, rows: Sequence[TaskRow], kinds: dict[int, str]) -> None:
    """Point each task at resources scaled in the dimension that ran out, placed in a
    queue that fits (or capped at its queue's limit)."""
    current = {
        r.id: r
        for r in session.execute(
            select(models.TaskResources).where(
                models.TaskResources.id.in_({t.task_resources_id for t in rows})
            )
        ).scalars()
    }
    placements: dict[int, clusters.Placement] = {}
    new_ids: dict[tuple[int, str], int] = {}
    updates = []
    for task in rows:
        key = (task.task_resources_id, kinds[task.id])
        if key not in new_ids:
            old = current[task.task_resources_id]
            if old.cluster_id not in placements:
                cluster = session.get(models.Cluster, old.cluster_id)
                assert cluster is not None
                placements[old.cluster_id] = clusters.Placement(
                    cluster, clusters.cluster_queues(session, old.cluster_id)
                )
            wanted = resources.scaled(old.requested, kinds[task.id], old.scales)
            placed = placements[old.cluster_id].place_retry(wanted, old.fallback_queues)
            new_ids[key] = resources_id(
                session, old.cluster_id, placed, old.scales, old.fallback_queues
            )
        updates.append({"tid": task.id, "rid": new_ids[key]})
    session.connection().execute(
        update(Task.__table__)
        .where(Task.id == bindparam("tid"))
        .values(task_resources_id=bindparam("rid"))
        .execution_options(synchronize_session=False),
        updates,
    )


def resources_hash(
    cluster_id: int,
    requested: dict[str, Any],
    scales: dict[str, Any] | None = None,
    fallback_queues: list[str] | None = None,
) -> str:
    identity: list[Any] = [cluster_id, requested]
    if scales or fallback_queues:
        identity += [scales, fallback_queues]
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()


def resources_id(
    session: Session,
    cluster_id: int,
    requested: dict[str, Any],
    scales: dict[str, Any] | None = None,
    fallback_queues: list[str] | None = None,
) -> int:
    digest = resources_hash(cluster_id, requested, scales, fallback_queues)
    insert_ignore(
        session,
        models.TaskResources.__table__,  # type: ignore[arg-type]
        [
            {
                "hash": digest,
                "cluster_id": cluster_id,
                "requested": requested,
                "scales": scales or None,
                "fallback_queues": fallback_queues or None,
            }
        ],
    )
    return (
        session.connection()
        .scalars(select(models.TaskResources.id).where(models.TaskResources.hash == digest))
        .one()
    )
