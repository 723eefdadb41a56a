"""What a workflow's owner does to it by hand: stop, reset, mark tasks, change limits.

Each action checks that the user owns the workflow, and those that rewrite task statuses
refuse a workflow that is running: its scheduler would race them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobmon_server import runs
from jobmon_server.auth import Identity
from jobmon_server.binding import set_max_concurrently_running
from jobmon_server.db import models
from jobmon_server.db.rows import (
    TASK_COLUMNS,
    TaskRow,
    lock_tasks,
    lock_workflow,
    running_run,
    task_rows,
)
from jobmon_server.db.statements import chunks
from jobmon_server.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from jobmon_server.reads import template_arrays
from jobmon_server.scheduling import fill_capacity, set_status
from jobmon_server.statuses import TASK_ACTIVE, T, W
from jobmon_server.transitions import TASK, WORKFLOW, move, utcnow

SETTABLE = (T.DONE, T.REGISTERING)


def owned_workflow(session: Session, workflow_id: int, actor: Identity) -> models.Workflow:
    """The workflow, locked, if ``actor`` owns it (or is an admin)."""
    workflow = lock_workflow(session, workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    if workflow.user != actor.user and not actor.admin:
        raise PermissionDeniedError(
            f"workflow {workflow_id} belongs to {workflow.user}; only its owner may change it"
        )
    return workflow


def _refuse_running(session: Session, workflow: models.Workflow, action: str) -> None:
    run = running_run(session, workflow.id)
    if run is not None or workflow.status in (W.QUEUED, W.RUNNING):
        which = f" (run {run.id})" if run is not None else ""
        raise ConflictError(
            f"cannot {action}: workflow {workflow.id} is running{which}; stop it first with "
            f"'jobmon workflow stop -w {workflow.id}'"
        )


def stop_workflow(session: Session, workflow_id: int, actor: Identity) -> models.WorkflowRun:
    """Stop the workflow's running run: what is queued or running is cancelled."""
    workflow = owned_workflow(session, workflow_id, actor)
    run = running_run(session, workflow.id)
    if run is None:
        raise ConflictError(
            f"workflow {workflow_id} is {workflow.status} and has no running run to stop"
        )
    return runs.stop(session, run.id, note=f"stopped by {actor.user}")


def reset_workflow(session: Session, workflow_id: int, actor: Identity) -> models.Workflow:
    """Back to REGISTERING with every task, so that the script's run() starts it afresh."""
    user = actor.user
    workflow = owned_workflow(session, workflow_id, actor)
    _refuse_running(session, workflow, "reset it")
    now = utcnow()
    task = models.Task
    rows = task_rows(
        session,
        select(*TASK_COLUMNS)
        .where(task.workflow_id == workflow_id, task.status != T.REGISTERING)
        .order_by(task.id)
        .with_for_update(key_share=True),
    )
    _check_not_active(rows)
    move(session, TASK, rows, T.REGISTERING, now=now, note=f"workflow reset by {user}")
    workflow.pending_counted = False  # recounted when the next run starts
    session.execute(
        update(task)
        .where(task.workflow_id == workflow_id)
        .values(num_attempts=0)
        .execution_options(synchronize_session=False)
    )
    set_status(session, workflow, WORKFLOW, W.REGISTERING, now, f"reset by {user}")
    return workflow


def update_task_statuses(
    session: Session,
    workflow_id: int,
    task_ids: Sequence[int],
    status: str,
    recursive: bool,
    actor: Identity,
) -> list[int]:
    """Mark tasks DONE (with ``recursive``, their upstream too) or make them rerun
    (REGISTERING; with ``recursive``, their downstream too). Returns the tasks changed."""
    if status not in SETTABLE:
        raise ValidationFailed(f"tasks can be set to DONE or REGISTERING, not {status}", "status")
    if not task_ids:
        raise ValidationFailed("name at least one task id", "taskIds")
    user = actor.user
    workflow = owned_workflow(session, workflow_id, actor)
    _refuse_running(session, workflow, "update its tasks")
    ids = set(task_ids)
    found = set(
        session.scalars(
            select(models.Task.id).where(
                models.Task.id.in_(ids), models.Task.workflow_id == workflow_id
            )
        )
    )
    if missing := sorted(ids - found):
        raise NotFoundError(
            f"task {', '.join(map(str, missing[:10]))} not found in workflow {workflow_id}"
        )
    if recursive:
        ids |= _reachable(session, ids, upstream=(status == T.DONE))
    rows = [r for r in lock_tasks(session, sorted(ids)) if r.status != status]
    _check_not_active(rows)
    workflow.pending_counted = False  # recounted when the next run starts
    now = utcnow()
    note = f"set to {status} by {user}"
    if status == T.DONE:
        # The table allows DONE only from REGISTERING: a failed task passes through it.
        others = [r for r in rows if r.status != T.REGISTERING]
        move(session, TASK, others, T.REGISTERING, now=now, note=note)
        rows = [r._replace(status=T.REGISTERING) for r in rows]
        move(session, TASK, rows, T.DONE, now=now, note=note)
    else:
        move(session, TASK, rows, T.REGISTERING, now=now, note=note)
        for part in chunks([r.id for r in rows]):
            session.execute(
                update(models.Task)
                .where(models.Task.id.in_(part))
                .values(num_attempts=0)
                .execution_options(synchronize_session=False)
            )
        if rows and workflow.status == W.DONE:
            # Jobmon reopens a DONE workflow whose tasks are set to rerun: it can be resumed
            set_status(session, workflow, WORKFLOW, W.REGISTERING, now, note)
    return sorted(r.id for r in rows)


def _check_not_active(rows: Iterable[TaskRow]) -> None:
    active = [r for r in rows if r.status in TASK_ACTIVE]
    if active:
        sample = ", ".join(f"{r.id} ({r.status})" for r in active[:5])
        raise ConflictError(
            f"task {sample} is still being run by a worker; wait for it to end or stop the "
            "workflow and try again"
        )


def _reachable(session: Session, start: set[int], *, upstream: bool) -> set[int]:
    """Every task reachable from ``start`` along edges, one query per level and chunk."""
    edge = models.TaskEdge
    near, far = (
        (edge.downstream_task_id, edge.upstream_task_id)
        if upstream
        else (edge.upstream_task_id, edge.downstream_task_id)
    )
    seen: set[int] = set()
    frontier = set(start)
    while frontier:
        found: set[int] = set()
        for part in chunks(sorted(frontier)):
            found.update(session.scalars(select(far).where(near.in_(part))))
        frontier = found - seen - start
        seen |= frontier
    return seen


def set_template_concurrency(
    session: Session, workflow_id: int, template_name: str, limit: int | None, actor: Identity
) -> models.Array:
    """Limit how many tasks of one template run at once (None: no limit of its own)."""
    if limit is not None and limit < 1:
        raise ValidationFailed("the limit must be at least 1", "limit")
    workflow = owned_workflow(session, workflow_id, actor)
    array = session.scalars(
        select(models.Array)
        .where(models.Array.id.in_(template_arrays(workflow_id, template_name)))
        .order_by(models.Array.id.desc())
    ).first()
    if array is None:
        raise NotFoundError(f"workflow {workflow_id} has no tasks of template '{template_name}'")
    array.max_concurrently_running = limit
    session.flush()
    if workflow.status == W.RUNNING:
        fill_capacity(session, workflow, utcnow())
    return array


def set_workflow_concurrency(
    session: Session, workflow_id: int, limit: int, actor: Identity
) -> models.Workflow:
    owned_workflow(session, workflow_id, actor)
    return set_max_concurrently_running(session, workflow_id, limit)
