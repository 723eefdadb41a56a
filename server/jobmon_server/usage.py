"""What tasks used: per template of a workflow, and a suggestion for the next run.

Statistics come from the finished (DONE) attempts: their peak memory (max RSS) and their
wall-clock runtime, read for one template of one workflow at a time. Count, min and max
cover every such attempt (an aggregate in the database); the median and the suggestion
come from the latest ``SAMPLE_SIZE`` of them, so that only that many rows ever reach
Python. The database still reads every finished attempt of the template for the
aggregate: about 20 ms per 100,000 on SQLite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobmon_server import resources as res
from jobmon_server.db import models
from jobmon_server.db.rows import task_counts_by_array
from jobmon_server.statuses import TI

SUGGEST_PERCENTILE = 95
HEADROOM = 1.2  # suggest 20% above what nearly every attempt used
MIN_MEMORY_MB = 64
MIN_RUNTIME_S = 60
SAMPLE_SIZE = 20_000


@dataclass
class Stats:
    min: float | None
    median: float | None
    max: float | None

    @classmethod
    def of(cls, ordered: Sequence[float]) -> Stats:
        """Of sorted values."""
        if not ordered:
            return cls(None, None, None)
        return cls(ordered[0], median(ordered), ordered[-1])


@dataclass
class ResourceUsage:
    num_instances: int
    memory_bytes: Stats
    runtime_seconds: Stats
    suggested: dict[str, Any] | None


@dataclass
class WorkflowTemplate:
    array_id: int
    template_name: str
    template_version_id: int
    max_concurrently_running: int | None
    counts: dict[str, int]
    cluster_name: str


def workflow_templates(session: Session, workflow_id: int) -> list[WorkflowTemplate]:
    """The templates a workflow's tasks come from, with their task counts by status."""
    array, ttv, tt = models.Array, models.TaskTemplateVersion, models.TaskTemplate
    rows = session.execute(
        select(array.id, tt.name, ttv.id, array.max_concurrently_running)
        .join(ttv, ttv.id == array.task_template_version_id)
        .join(tt, tt.id == ttv.task_template_id)
        .where(array.workflow_id == workflow_id)
        .order_by(array.id)
    ).all()
    counts = task_counts_by_array(session, workflow_id)
    return [
        WorkflowTemplate(a, name, v, limit, counts.get(a, {}), _cluster_name(session, a))
        for a, name, v, limit in rows
    ]


def _cluster_name(session: Session, array_id: int) -> str:
    """Where the array's tasks run: the cluster of one of its tasks."""
    task = models.Task
    return session.scalars(
        select(models.Cluster.name)
        .join(models.TaskResources, models.TaskResources.cluster_id == models.Cluster.id)
        .join(task, task.task_resources_id == models.TaskResources.id)
        .where(task.array_id == array_id)
        .limit(1)
    ).one()


@dataclass
class Requested:
    """The smallest and largest request of a template's tasks (retries may ask for more)."""

    memory_bytes: Stats
    runtime_seconds: Stats


def array_requested(session: Session, array_id: int) -> Requested:
    """What the array's tasks ask for now, over its distinct resource rows."""
    resource_ids = (
        select(models.Task.task_resources_id).where(models.Task.array_id == array_id).distinct()
    )
    requests = session.scalars(
        select(models.TaskResources.requested).where(models.TaskResources.id.in_(resource_ids))
    ).all()
    memory = sorted(res.memory_mb(r["memory"]) * 2**20 for r in requests if "memory" in r)
    runtime = sorted(res.runtime_s(r["runtime"]) for r in requests if "runtime" in r)
    return Requested(Stats.of(memory), Stats.of(runtime))


def array_usage(session: Session, array_id: int) -> ResourceUsage:
    return _usage(session, models.TaskInstance.array_id == array_id)


def task_usage(session: Session, task_id: int) -> ResourceUsage:
    return _usage(session, models.TaskInstance.task_id == task_id)


def template_usage(
    session: Session,
    tool_name: str,
    template_name: str,
    workflow_ids: list[int],
    node_args: dict[str, list[str]] | None = None,
) -> ResourceUsage:
    """Usage of a template's tasks across all its versions, or within some workflows; with
    ``node_args`` (arg to allowed values), only of the tasks whose node args match."""
    array, ttv, tt = models.Array, models.TaskTemplateVersion, models.TaskTemplate
    arrays = (
        select(array.id)
        .join(ttv, ttv.id == array.task_template_version_id)
        .join(tt, tt.id == ttv.task_template_id)
        .join(models.ToolVersion, models.ToolVersion.id == tt.tool_version_id)
        .join(models.Tool, models.Tool.id == models.ToolVersion.tool_id)
        .where(models.Tool.name == tool_name, tt.name == template_name)
    )
    if workflow_ids:
        arrays = arrays.where(array.workflow_id.in_(workflow_ids))
    if not node_args:
        return _usage(session, models.TaskInstance.array_id.in_(arrays))
    node = models.Node
    tasks = (
        select(models.Task.id)
        .join(node, node.id == models.Task.node_id)
        .where(
            models.Task.array_id.in_(arrays),
            *(node.node_args[arg].as_string().in_(values) for arg, values in node_args.items()),
        )
    )
    return _usage(session, models.TaskInstance.task_id.in_(tasks))


def _usage(session: Session, condition: Any) -> ResourceUsage:
    ti = models.TaskInstance
    done = (condition, ti.status == TI.DONE)
    count, memory_min, memory_max, runtime_min, runtime_max = session.execute(
        select(
            func.count(),
            func.min(ti.max_rss_bytes),
            func.max(ti.max_rss_bytes),
            func.min(ti.wallclock_seconds),
            func.max(ti.wallclock_seconds),
        ).where(*done)
    ).one()
    latest = session.execute(
        select(ti.max_rss_bytes, ti.wallclock_seconds)
        .where(*done)
        .order_by(ti.id.desc())
        .limit(SAMPLE_SIZE)
    ).all()
    memory = sorted(float(m) for m, _ in latest if m is not None)
    runtime = sorted(float(r) for _, r in latest if r is not None)
    return ResourceUsage(
        num_instances=count,
        memory_bytes=Stats(_float(memory_min), median(memory), _float(memory_max)),
        runtime_seconds=Stats(_float(runtime_min), median(runtime), _float(runtime_max)),
        suggested=suggest(memory, runtime),
    )


def median(ordered: Sequence[float]) -> float | None:
    """The median of sorted values."""
    n = len(ordered)
    if not n:
        return None
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def suggest(memory_bytes: Sequence[float], runtime_seconds: Sequence[float]) -> dict | None:
    """Memory and runtime that fit nearly every past attempt, with headroom."""
    suggested: dict[str, Any] = {}
    if memory_bytes:
        mb = percentile(memory_bytes, SUGGEST_PERCENTILE) * HEADROOM / 2**20
        suggested["memory"] = format_memory(max(mb, MIN_MEMORY_MB))
    if runtime_seconds:
        seconds = percentile(runtime_seconds, SUGGEST_PERCENTILE) * HEADROOM
        suggested["runtime"] = format_runtime(max(seconds, MIN_RUNTIME_S))
    return suggested or None


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def format_memory(mb: float) -> str:
    if mb >= 1024:
        return f"{math.ceil(mb / 1024 * 10) / 10:g}G"
    return f"{math.ceil(mb)}M"


def format_runtime(seconds: float) -> str:
    if seconds >= 3600:
        return f"{math.ceil(seconds / 3600 * 10) / 10:g}h"
    return f"{math.ceil(seconds / 60)}m"
