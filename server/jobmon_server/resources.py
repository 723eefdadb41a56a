"""Reading and scaling compute resources on the server (retries after RESOURCE_ERROR)."""

from __future__ import annotations

import re
from typing import Any

_MEMORY = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(I?B)?\s*$", re.IGNORECASE)
_MEMORY_MB = {"": 1024.0, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 * 1024}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([smhd]?)\s*$", re.IGNORECASE)
_DURATION_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

DEFAULT_SCALE = 0.5  # a RESOURCE_ERROR retry asks for 1.5 times what ran out


def memory_mb(value: Any) -> float:
    """Memory in MiB: a number of GB, or '512M', '8G', '1.5GB'."""
    if isinstance(value, int | float):
        return float(value) * 1024
    match = _MEMORY.match(str(value))
    if not match:
        raise ValueError(f"memory '{value}' is not a size such as '512M', '8G' or 2 (GB)")
    return float(match.group(1)) * _MEMORY_MB[match.group(2).upper()]


def runtime_s(value: Any) -> float:
    """Runtime in seconds: a number of seconds, '90s', '30m', '2h', or 'H:MM:SS'."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if ":" in text:
        seconds = 0.0
        for part in text.split(":"):
            seconds = seconds * 60 + float(part)
        return seconds
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"runtime '{value}' is not a duration such as '90s', '30m' or '2h'")
    return float(match.group(1)) * _DURATION_S[match.group(2).lower()]


def scaled(requested: dict[str, Any], kind: str, scales: dict[str, float] | None = None) -> dict:
    """The resources of the next attempt after running out of ``kind``."""
    out = dict(requested)
    scale = 1 + (scales or {}).get(kind, DEFAULT_SCALE)
    if kind == "memory" and "memory" in out:
        out["memory"] = f"{round(memory_mb(out['memory']) * scale)}M"
    elif kind == "runtime" and "runtime" in out:
        out["runtime"] = f"{round(runtime_s(out['runtime']) * scale)}s"
    return out
