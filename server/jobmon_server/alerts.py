"""Alerts: the events worth a person's attention, as kinds with a readable message."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_

from jobmon_server.db import models
from jobmon_server.events import EventRow
from jobmon_server.stalls import STALLED
from jobmon_server.waiting import NO_WORKER


class AlertKind(StrEnum):
    TASK_FATAL = "TASK_FATAL"
    WORKFLOW_FAILED = "WORKFLOW_FAILED"
    WORKFLOW_DONE = "WORKFLOW_DONE"
    RESOURCE_RETRY = "RESOURCE_RETRY"
    HEARTBEAT_LOST = "HEARTBEAT_LOST"
    RUN_STALLED = "RUN_STALLED"
    NO_WORKER = "NO_WORKER"


KIND_OF = {
    ("task", "ERROR_FATAL"): AlertKind.TASK_FATAL,
    ("workflow", "FAILED"): AlertKind.WORKFLOW_FAILED,
    ("workflow", "DONE"): AlertKind.WORKFLOW_DONE,
    ("task", "ADJUSTING_RESOURCES"): AlertKind.RESOURCE_RETRY,
    ("task_instance", "NO_HEARTBEAT"): AlertKind.HEARTBEAT_LOST,
}
TEXT = {
    AlertKind.TASK_FATAL: "task {id} of workflow {wf} failed for good (ERROR_FATAL)",
    AlertKind.WORKFLOW_FAILED: "workflow {wf} FAILED",
    AlertKind.WORKFLOW_DONE: "workflow {wf} is DONE",
    AlertKind.RESOURCE_RETRY: "task {id} of workflow {wf} ran out of resources; retried with more",
    AlertKind.HEARTBEAT_LOST: "task instance {id} of workflow {wf} stopped sending heartbeats",
    AlertKind.RUN_STALLED: "run {id} of workflow {wf} made no progress ({note})",
    AlertKind.NO_WORKER: "run {id} of workflow {wf}: {note}",
}


def kind_of(row: EventRow) -> AlertKind | None:
    note = row.note or ""
    if note.startswith("ignored"):
        return None
    if row.entity == "workflow_run" and note.startswith(STALLED):
        return AlertKind.RUN_STALLED
    if row.entity == "workflow_run" and note.startswith(NO_WORKER):
        return AlertKind.NO_WORKER
    return KIND_OF.get((row.entity, row.to_status))


def message(row: EventRow, kind: AlertKind) -> str:
    note = (row.note or "").removeprefix(f"{STALLED}: ").removeprefix(f"{NO_WORKER}: ")
    return TEXT[kind].format(id=row.entity_id, wf=row.workflow_id, note=note)


def matcher(
    users: Collection[str], workflow_ids: Collection[int], kinds: Collection[AlertKind]
) -> Any:
    def matches(row: EventRow) -> bool:
        kind = kind_of(row)
        return (
            kind is not None
            and (not kinds or kind in kinds)
            and (not users or row.user in users)
            and (not workflow_ids or row.workflow_id in workflow_ids)
        )

    return matches


def condition(
    users: Collection[str], workflow_ids: Collection[int], kinds: Collection[AlertKind]
) -> Any:
    """The same filter in SQL, for the replay."""
    event = models.Event
    pairs = [pair for pair, kind in KIND_OF.items() if not kinds or kind in kinds]
    wanted = [and_(event.entity == e, event.to_status == s) for e, s in pairs]
    if not kinds or AlertKind.RUN_STALLED in kinds:
        wanted.append(and_(event.entity == "workflow_run", event.note.like(f"{STALLED}%")))
    if not kinds or AlertKind.NO_WORKER in kinds:
        wanted.append(and_(event.entity == "workflow_run", event.note.like(f"{NO_WORKER}%")))
    clauses = [or_(*wanted)]
    clauses.append(or_(event.note.is_(None), event.note.not_like("ignored%")))
    if users:
        clauses.append(models.Workflow.user.in_(list(users)))
    if workflow_ids:
        clauses.append(event.workflow_id.in_(list(workflow_ids)))
    return and_(*clauses)
