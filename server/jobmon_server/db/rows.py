"""Reading and locking rows: what the scheduler, the reports and the steering share.

Row types with the columns they are read with (as SQLAlchemy columns and as SQL text for
the statements of the hot path, db/raw.py), the locks every change takes in one order, the
running run of a workflow, and the kept status counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.raw import raw
from jobmon_server.db.statements import chunks
from jobmon_server.statuses import WR

Task = models.Task
TaskInstance = models.TaskInstance

# Columns ``move`` and the scheduler need of a task.
TASK_COLUMNS = (
    Task.id,
    Task.status,
    Task.workflow_id,
    Task.array_id,
    Task.num_attempts,
    Task.max_attempts,
    Task.task_resources_id,
)
INSTANCE_COLUMNS = (
    TaskInstance.id,
    TaskInstance.status,
    TaskInstance.workflow_id,
    TaskInstance.task_id,
    TaskInstance.cluster_id,
    TaskInstance.worker_id,
    TaskInstance.task_resources_id,
    TaskInstance.claimed_by,
)


# The same columns as SQL text, for the statements of the hot path (db/raw.py).
TASK_SQL = "id, status, workflow_id, array_id, num_attempts, max_attempts, task_resources_id"
INSTANCE_SQL = (
    "id, status, workflow_id, task_id, cluster_id, worker_id, task_resources_id, claimed_by"
)


class TaskRow(NamedTuple):
    id: int
    status: str
    workflow_id: int
    array_id: int
    num_attempts: int
    max_attempts: int
    task_resources_id: int


class QueuedTask(NamedTuple):
    id: int
    status: str
    workflow_id: int
    array_id: int
    num_attempts: int
    max_attempts: int
    task_resources_id: int
    cluster_id: int


class InstanceRow(NamedTuple):
    id: int
    status: str
    workflow_id: int
    task_id: int
    cluster_id: int
    worker_id: str | None
    task_resources_id: int
    claimed_by: str | None

    def held_by(self, worker_id: str) -> bool:
        """Whether a report or heartbeat from ``worker_id`` is the lease holder's: the
        worker that holds the attempt now, or the one that claimed it (its runners)."""
        return worker_id in (self.worker_id, self.claimed_by)


def task_rows(session: Session, stmt: Any) -> list[TaskRow]:
    return [TaskRow(*r) for r in session.connection().execute(stmt).all()]


def task_rows_by_id(session: Session, stmt: Any) -> list[TaskRow]:
    """The tasks of ``stmt`` (a SELECT ... FOR UPDATE without ORDER BY) in id order.

    PostgreSQL and MariaDB lock them in that order (ORDER BY id). SQLite, which has no row
    locks, sorts them here instead: given ORDER BY id, its planner walks the (workflow_id,
    id) index over every task of the workflow, not the status index over the few asked for.
    """
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.order_by(models.Task.id)
    rows = task_rows(session, stmt)
    rows.sort(key=attrgetter("id"))
    return rows


def instance_rows(session: Session, stmt: Any) -> list[InstanceRow]:
    return [InstanceRow(*r) for r in session.connection().execute(stmt).all()]


def lock_workflow(session: Session, workflow_id: int) -> models.Workflow | None:
    """Lock a workflow row: every change to a workflow's tasks holds it first.

    Lock order, everywhere: the workflow (several in id order), then its instances, then
    its tasks, then its run, each set in id order. Rows are locked FOR NO KEY UPDATE on
    PostgreSQL (``key_share``): an insert that references a locked row (an event, an
    instance) takes a key-share lock, which FOR UPDATE would block, and a claim inserting
    events while a stop held its workflow deadlocked so.
    """
    return session.scalars(
        select(models.Workflow)
        .where(models.Workflow.id == workflow_id)
        .with_for_update(key_share=True)
    ).first()


def lock_tasks(session: Session, ids: Sequence[int]) -> list[TaskRow]:
    db = raw(session)
    rows: list[TaskRow] = []
    for part in chunks(sorted(set(ids))):
        which, params = db.in_ids("id", part)
        rows += [
            TaskRow(*r)
            for r in db.rows(
                f"SELECT {TASK_SQL} FROM task WHERE {which} ORDER BY id" + db.lock(), params
            )
        ]
    return rows


def lock_instances(session: Session, ids: Sequence[int]) -> list[InstanceRow]:
    db = raw(session)
    rows: list[InstanceRow] = []
    for part in chunks(sorted(set(ids))):
        which, params = db.in_ids("id", part)
        rows += [
            InstanceRow(*r)
            for r in db.rows(
                f"SELECT {INSTANCE_SQL} FROM task_instance WHERE {which} ORDER BY id" + db.lock(),
                params,
            )
        ]
    return rows


@dataclass
class RunState:
    """What the scheduler needs of a workflow run (read without the ORM)."""

    id: int
    workflow_id: int
    status: str
    fail_fast: bool
    dynamic_resources: bool


def running_run(session: Session, workflow_id: int) -> RunState | None:
    rows = raw(session).rows(
        "SELECT id, workflow_id, status, fail_fast, dynamic_resources FROM workflow_run "
        "WHERE workflow_id = ? AND status = ? ORDER BY id DESC LIMIT 1",
        [workflow_id, WR.RUNNING.value],
    )
    if not rows:
        return None
    run_id, wf_id, status, fail_fast, dynamic = rows[0]
    return RunState(run_id, wf_id, status, bool(fail_fast), bool(dynamic))


@dataclass
class WorkflowState:
    """What the scheduler needs of a workflow (read without the ORM)."""

    id: int
    status: str
    max_concurrently_running: int
    total_tasks: int


# The ORM objects or the plain states: the scheduler reads only what both have.
AnyWorkflow = models.Workflow | WorkflowState
AnyRun = models.WorkflowRun | RunState


def lock_workflow_state(session: Session, workflow_id: int) -> WorkflowState | None:
    """``lock_workflow`` for the hot path: the same lock, a plain row."""
    db = raw(session)
    rows = db.rows(
        "SELECT id, status, max_concurrently_running, total_tasks FROM workflow WHERE id = ?"
        + db.lock(),
        [workflow_id],
    )
    return WorkflowState(*rows[0]) if rows else None


def task_counts(session: Session, workflow_id: int) -> Counter[str]:
    rows = raw(session).rows(
        "SELECT status, SUM(count) FROM task_status_count WHERE workflow_id = ? GROUP BY status",
        [workflow_id],
    )
    return Counter({status: int(n or 0) for status, n in rows})


def counts_by_array(session: Session, workflow_id: int) -> dict[tuple[int, str], int]:
    rows = raw(session).rows(
        "SELECT array_id, status, count FROM task_status_count WHERE workflow_id = ?",
        [workflow_id],
    )
    return {(a, s): n for a, s, n in rows}


def task_counts_by_array(session: Session, workflow_id: int) -> dict[int, dict[str, int]]:
    """Tasks per status of each array of a workflow, from the kept counts."""
    nested: dict[int, dict[str, int]] = defaultdict(dict)
    for (array_id, status), n in counts_by_array(session, workflow_id).items():
        if n:
            nested[array_id][status] = n
    return dict(nested)
