"""Alerts: the events worth a person's attention, as kinds with a readable message."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.events import EventRow
from jobmon_server.stalls import STALLED
from jobmon_server.statuses import INSTANCE_FAILED
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


# Alerts about a task: they name it and say how its attempt ended.
TASK_KINDS = frozenset({AlertKind.TASK_FATAL, AlertKind.RESOURCE_RETRY, AlertKind.HEARTBEAT_LOST})
ERROR_LINE_CHARS = 300


@dataclass(frozen=True)
class TaskDetail:
    """The task an alert is about, and its attempt's exit code and error's last line."""

    task_id: int | None = None
    task_name: str | None = None
    exit_code: int | None = None
    error_line: str | None = None


def task_detail(session: Session, row: EventRow, kind: AlertKind) -> TaskDetail:
    """The attempt the alert is about: the instance itself, or the task's latest one that
    had failed by the event's time (its failure and the event share a transaction, and so
    a time; a replay must not name a retry that failed later)."""
    if kind not in TASK_KINDS:
        return TaskDetail()
    ti, task, log = models.TaskInstance, models.Task, models.TaskInstanceErrorLog
    stmt = select(task.id, task.name, ti.id, ti.exit_code)
    if row.entity == "task_instance":
        stmt = stmt.join(ti, ti.task_id == task.id).where(ti.id == row.entity_id)
    else:
        stmt = (
            stmt.outerjoin(
                ti,
                (ti.task_id == task.id)
                & (func.coalesce(ti.finished_date, ti.status_date) <= row.time)
                & ti.status.in_([str(s) for s in INSTANCE_FAILED | {"ERROR_FATAL"}]),
            )
            .where(task.id == row.entity_id)
            .order_by(ti.id.desc())
        )
    found = session.execute(stmt.limit(1)).first()
    if found is None:
        return TaskDetail()
    task_id, name, instance_id, exit_code = found
    error = None
    if instance_id is not None:
        error = session.execute(
            select(log.description)
            .where(log.task_instance_id == instance_id)
            .order_by(log.id.desc())
            .limit(1)
        ).scalar()
    return TaskDetail(task_id, name, exit_code, last_line(error))


def last_line(text: str | None) -> str | None:
    """The last non-blank line: a traceback's says what went wrong."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    line = lines[-1]
    return line if len(line) <= ERROR_LINE_CHARS else line[: ERROR_LINE_CHARS - 1] + "…"


def message(row: EventRow, kind: AlertKind, detail: TaskDetail | None = None) -> str:
    note = (row.note or "").removeprefix(f"{STALLED}: ").removeprefix(f"{NO_WORKER}: ")
    text = TEXT[kind].format(id=row.entity_id, wf=row.workflow_id, note=note)
    if detail is None or detail.task_id is None:
        return text
    if kind is AlertKind.HEARTBEAT_LOST:
        text += f" (task {detail.task_id} '{detail.task_name}')"
    else:
        text = text.replace(
            f"task {row.entity_id} ", f"task {row.entity_id} '{detail.task_name}' ", 1
        )
    if detail.exit_code is not None:
        text += f", exit {detail.exit_code}"
    if detail.error_line:
        text += f": {detail.error_line}"
    return text


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
