"""What workers do through the API: claim instances, report on them, send heartbeats.

Leases: an attempt is held by the worker that claimed it (or that adopted it later), until
its ``report_by_date``; heartbeats extend it. Reports and heartbeats are taken only from
the holder (or the claimer, whose runners report on it). A holder that cannot renew its
lease stops its attempts before the lease runs out, and the reaper declares an attempt lost
only a grace period after that, so a retry never starts while the first attempt runs.
Reports are idempotent: one sent again is recorded and ignored, never applied twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.raw import raw
from jobmon_server.db.rows import (
    INSTANCE_COLUMNS,
    INSTANCE_SQL,
    InstanceRow,
    instance_rows,
    lock_instances,
    lock_tasks,
    lock_workflow_state,
)
from jobmon_server.db.statements import bulk_insert, chunks
from jobmon_server.error_groups import signature
from jobmon_server.errors import NotFoundError, ValidationFailed
from jobmon_server.scheduling import (
    confirm_kills,
    fill_capacity,
    release_downstream,
    settle,
    tasks_done,
    tasks_failed,
)
from jobmon_server.statuses import INSTANCE_FAILED, INSTANCE_HELD, TI, T
from jobmon_server.transitions import INSTANCE, TASK, move, utcnow

TaskInstance = models.TaskInstance

# The order in which reports for one instance are applied within a batch.
REPORT_ORDER: dict[str, int] = {TI.LAUNCHED: 0, TI.RUNNING: 1}
# How far along its life an instance is: a report of a status it has already passed is a
# report sent again (recorded and ignored).
PROGRESS: dict[str, int] = {TI.INSTANTIATED: 0, TI.LAUNCHED: 1, TI.RUNNING: 2}
FINAL_REPORTS = frozenset(
    {TI.DONE, TI.ERROR, TI.RESOURCE_ERROR, TI.UNKNOWN_ERROR, TI.ERROR_FATAL, TI.NO_DISTRIBUTOR_ID}
)
REPORTABLE = frozenset(REPORT_ORDER) | FINAL_REPORTS
# At most this many instances in one claim.
MAX_CLAIM = 10_000
# What the task does when its instance reaches a status.
TASK_FOLLOWS: dict[str, str] = {TI.LAUNCHED: T.LAUNCHED, TI.RUNNING: T.RUNNING}
DETAIL_COLUMNS = (
    "distributor_id",
    "hostname",
    "stdout_path",
    "stderr_path",
    "exit_code",
    "max_rss_bytes",
    "cpu_seconds",
    "wallclock_seconds",
)


def cluster_id(session: Session, name: str) -> int:
    found = session.connection().scalar(
        select(models.Cluster.id).where(models.Cluster.name == name)
    )
    if found is None:
        known = ", ".join(
            session.connection().scalars(select(models.Cluster.name).order_by(models.Cluster.name))
        )
        raise NotFoundError(f"unknown cluster '{name}'; known clusters: {known}")
    return found


def workflows_of(session: Session, instance_ids: Iterable[int]) -> list[int]:
    """The workflows of some instances, in id order (the order they are locked in)."""
    db = raw(session)
    found: set[int] = set()
    for part in chunks(sorted(set(instance_ids))):
        which, params = db.in_ids("id", part)
        found.update(
            r[0]
            for r in db.rows(
                f"SELECT DISTINCT workflow_id FROM task_instance WHERE {which}", params
            )
        )
    return sorted(found)


@dataclass
class Claimed:
    instances: list[dict[str, Any]]
    kill_ids: list[int]


def claim(
    session: Session, cluster: int, worker_id: str, limit: int, report_within: float
) -> Claimed:
    """Claim up to ``limit`` queued instances; rows locked by another claimer are skipped."""
    now = utcnow()
    db = raw(session)
    rows = (
        [
            InstanceRow(*r)
            for r in db.rows(
                f"SELECT {INSTANCE_SQL} FROM task_instance WHERE cluster_id = ? AND status = ? "
                "ORDER BY id LIMIT ?" + db.lock(skip_locked=True),
                [cluster, TI.QUEUED.value, limit],
            )
        ]
        if limit > 0
        else []
    )
    instances: list[dict[str, Any]] = []
    if rows:
        move(
            session,
            INSTANCE,
            rows,
            TI.INSTANTIATED,
            now=now,
            values={
                "worker_id": worker_id,
                "claimed_by": worker_id,
                "report_by_date": now + timedelta(seconds=report_within),
            },
        )
        for part in chunks([r.id for r in rows]):
            which, params = db.in_ids("i.id", part)
            instances += [
                dict(zip(CLAIMED_COLUMNS, row, strict=True))
                for row in db.rows(
                    "SELECT i.id, i.task_id, i.workflow_id, i.workflow_run_id, t.name, t.command, "
                    "r.requested, i.array_id, a.max_concurrently_running, "
                    "w.max_concurrently_running FROM task_instance i "
                    "JOIN task t ON t.id = i.task_id "
                    "JOIN task_resources r ON r.id = i.task_resources_id "
                    'JOIN "array" a ON a.id = i.array_id '
                    "JOIN workflow w ON w.id = i.workflow_id "
                    f"WHERE {which} ORDER BY i.id",
                    params,
                )
            ]
        for instance in instances:
            if isinstance(instance["requested"], str):
                instance["requested"] = json.loads(instance["requested"])
    kill_ids = [
        r[0]
        for r in db.rows(
            "SELECT id FROM task_instance WHERE worker_id = ? AND status = ?",
            [worker_id, TI.KILL_SELF.value],
        )
    ]
    return Claimed(instances, kill_ids)


CLAIMED_COLUMNS = (
    "id",
    "task_id",
    "workflow_id",
    "workflow_run_id",
    "name",
    "command",
    "requested",
    "array_id",
    "array_limit",
    "workflow_limit",
)


def wire_instances(claimed: Claimed, cluster_name: str) -> list[dict[str, Any]]:
    """Claimed instances as the worker protocol sends them (camelCase keys)."""
    return [
        {
            "id": i["id"],
            "taskId": i["task_id"],
            "workflowId": i["workflow_id"],
            "workflowRunId": i["workflow_run_id"],
            "arrayId": i["array_id"],
            "name": i["name"],
            "command": i["command"],
            "clusterName": cluster_name,
            "resources": i["requested"],
            "concurrencyLimit": min(i["workflow_limit"], i["array_limit"] or i["workflow_limit"]),
        }
        for i in claimed.instances
    ]


@dataclass
class Report:
    task_instance_id: int
    status: str
    details: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    resource_kind: str | None = None


@dataclass
class ReportOutcome:
    accepted: int = 0
    ignored: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    kill_ids: list[int] = field(default_factory=list)


def report(session: Session, worker_id: str, reports: Sequence[Report]) -> ReportOutcome:
    """Apply a batch of reports in one transaction, in order per instance.

    A report from a worker that does not hold the instance is refused by name; one that
    came after the instance ended (or that repeats what was applied) is ignored, and a
    process still reporting on an ended instance is told to stop.
    """
    for r in reports:
        if r.status not in REPORTABLE:
            raise ValidationFailed(
                f"a worker cannot report {r.status} (instance {r.task_instance_id}); report one "
                "of " + ", ".join(sorted(REPORTABLE)),
                "status",
            )
        if r.status == TI.RESOURCE_ERROR and r.resource_kind not in ("memory", "runtime"):
            raise ValidationFailed(
                f"RESOURCE_ERROR for instance {r.task_instance_id} needs "
                "resourceKind 'memory' or 'runtime'",
                "resourceKind",
            )
    outcome = ReportOutcome()
    if not reports:
        return outcome
    now = utcnow()
    workflows = [
        lock_workflow_state(session, w)
        for w in workflows_of(session, {r.task_instance_id for r in reports})
    ]
    instances = {r.id: r for r in lock_instances(session, [r.task_instance_id for r in reports])}
    by_instance: dict[int, list[Report]] = defaultdict(list)
    for r in reports:
        row = instances.get(r.task_instance_id)
        if row is None:
            outcome.refused.append((r.task_instance_id, "no such task instance"))
        elif not row.held_by(worker_id):
            outcome.refused.append(
                (
                    r.task_instance_id,
                    f"instance {row.id} is held by worker {row.worker_id}, not by {worker_id}",
                )
            )
        else:
            by_instance[row.id].append(r)
    paths: dict[tuple[str, tuple[str, ...]], list[tuple[InstanceRow, list[Report]]]] = defaultdict(
        list
    )
    phases: dict[int, list[Report]] = defaultdict(list)
    for instance_id, mine in by_instance.items():
        mine.sort(key=lambda r: REPORT_ORDER.get(r.status, 2))
        row = instances[instance_id]
        path = _path(row.status, mine)
        if path is None:  # anything unusual goes step by step
            for r in mine:
                phases[REPORT_ORDER.get(r.status, 2)].append(r)
            continue
        applied = [r for r in mine if r.status in path]
        outcome.ignored += [row.id] * (len(mine) - len(applied))
        if applied:
            paths[(row.status, path)].append((row, applied))
    for (_, path), group in paths.items():
        _apply_path(session, path, group, instances, outcome, now)
    for phase in sorted(phases):
        _apply(session, phases[phase], instances, outcome, now)
    for workflow in workflows:
        if workflow is not None:
            fill_capacity(session, workflow, now)
            settle(session, workflow, now)
    outcome.kill_ids = sorted(set(outcome.kill_ids))
    return outcome


@dataclass
class Synced:
    """What one ``workerSync`` did: its reports' outcome, then what it claimed."""

    outcome: ReportOutcome
    claimed: Claimed


def sync(
    session: Session,
    cluster: int,
    worker_id: str,
    reports: Sequence[Report],
    claim_limit: int,
    report_within: float,
) -> Synced:
    """A worker's reports and its next claim in one transaction: the instance a report
    made ready is claimed in the same round trip."""
    outcome = report(session, worker_id, reports) if reports else ReportOutcome()
    return Synced(outcome, claim(session, cluster, worker_id, claim_limit, report_within))


def _path(status: str, reports: list[Report]) -> tuple[str, ...] | None:
    """The statuses an instance goes through for its reports in one step, leaving out
    those it has passed already (reports sent again); None when that is not a plain walk
    along the transition table (told to die, ended, two final reports, ...)."""
    if status == TI.KILL_SELF or INSTANCE.is_terminal(status):
        return None
    path: list[str] = []
    current = status
    for r in reports:
        if r.status in FINAL_REPORTS and path and path[-1] in FINAL_REPORTS:
            return None
        if PROGRESS.get(r.status, 99) <= PROGRESS.get(current, -1):
            continue  # already applied
        if r.status not in INSTANCE.transitions.get(current, ()):
            return None
        path.append(r.status)
        current = r.status
    return tuple(path)


# How far along a task is while its instance runs: its statuses that follow the instance's.
TASK_PROGRESS: dict[str, int] = {T.INSTANTIATING: 0, T.LAUNCHED: 1, T.RUNNING: 2}


def _apply_path(
    session: Session,
    path: tuple[str, ...],
    group: list[tuple[InstanceRow, list[Report]]],
    instances: dict[int, InstanceRow],
    outcome: ReportOutcome,
    now: datetime,
) -> None:
    """Instances that start at one status and go along one path: one update of the
    instances and of their tasks, every step recorded as an event."""
    final = path[-1]
    values: dict[str, Any] = {}
    if TI.RUNNING in path:
        values["started_date"] = now
    if final in FINAL_REPORTS:
        values["finished_date"] = now
    rows = [row for row, _ in group]
    move(session, INSTANCE, rows, final, now=now, values=values, through=path[:-1])
    outcome.accepted += sum(len(applied) for _, applied in group)
    merged = [_merged(applied) for _, applied in group]
    _store_details(session, merged)
    for row in rows:
        instances[row.id] = row._replace(status=final)
    tasks = lock_tasks(session, [row.task_id for row in rows])
    follows = [TASK_FOLLOWS[s] for s in path if s in TASK_FOLLOWS]
    if final == TI.DONE:
        follows.append(T.DONE)
    by_path: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for task in tasks:
        ahead = tuple(
            s
            for s in follows
            if s == T.DONE or TASK_PROGRESS.get(s, 99) > TASK_PROGRESS.get(task.status, -1)
        )
        if ahead:
            by_path[ahead].append(task)
    moved_tasks: dict[int, Any] = {t.id: t for t in tasks}
    for task_path, task_rows in by_path.items():
        result = move(
            session, TASK, task_rows, task_path[-1], now=now, strict=False, through=task_path[:-1]
        )
        for task in result.moved:
            moved_tasks[task.id] = task._replace(status=task_path[-1])
        if task_path[-1] == T.DONE:
            release_downstream(session, [t.id for t in result.moved], now)
    if final in INSTANCE_FAILED:
        log_errors(session, merged, instances, now)
        kinds = {
            instances[r.task_instance_id].task_id: r.resource_kind
            for r in merged
            if r.status == TI.RESOURCE_ERROR and r.resource_kind
        }
        tasks_failed(session, list(moved_tasks.values()), now, kinds)


def _merged(applied: list[Report]) -> Report:
    """One instance's reports as one: the last status, every detail given."""
    details: dict[str, Any] = {}
    for r in applied:
        details.update({k: v for k, v in r.details.items() if v is not None})
    last = applied[-1]
    return Report(
        last.task_instance_id, last.status, details, last.error_message, last.resource_kind
    )


def _apply(
    session: Session,
    reports: list[Report],
    instances: dict[int, InstanceRow],
    outcome: ReportOutcome,
    now: datetime,
) -> None:
    by_status: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        by_status[r.status].append(r)
    for status, group in by_status.items():
        rows = [instances[r.task_instance_id] for r in group]
        final = status in FINAL_REPORTS
        # An instance told to die ends with whatever its worker reports last.
        killed = [row for row in rows if row.status == TI.KILL_SELF]
        if final and killed:
            move(session, INSTANCE, killed, TI.ERROR_FATAL, now=now, note=f"reported {status}")
            confirm_kills(session, killed, now)
            for row in killed:
                instances[row.id] = row._replace(status=TI.ERROR_FATAL)
        elif killed:
            outcome.kill_ids += [row.id for row in killed]  # still running: tell it again
        outcome.ignored += [row.id for row in killed]
        rows = [row for row in rows if row.status != TI.KILL_SELF]
        legal, again, late = [], [], []
        for row in rows:
            if status in INSTANCE.transitions.get(row.status, ()):
                legal.append(row)
            elif INSTANCE.is_terminal(row.status):
                late.append(row)
            elif PROGRESS.get(status, 99) <= PROGRESS.get(row.status, -1):
                again.append(row)  # already applied: a report sent again
            else:
                outcome.refused.append(
                    (row.id, f"instance {row.id} is {row.status}; it cannot become {status}")
                )
        outcome.ignored += [row.id for row in again]
        if not final:  # a process that reports on an ended instance must stop
            outcome.kill_ids += [row.id for row in late]
        values: dict[str, Any] = {}
        if status == TI.RUNNING:
            values["started_date"] = now
        elif final:
            values["finished_date"] = now
        result = move(session, INSTANCE, legal + late, status, now=now, values=values, strict=False)
        outcome.ignored += [row.id for row in result.late]
        outcome.accepted += len(result.moved)
        moved_ids = {row.id for row in result.moved}
        moved_reports = [r for r in group if r.task_instance_id in moved_ids]
        _store_details(session, moved_reports)
        for row in result.moved:
            instances[row.id] = row._replace(status=status)
        _follow_with_tasks(session, status, moved_reports, instances, now)


def _store_details(session: Session, reports: list[Report]) -> None:
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in reports:
        cols = tuple(
            sorted(k for k, v in r.details.items() if v is not None and k in DETAIL_COLUMNS)
        )
        if cols:
            by_columns[cols].append(
                {"iid": r.task_instance_id, **{f"v_{c}": r.details[c] for c in cols}}
            )
    for cols, params in by_columns.items():
        session.connection().execute(
            update(TaskInstance.__table__)
            .where(TaskInstance.id == bindparam("iid"))
            .values({c: bindparam(f"v_{c}") for c in cols})
            .execution_options(synchronize_session=False),
            params,
        )


def _follow_with_tasks(
    session: Session, status: str, reports: list[Report], instances: dict[int, Any], now: datetime
) -> None:
    """Move each reported instance's task along with it."""
    if not reports:
        return
    tasks = lock_tasks(session, [instances[r.task_instance_id].task_id for r in reports])
    if status in TASK_FOLLOWS:
        move(
            session,
            TASK,
            [t for t in tasks if t.status != TASK_FOLLOWS[status]],
            TASK_FOLLOWS[status],
            now=now,
            strict=False,
        )
    elif status == TI.DONE:
        tasks_done(session, tasks, now)
    elif status in INSTANCE_FAILED:
        log_errors(session, reports, instances, now)
        kinds = {
            instances[r.task_instance_id].task_id: r.resource_kind
            for r in reports
            if r.status == TI.RESOURCE_ERROR and r.resource_kind
        }
        tasks_failed(session, tasks, now, kinds)


def log_errors(
    session: Session, reports: list[Report], instances: dict[int, Any], now: datetime
) -> None:
    rows = []
    for r in reports:
        description = r.error_message or _default_error(r)
        rows.append(
            {
                "task_instance_id": r.task_instance_id,
                "task_id": instances[r.task_instance_id].task_id,
                "workflow_id": instances[r.task_instance_id].workflow_id,
                "description": description,
                "signature": signature(description),
                "time": now,
            }
        )
    bulk_insert(session, models.TaskInstanceErrorLog.__table__, rows)


def _default_error(r: Report) -> str:
    if r.status == TI.RESOURCE_ERROR:
        return f"ran out of {r.resource_kind}"
    code = r.details.get("exit_code")
    return f"exited with code {code}" if code is not None else f"ended {r.status}"


MAX_LEASE_SECONDS = 7 * 24 * 3600


def heartbeat(
    session: Session, worker_id: str, ids: Sequence[int], report_within: float
) -> list[int]:
    """Extend the leases of instances this worker holds; return those it must kill."""
    if not 0 <= report_within <= MAX_LEASE_SECONDS:
        raise ValidationFailed(
            f"nextReportSeconds must be from 0 to {MAX_LEASE_SECONDS} (a week), not "
            f"{report_within:.6g}",
            "nextReportSeconds",
        )
    now = utcnow()
    deadline = now + timedelta(seconds=report_within)
    kill: list[int] = []
    for part in chunks(sorted(set(ids))):
        session.connection().execute(
            update(TaskInstance)
            .where(
                TaskInstance.id.in_(part),
                or_(TaskInstance.worker_id == worker_id, TaskInstance.claimed_by == worker_id),
                TaskInstance.status.in_(INSTANCE_HELD),
            )
            .values(report_by_date=deadline)
            .execution_options(synchronize_session=False)
        )
        kill += session.connection().scalars(
            select(TaskInstance.id).where(
                TaskInstance.id.in_(part), TaskInstance.status.not_in(INSTANCE_HELD)
            )
        )
    return kill


@dataclass
class Adopted:
    id: int
    task_id: int
    workflow_id: int
    status: str
    distributor_id: str | None
    hostname: str | None
    stdout_path: str | None
    stderr_path: str | None


def adopt(
    session: Session,
    cluster: int,
    worker_id: str,
    report_within: float,
    from_worker_ids: Sequence[str] | None = None,
    token_id: int | None = None,
) -> list[Adopted]:
    """Hand live instances to a (restarted) worker, with a fresh lease.

    Without ``from_worker_ids``, every live instance of the cluster (a Slurm cluster has
    one worker, which follows the jobs by id); with them, those of these predecessors (a
    local worker that restarted on their host). Instances told to die are handed over
    too: the new holder must kill them and confirm. The worker decides what becomes of
    each: it follows those still running and reports the others. With ``token_id`` (a
    worker token's), only instances held by workers announced with that token.
    """
    now = utcnow()
    query = (
        select(*INSTANCE_COLUMNS)
        .where(
            TaskInstance.cluster_id == cluster,
            TaskInstance.status.in_(INSTANCE_HELD | {TI.KILL_SELF}),
        )
        .order_by(TaskInstance.id)
        .with_for_update(key_share=True)
    )
    if from_worker_ids is not None:
        if not from_worker_ids:
            return []
        query = query.where(TaskInstance.worker_id.in_(sorted(set(from_worker_ids))))
    if token_id is not None:
        query = query.where(
            TaskInstance.worker_id.in_(
                select(models.Worker.id).where(models.Worker.token_id == token_id)
            )
        )
    live = instance_rows(session, query)
    ids = [r.id for r in live]
    for part in chunks(ids):
        session.connection().execute(
            update(TaskInstance)
            .where(TaskInstance.id.in_(part))
            .values(worker_id=worker_id, report_by_date=now + timedelta(seconds=report_within))
            .execution_options(synchronize_session=False)
        )
    if not ids:
        return []
    found: list[Any] = []
    for part in chunks(ids):
        found += (
            session.connection()
            .execute(
                select(
                    TaskInstance.id,
                    TaskInstance.task_id,
                    TaskInstance.workflow_id,
                    TaskInstance.status,
                    TaskInstance.distributor_id,
                    TaskInstance.hostname,
                    TaskInstance.stdout_path,
                    TaskInstance.stderr_path,
                )
                .where(TaskInstance.id.in_(part))
                .order_by(TaskInstance.id)
            )
            .all()
        )
    return [Adopted(*row) for row in found]


def reap_lost(session: Session, now: datetime, grace: float, limit: int = 1000) -> int:
    """Instances whose lease ran out a grace period ago: their holder has stopped them.

    Held ones become NO_HEARTBEAT and are retried; ones told to die are taken as dead
    (ERROR_FATAL), which lets their tasks run again.
    """
    cutoff = now - timedelta(seconds=grace)
    ids = list(
        session.connection().scalars(
            select(TaskInstance.id)
            .where(
                TaskInstance.status.in_(INSTANCE_HELD | {TI.KILL_SELF}),
                TaskInstance.report_by_date < cutoff,
            )
            .order_by(TaskInstance.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    workflows = [lock_workflow_state(session, w) for w in workflows_of(session, ids)]
    locked = lock_instances(session, ids)
    killed = [r for r in locked if r.status == TI.KILL_SELF]
    move(
        session,
        INSTANCE,
        killed,
        TI.ERROR_FATAL,
        now=now,
        note="its worker did not confirm the kill before its lease ran out",
    )
    confirm_kills(session, killed, now)
    rows = [r for r in locked if r.status in INSTANCE_HELD]
    reports = [
        Report(
            r.id,
            TI.NO_HEARTBEAT,
            error_message="the worker stopped reporting (no heartbeat before the deadline)",
        )
        for r in rows
    ]
    instances = {r.id: r for r in rows}
    moved = move(session, INSTANCE, rows, TI.NO_HEARTBEAT, now=now, strict=False).moved
    moved_ids = {r.id for r in moved}
    reports = [r for r in reports if r.task_instance_id in moved_ids]
    _follow_with_tasks(session, TI.NO_HEARTBEAT, reports, instances, now)
    for workflow in workflows:
        if workflow is not None:
            fill_capacity(session, workflow, now)
            settle(session, workflow, now)
    return len(moved) + len(killed)


def extend_leases(session: Session, now: datetime, report_within: float) -> int:
    """After the server could not reap (it or its database was down), give every lease that
    ran out meanwhile a fresh one: its worker could not renew it either."""
    result = session.connection().execute(
        update(TaskInstance)
        .where(
            TaskInstance.status.in_(INSTANCE_HELD | {TI.KILL_SELF}),
            TaskInstance.report_by_date < now,
        )
        .values(report_by_date=now + timedelta(seconds=report_within))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
