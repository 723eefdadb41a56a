"""What a template's tasks used and what they ask for."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from jobmon_server import usage


@strawberry.type(description="A range of values: smallest, median, largest.")
class UsageStats:
    min: float | None
    median: float | None
    max: float | None


@strawberry.type(
    description=(
        "What the finished (DONE) attempts of a template used: the count, min and max over all "
        "of them, the median and the suggestion over the latest 20,000."
    )
)
class ResourceUsage:
    num_instances: int
    memory_bytes: UsageStats
    runtime_seconds: UsageStats
    suggested: JSON | None = strawberry.field(
        description=(
            "Memory and runtime to ask for next time: the 95th percentile of what was used, "
            "with 20% headroom."
        )
    )

    @classmethod
    def from_row(cls, u: usage.ResourceUsage) -> ResourceUsage:
        return cls(
            num_instances=u.num_instances,
            memory_bytes=UsageStats(**vars(u.memory_bytes)),
            runtime_seconds=UsageStats(**vars(u.runtime_seconds)),
            suggested=cast(JSON | None, u.suggested),
        )


@strawberry.type(
    description=(
        "What a template's tasks ask for now: the smallest and largest request (a retry after "
        "running out asks for more). The median is that of the distinct requests."
    )
)
class RequestedResources:
    memory_bytes: UsageStats
    runtime_seconds: UsageStats

    @classmethod
    def from_row(cls, r: usage.Requested) -> RequestedResources:
        return cls(
            memory_bytes=UsageStats(**vars(r.memory_bytes)),
            runtime_seconds=UsageStats(**vars(r.runtime_seconds)),
        )
