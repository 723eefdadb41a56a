"""Building ``sbatch`` command lines for job arrays and reading what ``sbatch`` answers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from jobmon_client.sbatch_options import extra_sbatch_args
from jobmon_client.slurm.errors import SlurmError
from jobmon_client.units import memory_mb, runtime_seconds, slurm_time

_PARSABLE = re.compile(r"^(\d+)(?:;\S+)?$")


def sbatch_resource_args(resources: Mapping[str, Any]) -> list[str]:
    """The ``sbatch`` options that ask Slurm for a task's compute resources.

    Keys: ``queue`` (partition), ``project`` (account), ``cores``, ``memory``, ``runtime``,
    ``constraints``, ``gpus`` and ``sbatch`` (further options, passed on as they are).
    Other keys are left out; checking them is the job of the resource validation.
    """
    args: list[str] = []
    if resources.get("queue") is not None:
        args.append(f"--partition={resources['queue']}")
    if resources.get("project") is not None:
        args.append(f"--account={resources['project']}")
    if resources.get("cores") is not None:
        args.append(f"--cpus-per-task={_count('cores', resources['cores'], minimum=1)}")
    if resources.get("memory") is not None:
        args.append(f"--mem={math.ceil(memory_mb(resources['memory']))}M")
    if resources.get("runtime") is not None:
        args.append(f"--time={slurm_time(runtime_seconds(resources['runtime']))}")
    if resources.get("constraints") is not None:
        args.append(f"--constraint={resources['constraints']}")
    gpus = resources.get("gpus")
    if gpus is not None and _count("gpus", gpus, minimum=0) > 0:
        args.append(f"--gres=gpu:{gpus}")
    if resources.get("sbatch") is not None:
        args.extend(extra_sbatch_args(resources["sbatch"]))
    return args


def _count(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key} {value!r} must be a whole number of at least {minimum}")
    return value


def array_spec(count: int, limit: int | None = None) -> str:
    """The ``--array`` value for ``count`` elements indexed from 0, at most ``limit`` at once."""
    if count < 1:
        raise ValueError(f"an array needs at least one element, got {count}")
    if limit is not None and limit < 1:
        raise ValueError(f"an array's limit of running elements must be at least 1, got {limit}")
    spec = f"0-{count - 1}"
    return f"{spec}%{limit}" if limit is not None and limit < count else spec


def chunk_sizes(count: int, max_array_size: int) -> list[int]:
    """Split ``count`` elements into arrays Slurm accepts.

    ``MaxArraySize`` N allows indexes 0 to N - 1; every array here is indexed from 0, so
    one array holds at most N elements.
    """
    if max_array_size < 1:
        raise ValueError(f"MaxArraySize must be at least 1, got {max_array_size}")
    if count < 0:
        raise ValueError(f"cannot split a negative number of elements ({count})")
    full, rest = divmod(count, max_array_size)
    return [max_array_size] * full + ([rest] if rest else [])


def parse_sbatch_parsable(text: str) -> str:
    """The job id from ``sbatch --parsable``, which prints "ID" or "ID;CLUSTER"."""
    match = _PARSABLE.match(text.strip())
    if not match:
        raise SlurmError(f"sbatch --parsable printed {text.strip()!r}, expected a job id")
    return match.group(1)
