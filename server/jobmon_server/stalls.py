"""Runs that made no progress: a RUNNING run whose workflow wrote no event for
``stall_seconds`` gets one "stalled" event (and so an alert), until it moves again.

Checked from the background duties every ``stall_check_interval``; each check reads the
newest event of each running run's workflow through the (workflow, id) index, under the
workflow's lock so that two replicas never flag one stall twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.rows import lock_workflow
from jobmon_server.statuses import WR
from jobmon_server.transitions import write_events

STALLED = "stalled"


def flag_stalled_runs(
    session: Session, now: datetime, stall_seconds: float, limit: int = 1000
) -> int:
    run = models.WorkflowRun
    running = session.execute(
        select(run.id, run.workflow_id).where(run.status == WR.RUNNING).limit(limit)
    ).all()
    flagged = 0
    for run_id, workflow_id in running:
        lock_workflow(session, workflow_id)
        last = session.scalars(
            select(models.Event)
            .where(models.Event.workflow_id == workflow_id)
            .order_by(models.Event.id.desc())
            .limit(1)
        ).first()
        if last is None or (last.note or "").startswith(STALLED):
            continue
        quiet = (now - last.time).total_seconds()
        if quiet < stall_seconds:
            continue
        write_events(
            session,
            [
                {
                    "workflow_id": workflow_id,
                    "entity": "workflow_run",
                    "entity_id": run_id,
                    "from_status": WR.RUNNING,
                    "to_status": WR.RUNNING,
                    "note": f"{STALLED}: no progress for {int(quiet)} s",
                    "time": now,
                }
            ],
        )
        flagged += 1
    return flagged
