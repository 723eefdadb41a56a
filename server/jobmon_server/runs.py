"""Workflow runs: start (fresh, cold resume or hot resume), stop, and time out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.rows import TASK_COLUMNS, lock_workflow, running_run, task_rows_by_id
from jobmon_server.dynamic import hold_dynamic_tasks
from jobmon_server.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from jobmon_server.scheduling import fill_capacity, recount_pending, set_status, settle, stop_run
from jobmon_server.statuses import TASK_ACTIVE, WR, T, W
from jobmon_server.transitions import RUN, TASK, WORKFLOW, move, utcnow


def start_run(
    session: Session,
    workflow_id: int,
    user: str,
    *,
    resume: bool = False,
    reset_running_jobs: bool = True,
    fail_fast: bool = False,
    dynamic_resources: bool = False,
    seconds_until_timeout: int | None = None,
    admin: bool = False,
    owner_only: bool = False,
    client_key: str | None = None,
) -> models.WorkflowRun:
    """A new run of the workflow. Its owner (or an admin) may resume it, and with
    ``owner_only`` (a server with tokens, where ``user`` is the token's) start it at all."""
    workflow = lock_workflow(session, workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    if owner_only and workflow.user != user and not admin:
        raise PermissionDeniedError(
            f"workflow {workflow_id} belongs to {workflow.user}; only its owner may start it"
        )
    if client_key is not None:
        if not 1 <= len(client_key) <= 64:
            raise ValidationFailed("clientKey needs 1 to 64 characters", "clientKey")
        started = session.scalars(
            select(models.WorkflowRun).where(
                models.WorkflowRun.workflow_id == workflow_id,
                models.WorkflowRun.client_key == client_key,
            )
        ).first()
        if started is not None:  # this start was sent before: answer what it did
            return started
    if not workflow.bound:
        raise ValidationFailed(f"workflow {workflow_id} is not fully bound; call bind() again")
    if resume and workflow.user != user and not admin:
        raise PermissionDeniedError(
            f"workflow {workflow_id} belongs to {workflow.user}; only its owner may resume it"
        )
    now = utcnow()
    previous = session.scalar(
        select(models.WorkflowRun.id).where(models.WorkflowRun.workflow_id == workflow_id).limit(1)
    )
    # A workflow reset to REGISTERING starts afresh without resume.
    if previous is not None and not resume and workflow.status != W.REGISTERING:
        raise ValidationFailed(
            f"workflow {workflow_id} has run before (status {workflow.status}); to rerun the "
            "tasks that are not DONE, call run(resume=True) or 'jobmon workflow resume'",
            "resume",
        )
    old = running_run(session, workflow_id)
    if old is not None:
        stop_run(
            session,
            workflow,
            old,
            now,
            run_status=WR.COLD_RESUME if reset_running_jobs else WR.HOT_RESUME,
            workflow_status=None,
            kill=reset_running_jobs,
            note=f"resumed by {user}",
        )
    run = models.WorkflowRun(
        workflow_id=workflow_id,
        user=user,
        client_key=client_key,
        status=WR.REGISTERED,
        fail_fast=fail_fast,
        dynamic_resources=dynamic_resources,
        deadline=now + timedelta(seconds=seconds_until_timeout) if seconds_until_timeout else None,
        created=now,
        status_date=now,
    )
    session.add(run)
    session.flush()
    for status in (WR.LINKING, WR.BOUND, WR.RUNNING):
        set_status(session, run, RUN, status, now)
    set_status(session, workflow, WORKFLOW, W.QUEUED, now)
    set_status(session, workflow, WORKFLOW, W.RUNNING, now)
    if previous is not None:  # before a first run every task is REGISTERING (or set DONE)
        _reset_unfinished(session, workflow_id, now, keep_active=not reset_running_jobs)
    recounted = not workflow.pending_counted
    if recounted:  # a workflow from before counts were kept, or edited
        recount_pending(session, workflow_id)
        workflow.pending_counted = True
    hold_dynamic_tasks(session, workflow_id, run.id, recounted=recounted, hold=dynamic_resources)
    fill_capacity(session, workflow, now)
    settle(session, workflow, now)
    return run


def _reset_unfinished(
    session: Session, workflow_id: int, now: datetime, *, keep_active: bool
) -> None:
    """Put tasks that did not finish back to REGISTERING, with their attempts reset."""
    task = models.Task
    keep = {T.DONE, T.REGISTERING} | (set(TASK_ACTIVE) if keep_active else set())
    rows = task_rows_by_id(
        session,
        select(*TASK_COLUMNS)
        # The statuses listed, not "not in": the index on (workflow_id, status) finds the few
        # unfinished tasks of a million without reading the others.
        .where(task.workflow_id == workflow_id, task.status.in_(sorted(set(T) - keep)))
        .with_for_update(key_share=True),
    )
    move(session, TASK, rows, T.REGISTERING, now=now, note="reset for a new run")
    session.execute(
        update(task)
        .where(task.workflow_id == workflow_id, task.status == T.REGISTERING, task.num_attempts > 0)
        .values(num_attempts=0)
        .execution_options(synchronize_session=False)
    )


def stop(
    session: Session,
    workflow_run_id: int,
    *,
    note: str = "stopped on request",
    workflow_status: str = W.HALTED,
) -> models.WorkflowRun:
    run = session.get(models.WorkflowRun, workflow_run_id)
    if run is None:
        raise NotFoundError(f"workflow run {workflow_run_id} does not exist")
    workflow = lock_workflow(session, run.workflow_id)
    assert workflow is not None
    session.refresh(run, with_for_update={"key_share": True})
    if run.status != WR.RUNNING:
        raise ValidationFailed(
            f"workflow run {workflow_run_id} is {run.status}, not RUNNING; there is nothing to stop"
        )
    stop_run(
        session,
        workflow,
        run,
        utcnow(),
        run_status=WR.STOPPED,
        workflow_status=workflow_status,
        note=note,
    )
    return run


def overdue_runs(session: Session, now: datetime, limit: int = 100) -> list[int]:
    run = models.WorkflowRun
    return list(
        session.scalars(
            select(run.id)
            .where(run.status == WR.RUNNING, run.deadline.is_not(None), run.deadline < now)
            .limit(limit)
        )
    )
