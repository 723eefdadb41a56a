"""PostgreSQL LISTEN/NOTIFY: a commit that wrote events wakes every server process at once.

A transaction that inserts event rows also sends ``NOTIFY jobmon_events``; PostgreSQL
delivers it when the transaction commits, and folds repeats within one transaction. Each
process's ``EventHub`` keeps one connection listening and reads the new rows when told.
Other databases have no such channel: there the hub polls (see ``events``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "jobmon_events"
RECONNECT_SECONDS = 2.0


WROTE_EVENTS = "wrote_events"  # set in a session's info by a transaction that wrote events


def notify_events(session: Session) -> None:
    """Mark the transaction as one that wrote events, and on PostgreSQL tell the other
    processes (at commit)."""
    if session.info.get(WROTE_EVENTS):
        return
    session.info[WROTE_EVENTS] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


async def listen(url: URL, on_notify: Callable[[], None]) -> None:
    """Call ``on_notify`` for every notification, reconnecting for as long as it runs."""
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                on_notify()  # anything committed while we were not listening
                async for _ in conn.notifies():
                    on_notify()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the hub still polls; listen again soon
            log.warning("listening for new events failed; retrying", exc_info=True)
        await asyncio.sleep(RECONNECT_SECONDS)
