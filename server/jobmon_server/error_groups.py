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


def error_groups(session: Session, workflow_id: int, first: int) -> list[ErrorGroup]:
    """The ``first`` largest groups of a workflow's errors, largest first."""
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
        .limit(first)
    ).all()
    if not groups:
        return []
    examples = dict(
        session.execute(
            select(log.id, log.description).where(log.id.in_([g[3] for g in groups]))
        ).all()
    )
    result = []
    for sig, count, task_count, example_id, latest in groups:
        task_ids = session.scalars(
            select(log.task_id)
            .where(log.workflow_id == workflow_id, log.signature == sig)
            .group_by(log.task_id)
            .order_by(log.task_id)
            .limit(EXAMPLE_TASKS)
        ).all()
        example = examples[example_id]
        result.append(
            ErrorGroup(
                signature=sig,
                pattern=pattern(example),
                example=example,
                count=count,
                task_count=task_count,
                example_task_ids=list(task_ids),
                latest=latest,
            )
        )
    return result
