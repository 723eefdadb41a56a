"""Event-driven scheduling: queue ready tasks, fill free slots, retry, settle runs.

Nothing here scans a whole workflow per event: a finished task touches its downstream
tasks through the edge index, free slots are read from the kept counts, and only as many
queued tasks are read as there are slots to fill.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from jobmon_server import clusters, resources
from jobmon_server.db import models
from jobmon_server.db.raw import marks, raw
from jobmon_server.db.statements import chunks, insert_ignore
from jobmon_server.statuses import (
    INSTANCE_HELD,
    INSTANCE_LIVE,
    TASK_ACTIVE,
    TASK_IN_FLIGHT,
    TI,
    WR,
    T,
    W,
)
from jobmon_server.transitions import INSTANCE, RUN, TASK, WORKFLOW, move, write_events

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


def instance_rows(session: Session, stmt: Any) -> list[InstanceRow]:
    return [InstanceRow(*r) for r in session.connection().execute(stmt).all()]


def wake(session: Session, cluster_ids: Iterable[int]) -> None:
    """Ask for workers of these clusters to be woken once the transaction commits."""
    session.info.setdefault("wake_clusters", set()).update(cluster_ids)


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
        rows += [
            TaskRow(*r)
            for r in db.rows(
                f"SELECT {TASK_SQL} FROM task WHERE id IN ({marks(len(part))}) ORDER BY id"
                + db.lock(),
                part,
            )
        ]
    return rows


def lock_instances(session: Session, ids: Sequence[int]) -> list[InstanceRow]:
    db = raw(session)
    rows: list[InstanceRow] = []
    for part in chunks(sorted(set(ids))):
        rows += [
            InstanceRow(*r)
            for r in db.rows(
                f"SELECT {INSTANCE_SQL} FROM task_instance WHERE id IN ({marks(len(part))}) "
                "ORDER BY id" + db.lock(),
                part,
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


def set_status(
    session: Session, obj: Any, machine: Any, to_status: str, now: datetime, note: str | None = None
) -> None:
    """Move one workflow or run (an ORM object or a plain state) through the transition
    table. ``move`` writes the row; an ORM object learns its new status as committed, so
    that flushing it never writes an older one back over a later change."""
    if obj.status == to_status:
        return
    move(session, machine, [_Row(obj)], to_status, now=now, note=note)
    if hasattr(obj, "_sa_instance_state"):
        set_committed_value(obj, "status", to_status)
        set_committed_value(obj, "status_date", now)
    else:
        obj.status = to_status


class _Row:
    def __init__(self, obj: Any) -> None:
        self.id = obj.id
        self.status = obj.status
        is_workflow = isinstance(obj, models.Workflow | WorkflowState)
        self.workflow_id = obj.id if is_workflow else obj.workflow_id


# --- queuing -------------------------------------------------------------------------


def queue_tasks(session: Session, rows: Sequence[Any], now: datetime) -> None:
    """Move ready tasks to QUEUED (the caller fills slots afterwards)."""
    if rows:
        move(session, TASK, rows, T.QUEUED, now=now)


def fill_capacity(session: Session, workflow: AnyWorkflow, now: datetime) -> int:
    """Create instances for waiting tasks while the concurrency limits allow; return how many.

    Waiting tasks are those QUEUED (retries) and then the ready ones: REGISTERING with no
    upstream task left to finish. Ready tasks are not queued ahead of time, so starting a
    run of a million tasks touches only those it instantiates.
    """
    if workflow.status != W.RUNNING:  # ready tasks wait for a run
        return 0
    counts_by_array = _counts_by_array(session, workflow.id)
    active = sum(n for (_, s), n in counts_by_array.items() if s in TASK_ACTIVE)
    free = workflow.max_concurrently_running - active
    if free <= 0:
        return 0
    limited: dict[int, int] = dict(
        raw(session).rows(  # type: ignore[arg-type]
            'SELECT id, max_concurrently_running FROM "array" '
            "WHERE workflow_id = ? AND max_concurrently_running IS NOT NULL",
            [workflow.id],
        )
    )
    picked: list[QueuedTask] = []
    if not limited:
        picked = _waiting(session, workflow.id, "", [], free)
    else:
        for array_id, limit in sorted(limited.items()):
            room = min(
                free - len(picked),
                limit
                - sum(
                    n for (a, s), n in counts_by_array.items() if a == array_id and s in TASK_ACTIVE
                ),
            )
            if room > 0:
                picked += _waiting(session, workflow.id, " AND t.array_id = ?", [array_id], room)
        room = free - len(picked)
        if room > 0:
            others = sorted(limited)
            picked += _waiting(
                session, workflow.id, f" AND t.array_id NOT IN ({marks(len(others))})", others, room
            )
    if not picked:
        return 0
    ready = [t for t in picked if t.status == T.REGISTERING]
    if ready:
        move(session, TASK, ready, T.QUEUED, now=now)
        picked = [t._replace(status=T.QUEUED) for t in picked]
    create_instances(session, picked, now)
    return len(picked)


def _waiting(
    session: Session, workflow_id: int, where: str, params: list[Any], limit: int
) -> list[QueuedTask]:
    """Up to ``limit`` tasks to instantiate: QUEUED ones first, then ready ones (through
    the index of ready tasks), each set in id order and locked."""
    db = raw(session)
    columns = ", ".join(f"t.{c.strip()}" for c in TASK_SQL.split(","))
    base = (
        f"SELECT {columns}, r.cluster_id FROM task t "
        "JOIN task_resources r ON r.id = t.task_resources_id WHERE t.workflow_id = ?"
    )
    picked = [
        QueuedTask(*r)
        for r in db.rows(
            f"{base} AND t.status = ?{where} ORDER BY t.id LIMIT ?" + db.lock(of="t"),
            [workflow_id, T.QUEUED.value, *params, limit],
        )
    ]
    if len(picked) < limit:
        picked += [
            QueuedTask(*r)
            for r in db.rows(
                f"{base} AND t.status = ? AND t.num_upstreams_pending = 0{where} "
                "ORDER BY t.id LIMIT ?" + db.lock(of="t"),
                [workflow_id, T.REGISTERING.value, *params, limit - len(picked)],
            )
        ]
    return picked


def _counts_by_array(session: Session, workflow_id: int) -> dict[tuple[int, str], int]:
    rows = raw(session).rows(
        "SELECT array_id, status, count FROM task_status_count WHERE workflow_id = ?",
        [workflow_id],
    )
    return {(a, s): n for a, s, n in rows}


def task_counts_by_array(session: Session, workflow_id: int) -> dict[int, dict[str, int]]:
    """Tasks per status of each array of a workflow, from the kept counts."""
    nested: dict[int, dict[str, int]] = defaultdict(dict)
    for (array_id, status), n in _counts_by_array(session, workflow_id).items():
        if n:
            nested[array_id][status] = n
    return dict(nested)


def create_instances(session: Session, tasks: Sequence[Any], now: datetime) -> None:
    run = running_run(session, tasks[0].workflow_id)
    assert run is not None, "instances are only created for a running workflow run"
    move(session, TASK, tasks, T.INSTANTIATING, now=now)
    db = raw(session)
    db.add_to("task", "num_attempts", sorted((t.id, 1) for t in tasks))
    created: list[tuple[Any, ...]] = []
    row = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
    for part in chunks(list(tasks), 1000):
        created += db.rows(
            "INSERT INTO task_instance (workflow_run_id, task_id, workflow_id, array_id, "
            "cluster_id, task_resources_id, status, created, status_date) VALUES "
            + ", ".join([row] * len(part))
            + " RETURNING id, workflow_id",
            [
                value
                for t in part
                for value in (
                    run.id,
                    t.id,
                    t.workflow_id,
                    t.array_id,
                    t.cluster_id,
                    t.task_resources_id,
                    TI.QUEUED.value,
                    now,
                    now,
                )
            ],
        )
    write_events(
        session,
        (
            {
                "workflow_id": workflow_id,
                "entity": INSTANCE.entity,
                "entity_id": instance_id,
                "from_status": None,
                "to_status": TI.QUEUED,
                "note": None,
                "time": now,
            }
            for instance_id, workflow_id in sorted(created)
        ),
    )
    wake(session, {t.cluster_id for t in tasks})


# --- finishing -----------------------------------------------------------------------


def tasks_done(session: Session, task_rows: Sequence[Any], now: datetime) -> None:
    """Mark tasks DONE and queue the downstream tasks that have no upstream left."""
    moved = move(session, TASK, task_rows, T.DONE, now=now).moved
    release_downstream(session, [t.id for t in moved], now)


def release_downstream(session: Session, done_ids: Sequence[int], now: datetime) -> None:
    if not done_ids:
        return
    db = raw(session)
    decrements: Counter[int] = Counter()
    for part in chunks(list(done_ids)):
        for downstream_id, n in db.rows(
            "SELECT downstream_task_id, COUNT(*) FROM task_edge "
            f"WHERE upstream_task_id IN ({marks(len(part))}) GROUP BY downstream_task_id",
            part,
        ):
            decrements[downstream_id] += n
    db.add_to("task", "num_upstreams_pending", [(tid, -n) for tid, n in sorted(decrements.items())])
    # Those that reach zero are ready: the caller's fill_capacity instantiates them.


def tasks_failed(
    session: Session,
    task_rows: Sequence[Any],
    now: datetime,
    resource_kinds: dict[int, str] | None = None,
) -> None:
    """Retry failed tasks while attempts remain, scaling what ran out; else ERROR_FATAL."""
    resource_kinds = resource_kinds or {}
    adjusting = [t for t in task_rows if t.id in resource_kinds]
    recoverable = [t for t in task_rows if t.id not in resource_kinds]
    moved = move(session, TASK, recoverable, T.ERROR_RECOVERABLE, now=now).moved
    moved_adjusting = move(session, TASK, adjusting, T.ADJUSTING_RESOURCES, now=now).moved
    if moved_adjusting:
        _scale_resources(session, moved_adjusting, resource_kinds)
    after = [_with_status(t, T.ERROR_RECOVERABLE) for t in moved]
    after += [_with_status(t, T.ADJUSTING_RESOURCES) for t in moved_adjusting]
    retry = [t for t in after if t.num_attempts < t.max_attempts]
    fatal = [t for t in after if t.num_attempts >= t.max_attempts]
    queue_tasks(session, retry, now)
    move(session, TASK, fatal, T.ERROR_FATAL, now=now)


def _with_status(row: Any, status: str) -> Any:
    return row._replace(status=status)


def _scale_resources(session: Session, rows: Sequence[Any], kinds: dict[int, str]) -> None:
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


# --- runs ----------------------------------------------------------------------------


def settle(session: Session, workflow: AnyWorkflow, now: datetime) -> None:
    """End the running run when nothing more can happen, or when fail_fast says so."""
    run = running_run(session, workflow.id)
    if run is None:
        return
    counts = task_counts(session, workflow.id)
    if counts[T.DONE] >= workflow.total_tasks:
        set_status(session, run, RUN, WR.DONE, now)
        set_status(session, workflow, WORKFLOW, W.DONE, now)
    elif run.fail_fast and counts[T.ERROR_FATAL]:
        stop_run(
            session,
            workflow,
            run,
            now,
            run_status=WR.ERROR,
            workflow_status=W.FAILED,
            note="fail_fast: a task failed",
        )
    elif not any(counts[s] for s in TASK_IN_FLIGHT) and not _kills_pending(session, workflow.id):
        from jobmon_server.dynamic import awaiting_resources  # dynamic builds on this module

        if awaiting_resources(session, run):
            return  # its client is computing a task's resources
        set_status(session, run, RUN, WR.ERROR, now)
        set_status(session, workflow, WORKFLOW, W.FAILED, now)


def _kills_pending(session: Session, workflow_id: int) -> bool:
    """Whether attempts told to die still hold their tasks back (they run again after)."""
    return bool(
        raw(session).rows(
            "SELECT id FROM task_instance WHERE workflow_id = ? AND status = ? LIMIT 1",
            [workflow_id, TI.KILL_SELF.value],
        )
    )


def stop_run(
    session: Session,
    workflow: AnyWorkflow,
    run: AnyRun,
    now: datetime,
    *,
    run_status: str,
    workflow_status: str | None,
    note: str | None = None,
    kill: bool = True,
) -> None:
    """End a run; with ``kill``, cancel its instances and put its unfinished tasks back."""
    if kill:
        kill_live_instances(session, workflow.id, now, note)
        unfinished = task_rows(
            session,
            select(*TASK_COLUMNS)
            .where(Task.workflow_id == workflow.id, Task.status.in_(TASK_IN_FLIGHT))
            .order_by(Task.id)
            .with_for_update(key_share=True),
        )
        move(session, TASK, unfinished, T.REGISTERING, now=now, note=note)
    if run_status in (WR.COLD_RESUME, WR.HOT_RESUME):
        set_status(session, run, RUN, run_status, now, note)
        set_status(session, run, RUN, WR.TERMINATED, now, note)
    else:
        set_status(session, run, RUN, run_status, now, note)
    if workflow_status:
        set_status(session, workflow, WORKFLOW, workflow_status, now, note)


def kill_live_instances(
    session: Session, workflow_id: int, now: datetime, note: str | None
) -> None:
    live = instance_rows(
        session,
        select(*INSTANCE_COLUMNS)
        .where(TaskInstance.workflow_id == workflow_id, TaskInstance.status.in_(INSTANCE_LIVE))
        .order_by(TaskInstance.id)
        .with_for_update(key_share=True),
    )
    if not live:
        return
    move(session, INSTANCE, live, TI.KILL_SELF, now=now, note=note)
    # Nobody holds an unclaimed instance: it ends at once. Held ones end when their
    # worker confirms the kill (or their lease runs out); until then their task waits,
    # so that a task never runs in two places at once.
    unclaimed = [r._replace(status=TI.KILL_SELF) for r in live if r.status == TI.QUEUED]
    move(session, INSTANCE, unclaimed, TI.ERROR_FATAL, now=now, note=note)
    held = [r for r in live if r.status in INSTANCE_HELD]
    _add_pending(session, Counter(r.task_id for r in held))
    wake(session, {r.cluster_id for r in held})


def confirm_kills(session: Session, rows: Sequence[Any], now: datetime) -> None:
    """Instances told to die have ended: their tasks may run again (ready once nothing else
    holds them back; the caller's fill_capacity instantiates them)."""
    if rows:
        tasks = Counter(r.task_id for r in rows)
        _add_pending(session, Counter({task_id: -n for task_id, n in tasks.items()}))


def _add_pending(session: Session, deltas: Counter[int]) -> None:
    raw(session).add_to(
        "task", "num_upstreams_pending", [(tid, n) for tid, n in sorted(deltas.items()) if n]
    )


def recount_pending(session: Session, workflow_id: int) -> None:
    """Recompute each registering task's count of unfinished upstream tasks (at run start).

    Counted in one grouped query and written back in one executemany (MariaDB cannot
    update a table from a subquery on the same table).
    """
    edge = models.TaskEdge
    upstream = Task.__table__.alias("upstream")
    downstream = Task.__table__.alias("downstream")
    session.connection().execute(
        update(Task)
        .where(Task.workflow_id == workflow_id, Task.status == T.REGISTERING)
        .values(num_upstreams_pending=0)
        .execution_options(synchronize_session=False)
    )
    pending = (
        session.connection()
        .execute(
            select(edge.downstream_task_id, func.count())
            .join(upstream, upstream.c.id == edge.upstream_task_id)
            .join(downstream, downstream.c.id == edge.downstream_task_id)
            .where(
                edge.workflow_id == workflow_id,
                upstream.c.status != T.DONE,
                downstream.c.status == T.REGISTERING,
            )
            .group_by(edge.downstream_task_id)
        )
        .all()
    )
    counts: Counter[int] = Counter(dict(pending))  # type: ignore[arg-type]
    # An attempt still being killed holds its task back like an unfinished upstream task.
    counts.update(
        dict(
            session.connection()
            .execute(  # type: ignore[arg-type]
                select(TaskInstance.task_id, func.count())
                .where(TaskInstance.workflow_id == workflow_id, TaskInstance.status == TI.KILL_SELF)
                .group_by(TaskInstance.task_id)
            )
            .all()
        )
    )
    if counts:
        session.connection().execute(
            update(Task.__table__)
            .where(Task.id == bindparam("tid"), Task.status == T.REGISTERING)
            .values(num_upstreams_pending=bindparam("n"))
            .execution_options(synchronize_session=False),
            [{"tid": tid, "n": n} for tid, n in sorted(counts.items())],
        )
