"""Sizes and durations: Jobmon's resource values, and Slurm's time strings.

Jobmon and Slurm read a bare number differently: a Jobmon ``runtime`` of 5 is five seconds
and a ``memory`` of 2 is two GB, while Slurm's time limit "5" is five minutes. Each parser
here says which convention it follows.
"""

from __future__ import annotations

import math
import re

_SIZE = re.compile(r"^([0-9]*\.?[0-9]+)\s*(?:([KMGT])(?:I?B)?)?$", re.IGNORECASE)
_SIZE_MB = {None: 1024.0, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 * 1024}
_DURATION = re.compile(r"^([0-9]*\.?[0-9]+)\s*([SMHD]?)$", re.IGNORECASE)
_DURATION_S = {"": 1, "S": 1, "M": 60, "H": 3600, "D": 86400}
_CLOCK = re.compile(r"^(?:(\d+)-)?(\d+(?::\d+){0,2})$")
_UNLIMITED = frozenset({"infinite", "unlimited", "partition_limit", "none"})

MEMORY_EXAMPLES = "a size such as '512M', '8G' or 2 (GB)"
RUNTIME_EXAMPLES = "a duration such as '90s', '30m', '2h', '1d', '1:30:00' or 3600 (seconds)"


def memory_mb(value: object) -> float:
    """Memory in MiB from a Jobmon ``memory`` value.

    A number, or a numeric string, is a number of GB; a string may carry a binary unit K,
    M, G or T, optionally followed by B or iB ("512M", "1.5GB", "2TiB"), in any case.
    Zero is refused because Slurm reads ``--mem=0`` as "all the memory of the node".
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"memory {value!r} is not {MEMORY_EXAMPLES}")
    if isinstance(value, str):
        match = _SIZE.match(value.strip())
        if not match:
            raise ValueError(f"memory {value!r} is not {MEMORY_EXAMPLES}")
        unit = match.group(2).upper() if match.group(2) else None
        mb = float(match.group(1)) * _SIZE_MB[unit]
    else:
        mb = float(value) * _SIZE_MB[None]
    if not math.isfinite(mb) or mb <= 0:
        raise ValueError(f"memory {value!r} must be more than 0; use {MEMORY_EXAMPLES}")
    return mb


def runtime_seconds(value: object) -> float:
    """Runtime in seconds from a Jobmon ``runtime`` value.

    A number, or a numeric string, is seconds; a string may carry a unit s, m, h or d
    ("90s", "30m", "1.5h", "1d"), or be a clock "MM:SS", "HH:MM:SS", or Slurm's "D-HH",
    "D-HH:MM", "D-HH:MM:SS". Zero is refused because Slurm reads ``--time=0`` as no limit.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"runtime {value!r} is not {RUNTIME_EXAMPLES}")
    if isinstance(value, str):
        seconds = _text_seconds(value.strip())
        if seconds is None:
            raise ValueError(f"runtime {value!r} is not {RUNTIME_EXAMPLES}")
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"runtime {value!r} must be more than 0; use {RUNTIME_EXAMPLES}")
    return seconds


def _text_seconds(text: str) -> float | None:
    match = _DURATION.match(text)
    if match:
        return float(match.group(1)) * _DURATION_S[match.group(2).upper()]
    clock = _CLOCK.match(text)
    if not clock:
        return None
    days, fields = clock.group(1), [int(part) for part in clock.group(2).split(":")]
    if days is None:
        if len(fields) == 1:
            return None  # a bare number matched _DURATION already
        hours, minutes, seconds = ([0] * (3 - len(fields)) + fields)[:3]
        return float(hours * 3600 + minutes * 60 + seconds)
    hours, minutes, seconds = (fields + [0, 0])[:3]
    return float(int(days) * 86400 + hours * 3600 + minutes * 60 + seconds)


def parse_slurm_time(text: str) -> int | None:
    """Seconds from a time limit as Slurm prints it; None when there is no limit.

    Slurm's forms: "MM" (minutes), "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS";
    "infinite", "UNLIMITED", "Partition_Limit" and "NONE" mean no limit of its own.
    """
    stripped = text.strip()
    if stripped.lower() in _UNLIMITED:
        return None
    match = _CLOCK.match(stripped)
    if not match:
        raise ValueError(f"{text!r} is not a Slurm time limit such as '30', '1:00:00' or '2-00'")
    days, fields = match.group(1), [int(part) for part in match.group(2).split(":")]
    if days is not None:
        hours, minutes, seconds = (fields + [0, 0])[:3]
        return int(days) * 86400 + hours * 3600 + minutes * 60 + seconds
    if len(fields) == 1:
        return fields[0] * 60
    hours, minutes, seconds = ([0] * (3 - len(fields)) + fields)[:3]
    return hours * 3600 + minutes * 60 + seconds


def slurm_time(seconds: float) -> str:
    """A ``--time`` value: whole minutes, rounded up (Slurm counts minutes), at least one."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a time limit must be a positive number of seconds, got {seconds!r}")
    minutes = max(1, math.ceil(seconds / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    clock = f"{hours:02d}:{minutes:02d}:00"
    return f"{days}-{clock}" if days else clock
