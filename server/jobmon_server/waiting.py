"""Ready tasks waiting on a cluster that no live worker serves: said, never silent.

A background duty of every server process. A running run with queued attempts on a
cluster without a live worker gets ``waiting_for`` set to a sentence that says so and what
to do, and one event (an alert); when a worker serves the cluster again, or nothing waits
on it any more, ``waiting_for`` is cleared. Runs are changed under their workflow's lock,
so two replicas never write the same alert twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.rows import lock_workflow
from jobmon_server.presence import ALIVE_SECONDS
from jobmon_server.statuses import TI, WR
from jobmon_server.transitions import write_events

NO_WORKER = "no worker"


def live_cluster_ids(session: Session, now: datetime) -> set[int]:
    worker = models.Worker
    return set(
        session.scalars(
            select(worker.cluster_id)
            .where(
                worker.stopped.is_(None),
                worker.last_seen > now - timedelta(seconds=ALIVE_SECONDS),
            )
            .distinct()
        )
    )


def sentence(counts: dict[str, int]) -> str:
    """What a run waits on, e.g. "12 tasks wait for cluster 'slurm': no worker is running
    for it; start `jobmon worker --cluster slurm`"."""
    parts = []
    for name, count in sorted(counts.items()):
        tasks = "1 task waits" if count == 1 else f"{count} tasks wait"
        parts.append(
            f"{tasks} for cluster '{name}': no worker is running for it; start "
            f"`jobmon worker --cluster {name}`"
        )
    return "; ".join(parts)


def flag_missing_workers(session: Session, now: datetime) -> int:
    """Set or clear ``waiting_for`` on running runs; returns how many runs changed."""
    live = live_cluster_ids(session, now)
    ti, cluster = models.TaskInstance, models.Cluster
    query = (
        select(ti.workflow_run_id, cluster.name, func.count())
        .join(cluster, cluster.id == ti.cluster_id)
        .where(ti.status == TI.QUEUED)
        .group_by(ti.workflow_run_id, cluster.name)
    )
    if live:
        query = query.where(ti.cluster_id.not_in(sorted(live)))
    waiting: dict[int, dict[str, int]] = defaultdict(dict)
    for run_id, name, count in session.execute(query).all():
        waiting[run_id][name] = int(count)
    run = models.WorkflowRun
    # Every run still flagged, ended ones too: a run that ended between two passes (its
    # worker came and finished it) no longer waits for anything.
    flagged = session.execute(select(run.id).where(run.waiting_for.is_not(None))).scalars()
    changed = 0
    for run_id in sorted(set(flagged) | set(waiting)):
        row = session.get(run, run_id)
        if row is None:
            continue
        lock_workflow(session, row.workflow_id)
        session.refresh(row)
        text = sentence(waiting[run_id]) if run_id in waiting and row.status == WR.RUNNING else None
        if text == row.waiting_for:
            continue
        if text is not None and _clusters(text) != _clusters(row.waiting_for):
            write_events(
                session,
                [
                    {
                        "workflow_id": row.workflow_id,
                        "entity": "workflow_run",
                        "entity_id": row.id,
                        "from_status": row.status,
                        "to_status": row.status,
                        "note": f"{NO_WORKER}: {text}"[:2000],
                        "time": now,
                    }
                ],
            )
        row.waiting_for = text
        changed += 1
    return changed


def _clusters(text: str | None) -> set[str]:
    """The clusters a waiting sentence names (a new alert only when these change)."""
    return set(_CLUSTER.findall(text or ""))


_CLUSTER = re.compile(r"for cluster '([^']*)'")
