"""What a task asks of a local machine: slots (cores) and a runtime limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobmon_client.units import runtime_seconds

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
