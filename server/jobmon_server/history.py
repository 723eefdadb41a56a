"""A workflow's task counts by status over its life, bucketed on the server.

Read from the event rows: the database groups a workflow's task transitions into at most
``MAX_BUCKETS`` time buckets (one indexed GROUP BY), and the counts at the end of each
bucket are the current counts minus what changed after it. Walking back from the counts
kept up to date means tasks that were bound without an event (all of them start
REGISTERING) are counted right, and the answer's size depends on the buckets, never on
the number of tasks.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, literal, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from jobmon_server import reads
from jobmon_server.db import models
from jobmon_server.errors import ValidationFailed
from jobmon_server.statuses import TaskStatus
from jobmon_server.transitions import utcnow

MAX_BUCKETS = 1000
DEFAULT_BUCKETS = 200


@dataclass
class RunSpan:
    id: int
    status: str
    start: datetime
    end: datetime | None  # None while the run has not ended


@dataclass
class StatusSeries:
    status: str
    counts: list[int]


@dataclass
class History:
    start: datetime
    end: datetime
    bucket_seconds: float
    times: list[datetime]  # the end of each bucket
    series: list[StatusSeries]  # one per task status, in the statuses' order
    runs: list[RunSpan]


_ENDED = {"DONE", "ERROR", "STOPPED", "TERMINATED", "ABORTED"}
# Histories already computed. A finished workflow's is kept until its next event; a running
# one's for a few seconds (its chart moves slowly), so that however many pages watch a
# large workflow, each server process reads its events at most once per RUNNING_SECONDS.
_KEPT: dict[tuple[int, int], tuple[int, float, History]] = {}
_CACHE_SIZE = 64
RUNNING_SECONDS = 5.0


def _seconds_since(session: Session, column: Any, origin: datetime) -> ColumnElement:
    """Seconds from ``origin`` to ``column`` (a naive UTC datetime) in this database's SQL."""
    name = session.get_bind().dialect.name
    if name == "sqlite":  # the origin's Julian day computed once, not per row
        origin_day = origin.replace(tzinfo=UTC).timestamp() / 86400.0 + 2440587.5
        return (func.julianday(column) - literal(origin_day)) * 86400.0
    if name == "postgresql":
        return func.extract("epoch", column - literal(origin))
    # MySQL / MariaDB: independent of the session's time zone
    return cast(func.timestampdiff(literal_column("MICROSECOND"), origin, column), Float) / 1e6


def workflow_history(session: Session, workflow_id: int, buckets: int) -> History:
    if not 1 <= buckets <= MAX_BUCKETS:
        raise ValidationFailed(f"buckets must be between 1 and {MAX_BUCKETS}", "buckets")
    workflow = reads.workflow(session, workflow_id)  # NotFound for an unknown id
    run = models.WorkflowRun
    runs = session.execute(
        select(run.id, run.status, run.created, run.status_date)
        .where(run.workflow_id == workflow_id)
        .order_by(run.id)
    ).all()
    event = models.Event
    # The newest event by id, through the (workflow_id, id) index: no scan for the span.
    newest = session.execute(
        select(event.id, event.time)
        .where(event.workflow_id == workflow_id)
        .order_by(event.id.desc())
        .limit(1)
    ).first()
    running = any(r.status not in _ENDED for r in runs)
    newest_id = newest[0] if newest else 0
    kept = _KEPT.get((workflow_id, buckets))
    if kept is not None:
        kept_id, kept_at, kept_history = kept
        if kept_id == newest_id and not running:
            return kept_history  # nothing changes a finished history but a new event
        if running and time.monotonic() - kept_at < RUNNING_SECONDS:
            return kept_history
    start = min([workflow.created, *(r.created for r in runs)])
    now = utcnow().replace(tzinfo=None)
    end = max(
        [
            now if running else start,
            *([newest[1]] if newest else []),
            *(r.status_date for r in runs),
        ]
    )
    span = max((end - start).total_seconds(), 1e-3)
    width = span / buckets
    seconds = _seconds_since(session, event.time, start)
    bucket = func.floor(seconds / width)
    changes = session.execute(
        select(bucket, event.from_status, event.to_status, func.count())
        .where(event.workflow_id == workflow_id, event.entity == "task")
        .group_by(bucket, event.from_status, event.to_status)
    ).all()
    statuses = [s.value for s in TaskStatus]
    # delta[b][status]: how the count of a status changed within bucket b
    delta: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b, from_status, to_status, count in changes:
        index = min(max(int(math.floor(b or 0)), 0), buckets - 1)
        if from_status:
            delta[index][from_status] -= int(count)
        delta[index][to_status] += int(count)
    current = dict.fromkeys(statuses, 0)
    for status, count in reads.counts_of(session, [workflow_id]).get(workflow_id, []):
        current[status] = int(count)
    columns: list[dict[str, int]] = [{}] * buckets
    running_counts = dict(current)
    for b in range(buckets - 1, -1, -1):  # the end of bucket b, walking back from now
        columns[b] = {s: max(running_counts[s], 0) for s in statuses}
        for status, change in delta.get(b, {}).items():
            if status in running_counts:
                running_counts[status] -= change
    found = History(
        start=start,
        end=end,
        bucket_seconds=width,
        times=[start + timedelta(seconds=width * (b + 1)) for b in range(buckets)],
        series=[StatusSeries(s, [c[s] for c in columns]) for s in statuses],
        runs=[
            RunSpan(r.id, r.status, r.created, r.status_date if r.status in _ENDED else None)
            for r in runs
        ],
    )
    if len(_KEPT) >= _CACHE_SIZE and (workflow_id, buckets) not in _KEPT:
        _KEPT.pop(next(iter(_KEPT)))
    _KEPT[(workflow_id, buckets)] = (newest_id, time.monotonic(), found)
    return found
