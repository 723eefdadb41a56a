"""The transition table, and the one place where statuses change.

``move`` changes the status of many rows of one kind in bulk: it checks each move
against the table, updates the rows grouped by their old status (guarded by that status,
so a concurrent change is never overwritten), writes one event row per move in one bulk
insert, and keeps the per-array task counts current.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.after_commit import mark_events_written
from jobmon_server.db.raw import raw
from jobmon_server.db.statements import bulk_insert, chunks
from jobmon_server.errors import ConflictError
from jobmon_server.statuses import TI, WR, T, W

TASK_TRANSITIONS: Mapping[str, frozenset[str]] = {
    T.REGISTERING: frozenset({T.QUEUED, T.DONE}),
    T.QUEUED: frozenset({T.INSTANTIATING, T.REGISTERING}),
    T.INSTANTIATING: frozenset(
        {T.LAUNCHED, T.RUNNING, T.DONE, T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES, T.REGISTERING}
    ),
    T.LAUNCHED: frozenset(
        {T.RUNNING, T.DONE, T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES, T.REGISTERING}
    ),
    T.RUNNING: frozenset({T.DONE, T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES, T.REGISTERING}),
    T.ERROR_RECOVERABLE: frozenset({T.QUEUED, T.ERROR_FATAL, T.REGISTERING}),
    T.ADJUSTING_RESOURCES: frozenset({T.QUEUED, T.ERROR_FATAL, T.REGISTERING}),
    T.ERROR_FATAL: frozenset({T.REGISTERING}),
    T.DONE: frozenset({T.REGISTERING}),
}

INSTANCE_TRANSITIONS: Mapping[str, frozenset[str]] = {
    TI.QUEUED: frozenset({TI.INSTANTIATED, TI.KILL_SELF}),
    TI.INSTANTIATED: frozenset(
        {
            TI.LAUNCHED,
            TI.NO_DISTRIBUTOR_ID,
            TI.NO_HEARTBEAT,
            TI.KILL_SELF,
            TI.ERROR,
            TI.UNKNOWN_ERROR,
        }
    ),
    TI.LAUNCHED: frozenset(
        {
            TI.RUNNING,
            TI.DONE,
            TI.ERROR,
            TI.RESOURCE_ERROR,
            TI.UNKNOWN_ERROR,
            TI.NO_HEARTBEAT,
            TI.KILL_SELF,
        }
    ),
    TI.RUNNING: frozenset(
        {TI.DONE, TI.ERROR, TI.RESOURCE_ERROR, TI.UNKNOWN_ERROR, TI.NO_HEARTBEAT, TI.KILL_SELF}
    ),
    TI.KILL_SELF: frozenset({TI.ERROR_FATAL}),
}

RUN_TRANSITIONS: Mapping[str, frozenset[str]] = {
    WR.REGISTERED: frozenset({WR.LINKING, WR.ABORTED}),
    WR.LINKING: frozenset({WR.BOUND, WR.ABORTED}),
    WR.BOUND: frozenset({WR.RUNNING, WR.ABORTED}),
    WR.RUNNING: frozenset({WR.DONE, WR.ERROR, WR.STOPPED, WR.COLD_RESUME, WR.HOT_RESUME}),
    WR.COLD_RESUME: frozenset({WR.TERMINATED}),
    WR.HOT_RESUME: frozenset({WR.TERMINATED}),
}

WORKFLOW_TRANSITIONS: Mapping[str, frozenset[str]] = {
    W.REGISTERING: frozenset({W.QUEUED, W.ABORTED}),
    W.QUEUED: frozenset({W.RUNNING, W.HALTED, W.ABORTED}),
    W.RUNNING: frozenset({W.DONE, W.FAILED, W.HALTED, W.QUEUED}),
    W.HALTED: frozenset({W.QUEUED, W.REGISTERING}),
    W.FAILED: frozenset({W.QUEUED, W.REGISTERING}),
    W.DONE: frozenset({W.QUEUED, W.REGISTERING}),
}


@dataclass(frozen=True)
class Machine:
    entity: str
    table: Table
    transitions: Mapping[str, frozenset[str]]
    counted: bool = False

    def is_terminal(self, status: str) -> bool:
        return not self.transitions.get(status)


TASK = Machine("task", models.Task.__table__, TASK_TRANSITIONS, counted=True)  # type: ignore[arg-type]
INSTANCE = Machine("task_instance", models.TaskInstance.__table__, INSTANCE_TRANSITIONS)  # type: ignore[arg-type]
RUN = Machine("workflow_run", models.WorkflowRun.__table__, RUN_TRANSITIONS)  # type: ignore[arg-type]
WORKFLOW = Machine("workflow", models.Workflow.__table__, WORKFLOW_TRANSITIONS)  # type: ignore[arg-type]


class IllegalTransition(ConflictError):
    """A status change the transition table does not allow: a conflict with the state."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class StatusRow(Protocol):
    """What ``move`` needs of a row: its id, status and workflow (tasks: and array)."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def workflow_id(self) -> int: ...


RowT = TypeVar("RowT", bound=StatusRow)


@dataclass
class Moved(Generic[RowT]):
    """Rows that moved, and those whose report came too late (recorded, ignored)."""

    moved: list[RowT]
    late: list[RowT]


def move(
    session: Session,
    machine: Machine,
    rows: Sequence[RowT],
    to_status: str,
    *,
    now: datetime | None = None,
    values: dict[str, Any] | None = None,
    note: str | None = None,
    strict: bool = True,
    through: Sequence[str] = (),
) -> Moved[RowT]:
    """Move ``rows`` (already locked by the caller) to ``to_status``, by way of the
    statuses ``through`` when given (each step checked and recorded as an event; the rows
    are updated once).

    A row whose status is terminal lost a race (its report came after another path ended
    it): it is recorded as an ignored event and left alone. Any other move the table does
    not allow raises ``IllegalTransition`` when ``strict``, and is skipped otherwise.
    """
    now = now or utcnow()
    path = [*through, to_status]
    moved: list[RowT] = []
    late: list[RowT] = []
    illegal: list[RowT] = []
    for row in rows:
        if _legal(machine, row.status, path):
            moved.append(row)
        elif machine.is_terminal(row.status):
            late.append(row)
        else:
            illegal.append(row)
    if illegal and strict:
        sample = ", ".join(f"{r.id} ({r.status})" for r in illegal[:5])
        raise IllegalTransition(
            f"cannot move {machine.entity} {sample} to {' then '.join(path)}: the transition "
            f"table allows {path[0]} only from "
            + ", ".join(sorted(s for s, to in machine.transitions.items() if path[0] in to))
        )
    by_status: dict[str, list[int]] = defaultdict(list)
    for row in moved:
        by_status[row.status].append(row.id)
    assignments = {"status": to_status, "status_date": now, **(values or {})}
    sets = ", ".join(f'"{column}" = ?' for column in assignments)
    db = raw(session)
    for from_status, ids in by_status.items():
        for part in chunks(ids):
            which, params = db.in_ids("id", part)
            changed = db.execute(
                f'UPDATE "{machine.table.name}" SET {sets} WHERE {which} AND status = ?',
                [*assignments.values(), *params, from_status],
            )
            if changed != len(part):
                raise IllegalTransition(
                    f"{machine.entity} rows changed status concurrently while moving to "
                    f"{to_status}; retry the request"
                )
    events = []
    for row in moved:
        before = row.status
        for status in path:
            events.append(_event(machine, row, before, status, now, note))
            before = status
    events += [
        _event(machine, r, r.status, to_status, now, f"ignored: already {r.status}") for r in late
    ]
    write_events(session, events)
    if machine.counted and moved:
        _count(session, moved, to_status)
    return Moved(moved, late)


def _legal(machine: Machine, status: str, path: Sequence[str]) -> bool:
    for step in path:
        if step not in machine.transitions.get(status, ()):
            return False
        status = step
    return True


def _event(
    machine: Machine,
    row: StatusRow,
    from_status: str,
    to_status: str,
    now: datetime,
    note: str | None,
) -> dict:
    return {
        "workflow_id": row.workflow_id,
        "entity": machine.entity,
        "entity_id": row.id,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
        "time": now,
    }


def write_events(session: Session, events: Iterable[dict[str, Any]]) -> None:
    events = list(events)
    bulk_insert(session, models.Event.__table__, events)
    if events:
        mark_events_written(session)


def _count(session: Session, rows: Sequence[Any], to_status: str) -> None:
    deltas: Counter[tuple[int, str]] = Counter()
    for row in rows:
        deltas[(row.array_id, row.status)] -= 1
        deltas[(row.array_id, to_status)] += 1
    add_counts(session, deltas)


def add_counts(session: Session, deltas: Mapping[tuple[int, str], int]) -> None:
    """Apply count deltas per (array, status), in key order so that writers never deadlock."""
    params = [(d, a, s) for (a, s), d in sorted(deltas.items()) if d]
    raw(session).executemany(
        "UPDATE task_status_count SET count = count + ? WHERE array_id = ? AND status = ?",
        params,
    )
