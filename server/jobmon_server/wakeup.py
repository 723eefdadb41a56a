"""Wakes long-polling workers in this process when their cluster has new work.

Database work runs in threads, so ``notify`` may be called from any thread; waiters run
on the event loop. Workers of another server replica find work by re-checking once a
second while they wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable


class Wakeup:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[int, asyncio.Event] = {}
        self._lock = threading.Lock()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self, cluster_ids: Iterable[int]) -> None:
        ids = list(cluster_ids)
        if not ids or self._loop is None:
            return
        # A closed loop means the server is shutting down: nobody is waiting.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._set, ids)

    def _set(self, ids: list[int]) -> None:
        for cluster_id in ids:
            event = self._events.pop(cluster_id, None)
            if event is not None:
                event.set()

    def listen(self, cluster_id: int) -> asyncio.Event:
        """The event the next ``notify`` of this cluster sets; take it before looking for work."""
        event = self._events.get(cluster_id)
        if event is None:
            event = self._events[cluster_id] = asyncio.Event()
        return event


async def wait_for(event: asyncio.Event, timeout: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except TimeoutError:
        return False
