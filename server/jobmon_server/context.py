"""What every request handler shares: the database and the worker wake-ups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from anyio import to_thread

from jobmon_server.db.engine import Database
from jobmon_server.events import EventHub
from jobmon_server.notify import WROTE_EVENTS
from jobmon_server.settings import Settings
from jobmon_server.wakeup import Wakeup

R = TypeVar("R")


@dataclass
class Services:
    db: Database
    settings: Settings
    wakeup: Wakeup = field(default_factory=Wakeup)
    hub: EventHub | None = None

    async def read(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn(session, ...)`` in a worker thread on a read session."""

        def work() -> R:
            with self.db.read() as session:
                return fn(session, *args, **kwargs)

        return await to_thread.run_sync(work)

    async def write(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run ``fn(session, ...)`` in one transaction in a worker thread, then wake workers."""
        return await to_thread.run_sync(lambda: self.write_sync(fn, *args, **kwargs))

    def write_sync(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        woken: set[int] = set()
        with self.db.write() as session:
            result = fn(session, *args, **kwargs)
            woken = session.info.get("wake_clusters", set())
            wrote_events = session.info.get(WROTE_EVENTS, False)
        self.wakeup.notify(woken)
        if self.hub is not None and wrote_events:
            self.hub.poke()
        return result
