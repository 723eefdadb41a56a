"""Per-request batching of what each workflow of a list needs (Strawberry's DataLoader).

A page of 25 workflows asks for each one's task counts, latest run and tool: the loaders
gather the ids asked for in one tick and answer them with one statement each. They do
not cache (``cache=False``): a subscription's context lives as long as its connection, and
its answers must stay current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from jobmon_server import reads
from jobmon_server.context import Services


class Loaders:
    def __init__(self, services: Services) -> None:
        self.task_counts = _loader(services, reads.counts_of, default=[])
        self.latest_run = _loader(services, reads.latest_runs, default=None)
        self.tool_name = _loader(services, reads.tool_names, default="")


def _loader(
    services: Services, read_many: Callable[..., dict[int, Any]], default: Any
) -> DataLoader[int, Any]:
    async def load(ids: Sequence[int]) -> list[Any]:
        found = await services.read(read_many, list(ids))
        return [found.get(i, default) for i in ids]

    return DataLoader(load_fn=load, cache=False)
