"""Event streams for subscriptions: replay after a cursor, then live, with nothing lost.

Every status change is an event row; its id is the cursor. One poller per server process
(``EventHub``) reads new rows a page at a time and hands each row to the subscribers whose
filter it passes. It is woken at once by this process's own commits and, on PostgreSQL, by
the NOTIFY of any process's commit (see ``notify``); elsewhere it polls every
``event_poll_seconds`` (a quarter second by default), which is how events written through
another replica arrive.

Ids are handed out when a row is inserted, not when its transaction commits, so on
PostgreSQL and MariaDB id 11 may become visible before id 10. The hub therefore delivers
ids in order only: past a gap it waits up to ``GAP_GRACE_SECONDS`` for the missing id (a
transaction still committing) before it skips it (a transaction that rolled back). A
subscriber that reconnects with the last cursor it saw gets the rest, once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.engine import Database
from jobmon_server.notify import PostgresChannel

log = logging.getLogger(__name__)

LISTENING_POLL_SECONDS = 5.0  # a safety net when PostgreSQL notifies
BATCH_SECONDS = 0.05
GAP_GRACE_SECONDS = 2.0
PAGE = 2000
QUEUE_LIMIT = 20_000


@dataclass(frozen=True)
class EventRow:
    id: int
    workflow_id: int
    user: str
    entity: str
    entity_id: int
    from_status: str | None
    to_status: str
    note: str | None
    time: Any


Matcher = Callable[[EventRow], bool]


@dataclass(eq=False)
class Subscriber:
    matches: Matcher
    start: int  # events up to here come from the replay, later ones from the queue
    queue: asyncio.Queue[EventRow | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )


def read_events(
    session: Session, after: int, up_to: int | None, condition: Any = None, limit: int = PAGE
) -> list[EventRow]:
    """Events after a cursor (and up to a bound), oldest first, with their workflow's owner."""
    event, workflow = models.Event, models.Workflow
    stmt = (
        select(
            event.id,
            event.workflow_id,
            workflow.user,
            event.entity,
            event.entity_id,
            event.from_status,
            event.to_status,
            event.note,
            event.time,
        )
        .join(workflow, workflow.id == event.workflow_id)
        .where(event.id > after)
        .order_by(event.id)
        .limit(limit)
    )
    if up_to is not None:
        stmt = stmt.where(event.id <= up_to)
    if condition is not None:
        stmt = stmt.where(condition)
    return [EventRow(*row) for row in session.execute(stmt).all()]


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(models.Event.id))) or 0)


class EventHub:
    """The one poller of a process; see the module's docstring."""

    def __init__(self, db: Database, poll_seconds: float = 0.25, notify: bool = True) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.horizon = 0  # every event up to here has been handed out
        self._subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._gap_since: tuple[int, float] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.channel = (
            PostgresChannel(db.engine, self._wake.set)
            if notify and db.dialect == "postgresql"
            else None
        )

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        latest = await to_thread.run_sync(self._read, last_event_id)
        if not self._subscribers:  # else they are handed what follows their start (see below)
            self.horizon = latest
        channel = asyncio.create_task(self.channel.run()) if self.channel else None
        try:
            await self._follow()
        finally:
            if channel is not None:
                channel.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await channel

    def _wait_seconds(self) -> float:
        """Until the next read without a wake-up: slow while told of commits, and no later
        than the end of a gap's grace."""
        seconds = self.poll_seconds
        if self.channel is not None and self.channel.live:
            seconds = max(seconds, LISTENING_POLL_SECONDS)
        if self._gap_since is not None:
            waited = time.monotonic() - self._gap_since[1]
            seconds = min(seconds, max(GAP_GRACE_SECONDS - waited, 0.0) + BATCH_SECONDS)
        return seconds

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._wait_seconds())
            if self._wake.is_set():
                await asyncio.sleep(BATCH_SECONDS)  # let commits close together share a read
            self._wake.clear()
            try:
                if self._subscribers:
                    await self._poll()
                else:  # nobody listens: only keep the horizon current, with one indexed max
                    latest = await to_thread.run_sync(self._read, last_event_id)
                    # A subscriber that came while the max was read starts at the horizon
                    # as it was: moving it past events never handed out would lose them.
                    if not self._subscribers:
                        self.horizon = max(self.horizon, latest)
                        self._gap_since = None
            except Exception:  # noqa: BLE001 - keep the stream alive across database hiccups
                log.exception("reading new events failed; retrying")
                await asyncio.sleep(1.0)

    def poke(self) -> None:
        """New events were committed in this process (any thread): read them soon, and
        tell the other processes."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._committed)

    def _committed(self) -> None:
        if self._subscribers:
            self._wake.set()
        if self.channel is not None:
            self.channel.announce()

    def subscribe(self, matches: Matcher) -> Subscriber:
        subscriber = Subscriber(matches, self.horizon)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        with self.db.read() as session:
            return fn(session, *args)

    async def _poll(self) -> None:
        while True:
            rows = await to_thread.run_sync(self._read, read_events, self.horizon, None)
            delivered = self._deliver(rows)
            if not delivered or len(rows) < PAGE:
                return

    def _deliver(self, rows: list[EventRow]) -> int:
        delivered = 0
        for row in rows:
            if row.id != self.horizon + 1 and not self._gap_expired(self.horizon + 1):
                break
            self._gap_since = None
            self.horizon = row.id
            delivered += 1
            for subscriber in list(self._subscribers):
                if subscriber.matches(row):
                    try:
                        subscriber.queue.put_nowait(row)
                    except asyncio.QueueFull:
                        self._subscribers.discard(subscriber)
                        subscriber.queue._queue.clear()  # type: ignore[attr-defined]
                        subscriber.queue.put_nowait(None)
        return delivered

    def _gap_expired(self, missing: int) -> bool:
        now = time.monotonic()
        if self._gap_since is None or self._gap_since[0] != missing:
            self._gap_since = (missing, now)
        return now - self._gap_since[1] >= GAP_GRACE_SECONDS


class StreamOverflow(Exception):
    """A subscriber fell too far behind; it reconnects with its last cursor."""


async def stream(
    hub: EventHub,
    services_read: Callable[..., Any],
    matches: Matcher,
    condition: Any,
    after: int,
) -> AsyncIterator[EventRow]:
    """Replay the events after ``after`` that pass the filter, then follow live ones."""
    subscriber = hub.subscribe(matches)
    try:
        cursor = after
        while cursor < subscriber.start:
            page = await services_read(read_events, cursor, subscriber.start, condition)
            if not page:
                break
            for row in page:
                yield row
            cursor = page[-1].id
        cursor = max(cursor, subscriber.start)
        while True:
            row = await subscriber.queue.get()
            if row is None:
                raise StreamOverflow(
                    f"this subscriber fell more than {QUEUE_LIMIT} events behind; "
                    f'subscribe again with after: "{cursor}" to continue'
                )
            if row.id <= cursor:
                continue
            cursor = row.id
            yield row
    finally:
        hub.unsubscribe(subscriber)
