"""What a task asks of a local machine (slots, that is cores, and a runtime limit), and how
many slots and waiting instances a local worker keeps."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from jobmon_client.units import runtime_seconds

log = logging.getLogger(__name__)

# Tasks shorter than this on average are claimed ahead (see LocalDistributor).
SHORT_TASK_SECONDS = 1.0
# Short tasks are claimed ahead by about this many seconds of their work (within bounds),
# so that claims are few and large however short the tasks are.
BACKLOG_SECONDS = 0.5
MIN_BACKLOG = 32
MAX_BACKLOG = 256

# one runtime grammar for every distributor: the definitions check with the same function
parse_runtime = runtime_seconds


def runtime_limit(resources: Mapping[str, Any]) -> float | None:
    """The task's runtime limit in seconds, or None when it has none."""
    value = resources.get("runtime")
    if value is None or value == "":
        return None
    return parse_runtime(value)


def slots_needed(resources: Mapping[str, Any], parallelism: int) -> int:
    """Slots a task takes: ``resources["cores"]`` (default 1), capped at parallelism."""
    try:
        cores = int(resources.get("cores") or 1)
    except (TypeError, ValueError):
        cores = 1
    return max(1, min(cores, parallelism))


def default_parallelism(kind: str, parallelism: int | None) -> int:
    """Slots of a local cluster: 1 for "sequential", the CPU count for "multiprocess"."""
    if kind == "sequential":
        if parallelism not in (None, 1):
            log.warning("the sequential cluster runs one task at a time; ignoring parallelism")
        return 1
    slots = parallelism if parallelism is not None else (os.cpu_count() or 1)
    if slots < 1:
        raise ValueError(f"parallelism must be at least 1, got {slots}")
    return slots


def backlog_size(parallelism: int, average_seconds: float, fixed: int | None = None) -> int:
    """Instances a local worker keeps waiting beyond its slots: none while tasks are long
    (``average_seconds``, their recent wall time), else about BACKLOG_SECONDS of their work
    (``fixed`` when given)."""
    if average_seconds >= SHORT_TASK_SECONDS:
        return 0
    if fixed is not None:
        return fixed
    ahead = parallelism * BACKLOG_SECONDS / max(average_seconds, 1e-4)
    return int(min(MAX_BACKLOG, max(MIN_BACKLOG, 2 * parallelism, ahead)))
