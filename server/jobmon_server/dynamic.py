"""Dynamic resources (Jobmon's ``compute_resources_callable``): resources a task gets from
its client once its upstream tasks are done, computed from what they wrote.

A task bound with ``dynamic_resources`` waits, in a run started with
``dynamicResources: true``, for its client: at the start of the run it counts one more
pending upstream (``resources_held``), so it is not ready when its real upstream tasks are
DONE; a later run first undoes a hold an earlier one left. The client
following the run lists the tasks waiting so (``pending == 1``), calls their functions and
gives the resources, which are merged over those the task was bound with; the task is then
queued. A run started without (a detached run, ``jobmon workflow resume``) runs such tasks
with the resources they were bound with. A run keeps going while a task waits for its
resources: its client may be computing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session

from jobmon_server import clusters
from jobmon_server import resources as res
from jobmon_server.auth import Identity
from jobmon_server.db import models
from jobmon_server.db.statements import chunks
from jobmon_server.errors import NotFoundError, ValidationFailed
from jobmon_server.scheduling import fill_capacity
from jobmon_server.statuses import WR, T
from jobmon_server.task_resources import resources_id

Task = models.Task


def hold_dynamic_tasks(
    session: Session, workflow_id: int, run_id: int, *, recounted: bool, hold: bool
) -> None:
    """At the start of run ``run_id``: undo the holds an earlier run left (unless the
    pending counts were just recounted, which dropped them), then, if the run's client
    gives resources, make each dynamic task that is to run wait for them (one more pending
    upstream). Only a run whose client gave resources holds tasks: without one before, no
    task of a million is looked at."""
    held_before = session.scalar(
        select(models.WorkflowRun.id)
        .where(
            models.WorkflowRun.workflow_id == workflow_id,
            models.WorkflowRun.id != run_id,
            models.WorkflowRun.dynamic_resources.is_(True),
        )
        .limit(1)
    )
    if held_before is not None:
        undo: dict[str, Any] = {"resources_held": False}
        if not recounted:
            undo["num_upstreams_pending"] = Task.num_upstreams_pending - 1
        session.execute(
            update(Task)
            .where(Task.workflow_id == workflow_id, Task.resources_held.is_(True))
            .values(**undo)
            .execution_options(synchronize_session=False)
        )
    if not hold:
        return
    session.execute(
        update(Task)
        .where(
            Task.workflow_id == workflow_id,
            Task.status == T.REGISTERING,
            Task.dynamic_resources.is_(True),
        )
        .values(num_upstreams_pending=Task.num_upstreams_pending + 1, resources_held=True)
        .execution_options(synchronize_session=False)
    )


def _awaiting(workflow_id: int) -> Any:
    return (
        Task.workflow_id == workflow_id,
        Task.status == T.REGISTERING,
        Task.resources_held.is_(True),
        Task.num_upstreams_pending == 1,
    )


def awaiting_resources(session: Session, run: Any) -> bool:
    """Whether a task of the run's workflow waits for its client to give its resources."""
    if not run.dynamic_resources:
        return False
    return bool(session.scalar(select(exists().where(*_awaiting(run.workflow_id)))))


def tasks_awaiting_resources(session: Session, workflow_id: int, limit: int) -> list[int]:
    """Ids of the tasks waiting for their resources, in id order."""
    return list(
        session.scalars(
            select(Task.id).where(*_awaiting(workflow_id)).order_by(Task.id).limit(limit)
        )
    )


def give_resources(
    session: Session,
    workflow_run_id: int,
    task_ids: Sequence[int],
    given: Sequence[Any],
    actor: Identity,
    now: datetime,
) -> list[int]:
    """Merge ``given[i]`` over the resources of task ``task_ids[i]`` and queue it; answer
    the ids queued. Only the owner of the workflow may, while the run runs."""
    from jobmon_server.steering import owned_workflow  # steering imports scheduling's users

    if len(task_ids) != len(given):
        raise ValidationFailed(
            f"{len(task_ids)} task ids but {len(given)} resources; give one per task", "resources"
        )
    run = session.get(models.WorkflowRun, workflow_run_id)
    if run is None:
        raise NotFoundError(f"workflow run {workflow_run_id} does not exist")
    workflow = owned_workflow(session, run.workflow_id, actor)
    session.refresh(run)
    if run.status != WR.RUNNING or not run.dynamic_resources:
        raise ValidationFailed(
            f"workflow run {workflow_run_id} is {run.status}"
            + ("" if run.dynamic_resources else " and was not started with dynamic resources")
            + "; there is no task waiting for resources in it",
            "workflowRunId",
        )
    wanted = dict(zip(task_ids, given, strict=True))
    waiting: dict[int, tuple[int, int]] = {}
    for part in chunks(sorted(wanted)):
        waiting.update(
            (tid, (rid, pending))
            for tid, rid, pending in session.execute(
                select(Task.id, Task.task_resources_id, Task.num_upstreams_pending)
                .where(Task.id.in_(part), *_awaiting(workflow.id))
                .with_for_update()
            ).all()
        )
    if missing := sorted(set(wanted) - set(waiting)):
        raise ValidationFailed(
            f"task {', '.join(map(str, missing[:10]))} of workflow {workflow.id} is not waiting "
            "for its resources (it is not dynamic, not ready, or was given them already)",
            "taskIds",
        )
    updates = []
    for task_id, (resources_row_id, _) in waiting.items():
        extra = wanted[task_id]
        if not isinstance(extra, dict):
            raise ValidationFailed(f"the resources of task {task_id} must be an object")
        updates.append(
            {"tid": task_id, "rid": _merged_resources(session, resources_row_id, extra, task_id)}
        )
    session.execute(
        update(Task.__table__)
        .where(Task.id == bindparam("tid"))
        .values(
            task_resources_id=bindparam("rid"),
            num_upstreams_pending=Task.num_upstreams_pending - 1,
            resources_held=False,
        )
        .execution_options(synchronize_session=False),
        updates,
    )
    # ready now (no pending upstream): fill_capacity instantiates them as the limits allow
    ready = sorted(waiting)
    fill_capacity(session, workflow, now)
    return ready


def _merged_resources(
    session: Session, resources_row_id: int, extra: dict[str, Any], task_id: int
) -> int:
    old = session.get(models.TaskResources, resources_row_id)
    assert old is not None
    requested = {**old.requested, **extra}
    owner = f"task {task_id}"
    for key, parse in (("memory", res.memory_mb), ("runtime", res.runtime_s)):
        if key in requested:
            try:
                parse(requested[key])
            except ValueError as exc:
                raise ValidationFailed(f"{owner}: {exc}", key) from None
    cluster = session.get(models.Cluster, old.cluster_id)
    assert cluster is not None
    placement = clusters.Placement(cluster, clusters.cluster_queues(session, cluster.id))
    placed = placement.place(requested, old.fallback_queues, owner)
    return resources_id(session, cluster.id, placed, old.scales, old.fallback_queues)
