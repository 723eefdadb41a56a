"""The slots of a local machine, shared by the claimer (which fills them) and the loop."""

from __future__ import annotations

import threading


class SlotPool:
    """Counts slots committed to claimed instances (waiting or running).

    The claimer waits here for room instead of polling; the loop releases slots as
    instances finish. ``backlog`` lets the claimer keep short tasks waiting locally, so
    that slots freed during a claim's round trip are refilled at once: it claims again
    once half the backlog is used, up to ``total + backlog``. Claims may overcommit (a
    claimed task may need more slots than were free); the claimer then waits for room.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.backlog = 0
        self.released = 0  # slots released so far, to measure how fast tasks end
        self._committed = 0
        self._closed = False
        self._cond = threading.Condition()

    def room(self) -> int:
        """Slots to claim now: 0 while the pool is above its low-water mark."""
        if self._committed >= self.total + self.backlog // 2:
            return 0
        return self.total + self.backlog - self._committed

    def wait_free(self) -> int:
        """Block until there is room; return how much, or 0 once closed."""
        with self._cond:
            while not self._closed and not self.room():
                self._cond.wait()
            return 0 if self._closed else self.room()

    def commit(self, slots: int) -> None:
        with self._cond:
            self._committed += slots

    def release(self, slots: int) -> None:
        with self._cond:
            self._committed -= slots
            self.released += slots
            self._cond.notify_all()

    def set_backlog(self, slots: int) -> None:
        with self._cond:
            self.backlog = slots
            self._cond.notify_all()

    def close(self) -> None:
        """Wake the waiting claimer for good (the worker is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def committed(self) -> int:
        return self._committed
