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
    if match.group(3) and not match.group(2):  # "512B": bytes
        return float(match.group(1)) / 2**20
    return float(match.group(1)) * _MEMORY_MB[match.group(2).upper()]


def runtime_s(value: Any) -> float:
    """Runtime in seconds: a number of seconds, '90s', '30m', '2h', or 'H:MM:SS'."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    days, dash, clock = text.rpartition("-")
    if ":" in text or (dash and days):
        try:
            parts = [float(part) for part in clock.split(":")]
            if dash:  # Slurm's D-HH, D-HH:MM, D-HH:MM:SS
                parts += [0.0] * (3 - len(parts))
                parts[0] += 24 * float(days)
        except ValueError:
            raise ValueError(
                f"runtime '{value}' is not a duration such as '90s', '30m', '2h' or 'H:MM:SS'"
            ) from None
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        return seconds
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"runtime '{value}' is not a duration such as '90s', '30m' or '2h'")
    return float(match.group(1)) * _DURATION_S[match.group(2).lower()]


def scaled(requested: dict[str, Any], kind: str, scales: dict[str, Any] | None = None) -> dict:
    """The resources of the next attempt after running out of ``kind``.

    A scale is a fraction to add (0.5: ask for 1.5 times as much), or a list of values for
    the successive retries: the first one larger than what was asked is taken, and the
    largest once they are used up.
    """
    out = dict(requested)
    if kind not in out:
        return out
    parse = memory_mb if kind == "memory" else runtime_s
    scale = (scales or {}).get(kind, DEFAULT_SCALE)
    if isinstance(scale, list):
        current = parse(out[kind])
        larger = [v for v in scale if parse(v) > current]
        out[kind] = larger[0] if larger else max(scale, key=parse)
    elif kind == "memory":
        out["memory"] = f"{round(memory_mb(out['memory']) * (1 + float(scale)))}M"
    else:
        out["runtime"] = f"{round(runtime_s(out['runtime']) * (1 + float(scale)))}s"
    return out
