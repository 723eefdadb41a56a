"""What a task asks of a local machine: slots (cores) and a runtime limit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_WITH_UNIT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd])\s*$", re.IGNORECASE)


def parse_runtime(value: object) -> float:
    """Return a runtime in seconds.

    Accepts seconds as a number or numeric string, a number with a unit ("90s", "30m", "2h",
    "1d"), and clock forms "MM:SS", "HH:MM:SS" and Slurm's "D-HH:MM:SS".
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid runtime {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_runtime_text(value)
    else:
        raise ValueError(f"invalid runtime {value!r}")
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"runtime must be a positive number of seconds, got {value!r}")
    return seconds


def _parse_runtime_text(text: str) -> float:
    match = _WITH_UNIT.match(text)
    if match:
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    stripped = text.strip()
    day_part, dash, clock = stripped.rpartition("-")
    parts = [_number(part, text) for part in clock.split(":")]
    if len(parts) > 3:
        raise ValueError(f"invalid runtime {text!r}")
    if dash:  # Slurm: D-HH, D-HH:MM, D-HH:MM:SS
        parts += [0.0] * (3 - len(parts))
        parts[0] += 24 * _number(day_part, text)
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _number(part: str, text: str) -> float:
    try:
        number = float(part)
    except ValueError:
        raise ValueError(f"invalid runtime {text!r}") from None
    if number < 0:
        raise ValueError(f"invalid runtime {text!r}")
    return number


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
