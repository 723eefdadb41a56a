"""Errors grouped by similar message.

Two errors are similar when the last line of their message (where a traceback or a
program states what went wrong) is the same once numbers, hexadecimal ids and quoted
values are blanked out: "location 17 failed" and "location 42 failed" are one group.
The signature is computed once, when an error is recorded, so grouping a workflow's
errors is one indexed GROUP BY.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobmon_server.db import models

PATTERN_LENGTH = 300
EXAMPLE_TASKS = 5
_VOLATILE = re.compile(
    r"""0x[0-9a-f]+|\b[0-9a-f]{8,}\b|'[^']*'|"[^"]*"|\d+(?:\.\d+)?""", re.IGNORECASE
)


def pattern(message: str) -> str:
    """The message's telling line, with what varies between similar errors blanked."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return _VOLATILE.sub("…", last)[:PATTERN_LENGTH]


def signature(message: str) -> str:
    return hashlib.sha1(pattern(message).encode()).hexdigest()


@dataclass
class ErrorGroup:
    signature: str
    pattern: str
    example: str
    count: int
    task_count: int
    example_task_ids: list[int]
    latest: datetime
    fatal_task_count: int = 0  # of its tasks, how many failed for good
    recovered_task_count: int = 0  # how many were retried and are DONE now
    latest_run_id: int | None = None  # the run of its latest error


# Groups considered before the fatal ones are put first (a workflow rarely has more).
CANDIDATE_GROUPS = 200


def error_groups(session: Session, workflow_id: int, first: int) -> list[ErrorGroup]:
    """The ``first`` groups of a workflow's errors: those with tasks that failed for good
    first, then the largest; each with how many of its tasks failed for good or recovered."""
    log = models.TaskInstanceErrorLog
    groups = session.execute(
        select(
            log.signature,
            func.count(),
            func.count(func.distinct(log.task_id)),
            func.max(log.id),
            func.max(log.time),
        )
        .where(log.workflow_id == workflow_id)
        .group_by(log.signature)
        .order_by(func.count().desc(), func.max(log.id).desc())
        .limit(max(first, CANDIDATE_GROUPS))
    ).all()
    if not groups:
        return []
    latest_ids = [g[3] for g in groups]
    examples = {
        row.id: (row.description, row.workflow_run_id)
        for row in session.execute(
            select(log.id, log.description, models.TaskInstance.workflow_run_id)
            .join(models.TaskInstance, models.TaskInstance.id == log.task_instance_id)
            .where(log.id.in_(latest_ids))
        ).all()
    }
    outcome = _outcomes(session, workflow_id, [g[0] for g in groups])
    result = []
    for sig, count, task_count, example_id, latest in groups:
        task_ids = session.scalars(
            select(log.task_id)
            .where(log.workflow_id == workflow_id, log.signature == sig)
            .group_by(log.task_id)
            .order_by(log.task_id)
            .limit(EXAMPLE_TASKS)
        ).all()
        example, run_id = examples[example_id]
        result.append(
            ErrorGroup(
                signature=sig,
                pattern=pattern(example),
                example=example,
                count=count,
                task_count=task_count,
                example_task_ids=list(task_ids),
                latest=latest,
                fatal_task_count=outcome.get((sig, "ERROR_FATAL"), 0),
                recovered_task_count=outcome.get((sig, "DONE"), 0),
                latest_run_id=run_id,
            )
        )
    result.sort(key=lambda g: g.fatal_task_count == 0)  # stable: by size within each
    return result[:first]


def _outcomes(
    session: Session, workflow_id: int, signatures: list[str]
) -> dict[tuple[str, str], int]:
    """(signature, task status now) -> distinct tasks of the group in that status."""
    log, task = models.TaskInstanceErrorLog, models.Task
    rows = session.execute(
        select(log.signature, task.status, func.count(func.distinct(log.task_id)))
        .join(task, task.id == log.task_id)
        .where(log.workflow_id == workflow_id, log.signature.in_(signatures))
        .group_by(log.signature, task.status)
    ).all()
    return {(sig, status): int(n) for sig, status, n in rows}
