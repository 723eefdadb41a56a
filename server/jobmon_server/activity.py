"""A workflow's activity, coalesced: at most one summary of its events per interval.

A page that only needs to know *that* something happened (and roughly what) follows this
instead of every event: however many events arrive, it gets at most one frame per
``INTERVAL_SECONDS``, and none while nothing happens. A frame counts the events it covers
by entity and new status, and carries the cursor of the last of them; a client that
resumes with that cursor misses nothing and counts nothing twice.

What came before the subscriber's start (a replay after ``after``) is counted in the
database, in one frame. Live events come from the hub; a subscriber that falls behind
the hub's queue is not dropped: it subscribes again and counts what it missed in the
database, as a replay.

With a task, only that task's events and its attempts' events count. The attempts are
read when the stream starts and again whenever the task itself changes (a new attempt is
created together with its task's move to INSTANTIATING, so it is known before its own
events are counted).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.errors import NotFoundError
from jobmon_server.events import EventHub, EventRow

INTERVAL_SECONDS = 0.3


@dataclass(frozen=True)
class Activity:
    """Events after the previous frame, up to and including ``cursor``."""

    cursor: int
    events: int
    counts: dict[tuple[str, str], int]  # (entity, to_status) -> events


def _condition(workflow_id: int, task_id: int | None) -> ColumnElement[bool]:
    event = models.Event
    condition = event.workflow_id == workflow_id
    if task_id is None:
        return condition
    attempts = select(models.TaskInstance.id).where(models.TaskInstance.task_id == task_id)
    return and_(
        condition,
        or_(
            and_(event.entity == "task", event.entity_id == task_id),
            and_(event.entity == "task_instance", event.entity_id.in_(attempts)),
        ),
    )


def count_events(
    session: Session, workflow_id: int, after: int, up_to: int, task_id: int | None = None
) -> Activity | None:
    """The events after ``after`` and up to ``up_to``, counted; None when there are none."""
    event = models.Event
    rows = session.execute(
        select(event.entity, event.to_status, func.count(), func.max(event.id))
        .where(event.id > after, event.id <= up_to, _condition(workflow_id, task_id))
        .group_by(event.entity, event.to_status)
    ).all()
    if not rows:
        return None
    return Activity(
        cursor=max(int(r[3]) for r in rows),
        events=sum(int(r[2]) for r in rows),
        counts={(r[0], r[1]): int(r[2]) for r in rows},
    )


def check_task(session: Session, workflow_id: int, task_id: int) -> None:
    task = session.get(models.Task, task_id)
    if task is None or task.workflow_id != workflow_id:
        raise NotFoundError(f"task {task_id} of workflow {workflow_id} does not exist")


def attempt_ids(session: Session, task_id: int) -> set[int]:
    ti = models.TaskInstance
    return set(session.scalars(select(ti.id).where(ti.task_id == task_id)))


class _Tally:
    """Live events of one frame."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.cursor = 0

    def add(self, row: EventRow) -> None:
        self.counts[(row.entity, row.to_status)] += 1
        self.cursor = row.id

    def frame(self) -> Activity | None:
        if not self.counts:
            return None
        return Activity(self.cursor, sum(self.counts.values()), dict(self.counts))


async def activity(
    hub: EventHub,
    read: Callable[..., Any],
    workflow_id: int,
    after: int,
    task_id: int | None = None,
    interval: float = INTERVAL_SECONDS,
) -> AsyncIterator[Activity]:
    """Frames of a workflow's (or one of its tasks') activity after ``after``; see above."""
    loop = asyncio.get_running_loop()
    position = after  # every event up to here is counted in a frame already sent
    last_frame = -interval
    attempts: set[int] = set()

    def wanted(row: EventRow) -> bool:
        if task_id is None:
            return True
        if row.entity == "task":
            return row.entity_id == task_id
        return row.entity == "task_instance" and row.entity_id in attempts

    def matches(row: EventRow) -> bool:
        return row.workflow_id == workflow_id

    while True:  # once, and again after falling behind the hub
        subscriber = hub.subscribe(matches)
        try:
            if task_id is not None:
                attempts = await read(attempt_ids, task_id)
            if position < subscriber.start:
                missed = await read(count_events, workflow_id, position, subscriber.start, task_id)
                position = subscriber.start
                if missed is not None:
                    last_frame = loop.time()
                    yield missed
            behind = False
            while not behind:
                row = await subscriber.queue.get()
                await asyncio.sleep(max(0.0, last_frame + interval - loop.time()))
                tally = _Tally()
                while row is not None:
                    if row.id > position:
                        position = row.id
                        if task_id is not None and row.entity == "task" and wanted(row):
                            attempts = await read(attempt_ids, task_id)
                        if wanted(row):
                            tally.add(row)
                    if subscriber.queue.empty():
                        break
                    row = subscriber.queue.get_nowait()
                behind = row is None
                frame = tally.frame()
                if frame is not None:
                    last_frame = loop.time()
                    yield frame
        finally:
            hub.unsubscribe(subscriber)
