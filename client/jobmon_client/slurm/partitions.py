"""The partitions (Jobmon queues) of a Slurm cluster, their limits, and its array size limit.

``sinfo`` gives what the nodes of each partition have (CPUs and memory per node) and the
partition's time limit; ``%P`` marks the default partition with "*", which ``%R`` does not,
so the command uses ``%P``. A partition's own caps (``MaxCPUsPerNode``, ``MaxMemPerNode``)
are not in ``sinfo``: ``read_partitions`` also reads ``scontrol show partition -o`` and
lowers the limits to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from jobmon_client.slurm.errors import Run, SlurmError, output_of, run_command
from jobmon_client.units import parse_slurm_time

__all__ = [
    "DEFAULT_MAX_ARRAY_SIZE",
    "Partition",
    "apply_partition_caps",
    "parse_max_array_size",
    "parse_scontrol_partitions",
    "parse_sinfo",
    "parse_slurm_time",
    "read_max_array_size",
    "read_partitions",
    "scontrol_partitions_command",
    "sinfo_command",
]

DEFAULT_MAX_ARRAY_SIZE = 1001  # Slurm's default MaxArraySize

_MAX_ARRAY_SIZE = re.compile(r"^\s*MaxArraySize\s*=\s*(\d+)\s*$", re.MULTILINE)
_LEADING_NUMBER = re.compile(r"^(\d+)\+?$")
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][\w/:]*)=(\S*)")


@dataclass(frozen=True)
class Partition:
    """One partition; a limit of None means unlimited or unknown."""

    name: str
    default: bool
    max_cores: int | None
    max_memory_mb: int | None
    max_runtime_s: int | None


def sinfo_command() -> list[str]:
    """``sinfo`` with one line per partition and node configuration (``-e``: no "8+")."""
    return ["sinfo", "-h", "-e", "-o", "%P|%c|%m|%l|%a"]


def parse_sinfo(text: str) -> list[Partition]:
    """Partitions that are up, from ``sinfo -h -o "%P|%c|%m|%l|%a"`` (or ``%R``).

    A partition on several lines (nodes of different sizes) gets the largest of each
    limit. "8+" (nodes grouped without ``-e``) counts as 8, the size every node has.
    """
    found: dict[str, Partition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.strip().split("|")
        if len(fields) != 5:
            raise SlurmError(f"sinfo printed {line!r}, expected 'name|cpus|memory|time|avail'")
        raw_name, cpus, memory, limit, avail = (field.strip() for field in fields)
        if avail.lower() != "up":
            continue
        name = raw_name.rstrip("*")
        try:
            runtime = parse_slurm_time(limit)
        except ValueError as exc:
            raise SlurmError(f"sinfo printed {line!r}: {exc}") from None
        line_partition = Partition(
            name=name,
            default=raw_name.endswith("*"),
            max_cores=_count(cpus),
            max_memory_mb=_count(memory),
            max_runtime_s=runtime,
        )
        seen = found.get(name)
        found[name] = line_partition if seen is None else _larger(seen, line_partition)
    return list(found.values())


def _count(text: str) -> int | None:
    match = _LEADING_NUMBER.match(text)
    return int(match.group(1)) if match else None


def _larger(a: Partition, b: Partition) -> Partition:
    return Partition(
        name=a.name,
        default=a.default or b.default,
        max_cores=_max_known(a.max_cores, b.max_cores),
        max_memory_mb=_max_known(a.max_memory_mb, b.max_memory_mb),
        # None is "unlimited" here, so it wins
        max_runtime_s=(
            None
            if a.max_runtime_s is None or b.max_runtime_s is None
            else max(a.max_runtime_s, b.max_runtime_s)
        ),
    )


def _max_known(a: int | None, b: int | None) -> int | None:
    known = [value for value in (a, b) if value is not None]
    return max(known) if known else None


def scontrol_partitions_command() -> list[str]:
    return ["scontrol", "show", "partition", "-o"]


def parse_scontrol_partitions(text: str) -> dict[str, dict[str, str]]:
    """The ``Key=Value`` fields of each partition in ``scontrol show partition -o``."""
    partitions: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        fields = dict(_FIELD.findall(line))
        if "PartitionName" in fields:
            partitions[fields["PartitionName"]] = fields
    return partitions


def apply_partition_caps(
    partitions: Iterable[Partition], caps: dict[str, dict[str, str]]
) -> list[Partition]:
    """Lower each partition's limits to its ``MaxCPUsPerNode``, ``MaxMemPerNode``, ``MaxTime``.

    ``MaxMemPerCPU`` is not applied: it limits memory per allocated CPU, which depends on
    how many cores a task asks for.
    """
    capped = []
    for partition in partitions:
        fields = caps.get(partition.name, {})
        max_time = fields.get("MaxTime")
        capped.append(
            replace(
                partition,
                max_cores=_min_known(partition.max_cores, _count(fields.get("MaxCPUsPerNode", ""))),
                max_memory_mb=_min_known(
                    partition.max_memory_mb, _count(fields.get("MaxMemPerNode", ""))
                ),
                max_runtime_s=_min_known(
                    partition.max_runtime_s, None if max_time is None else _time(max_time)
                ),
            )
        )
    return capped


def _time(text: str) -> int | None:
    try:
        return parse_slurm_time(text)
    except ValueError:
        return None


def _min_known(a: int | None, b: int | None) -> int | None:
    known = [value for value in (a, b) if value is not None]
    return min(known) if known else None


def read_partitions(run: Run = run_command) -> list[Partition]:
    """The cluster's partitions that are up, with the partitions' own caps applied."""
    partitions = parse_sinfo(output_of(sinfo_command(), run))
    caps = parse_scontrol_partitions(output_of(scontrol_partitions_command(), run))
    return apply_partition_caps(partitions, caps)


def parse_max_array_size(text: str) -> int:
    """``MaxArraySize`` from ``scontrol show config``; Slurm's default 1001 when absent.

    Array indexes run from 0 to MaxArraySize - 1, so an array of MaxArraySize elements
    indexed from 0 is the largest one can submit.
    """
    match = _MAX_ARRAY_SIZE.search(text)
    return int(match.group(1)) if match else DEFAULT_MAX_ARRAY_SIZE


def read_max_array_size(run: Run = run_command) -> int:
    return parse_max_array_size(output_of(["scontrol", "show", "config"], run))
