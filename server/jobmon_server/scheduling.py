"""Event-driven scheduling: queue ready tasks, fill free slots, retry, settle runs.

Nothing here scans a whole workflow per event: a finished task touches its downstream
tasks through the edge index, free slots are read from the kept counts, and only as many
queued tasks are read as there are slots to fill.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from jobmon_server.db import models
from jobmon_server.db.after_commit import wake
from jobmon_server.db.raw import marks, raw
from jobmon_server.db.rows import (
    INSTANCE_COLUMNS,
    TASK_COLUMNS,
    TASK_SQL,
    AnyRun,
    AnyWorkflow,
    InstanceRow,
    QueuedTask,
    TaskRow,
    WorkflowState,
    counts_by_array,
    instance_rows,
    running_run,
    task_counts,
    task_rows_by_id,
)
from jobmon_server.db.statements import chunks
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
from jobmon_server.task_resources import scale_resources
from jobmon_server.transitions import INSTANCE, RUN, TASK, WORKFLOW, move, write_events

Task = models.Task
TaskInstance = models.TaskInstance


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


def queue_tasks(session: Session, rows: Sequence[TaskRow], now: datetime) -> None:
    """Move ready tasks to QUEUED (the caller fills slots afterwards)."""
    if rows:
        move(session, TASK, rows, T.QUEUED, now=now)


# One transaction instantiates at most this many tasks: the start of a run with a limit
# of 10,000 holds the database for a fraction of a second, and the reports of the first
# attempts, which follow within a second, fill the rest.
FILL_AT_MOST = 2_000


def fill_capacity(session: Session, workflow: AnyWorkflow, now: datetime) -> int:
    """Create instances for waiting tasks while the concurrency limits allow (at most
    ``FILL_AT_MOST``); return how many.

    Waiting tasks are those QUEUED (retries) and then the ready ones: REGISTERING with no
    upstream task left to finish. Ready tasks are not queued ahead of time, so starting a
    run of a million tasks touches only those it instantiates.
    """
    if workflow.status != W.RUNNING:  # ready tasks wait for a run
        return 0
    by_array = counts_by_array(session, workflow.id)
    active = sum(n for (_, s), n in by_array.items() if s in TASK_ACTIVE)
    free = min(workflow.max_concurrently_running - active, FILL_AT_MOST)
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
                - sum(n for (a, s), n in by_array.items() if a == array_id and s in TASK_ACTIVE),
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


def create_instances(session: Session, tasks: Sequence[QueuedTask], now: datetime) -> None:
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


def tasks_done(session: Session, task_rows: Sequence[TaskRow], now: datetime) -> None:
    """Mark tasks DONE and queue the downstream tasks that have no upstream left."""
    moved = move(session, TASK, task_rows, T.DONE, now=now).moved
    release_downstream(session, [t.id for t in moved], now)


def release_downstream(session: Session, done_ids: Sequence[int], now: datetime) -> None:
    if not done_ids:
        return
    db = raw(session)
    decrements: Counter[int] = Counter()
    for part in chunks(list(done_ids)):
        upstream, params = db.in_ids("upstream_task_id", part)
        for downstream_id, n in db.rows(
            f"SELECT downstream_task_id, COUNT(*) FROM task_edge WHERE {upstream} "
            "GROUP BY downstream_task_id",
            params,
        ):
            decrements[downstream_id] += n
    db.add_to("task", "num_upstreams_pending", [(tid, -n) for tid, n in sorted(decrements.items())])
    # Those that reach zero are ready: the caller's fill_capacity instantiates them.


def tasks_failed(
    session: Session,
    task_rows: Sequence[TaskRow],
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
        scale_resources(session, moved_adjusting, resource_kinds)
    after = [_with_status(t, T.ERROR_RECOVERABLE) for t in moved]
    after += [_with_status(t, T.ADJUSTING_RESOURCES) for t in moved_adjusting]
    retry = [t for t in after if t.num_attempts < t.max_attempts]
    fatal = [t for t in after if t.num_attempts >= t.max_attempts]
    queue_tasks(session, retry, now)
    move(session, TASK, fatal, T.ERROR_FATAL, now=now)


def _with_status(row: TaskRow, status: str) -> TaskRow:
    return row._replace(status=status)


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
        unfinished = task_rows_by_id(
            session,
            select(*TASK_COLUMNS)
            .where(Task.workflow_id == workflow.id, Task.status.in_(TASK_IN_FLIGHT))
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


def confirm_kills(session: Session, rows: Sequence[InstanceRow], now: datetime) -> None:
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
