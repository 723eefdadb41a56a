"""PostgreSQL LISTEN/NOTIFY: a commit that wrote events wakes every server process at once.

After a transaction that wrote event rows commits, its process sends ``NOTIFY
jobmon_events`` on a connection of its own (coalescing a burst of commits into one), and
every process's ``EventHub`` hears it on the connection it keeps listening. The NOTIFY is
sent after the commit, not inside the transaction: PostgreSQL serializes the commits of
transactions that notify, and delivery does not need to be atomic, since readers go by
event id and also poll as a safety net. Other databases have no such channel: there the
hub polls (see ``events``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from anyio import to_thread
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

CHANNEL = "jobmon_events"
BATCH_SECONDS = 0.05  # commits this close together send one NOTIFY
# The listener sends itself a probe this often; only while its probes come back does the
# hub trust it and poll slowly (a proxy may accept LISTEN and never deliver).
PROBE_SECONDS = 30.0
PROBE = "probe"
RECONNECT_SECONDS = 2.0
# The listening connection: named for whoever reads pg_stat_activity, and with TCP
# keepalives, without which a connection cut by a failover or a NAT timeout would wait
# forever.
LISTENER: dict[str, str | int] = {
    "application_name": "jobmon-event-listener",
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


class PostgresChannel:
    """Tells the other processes that events were committed, and hears when they were."""

    def __init__(self, engine: Engine, on_notify: Callable[[], None]) -> None:
        self.engine = engine
        self.on_notify = on_notify
        self.live = False  # heard its own probe: the hub may poll slowly
        self._announce = asyncio.Event()

    def announce(self) -> None:
        """Events were committed in this process; call on the event loop."""
        self._announce.set()

    async def run(self) -> None:
        await asyncio.gather(self._listen(), self._send())

    async def _send(self) -> None:
        while True:
            await self._announce.wait()
            await asyncio.sleep(BATCH_SECONDS)
            self._announce.clear()
            try:
                await to_thread.run_sync(self._notify)
            except Exception:  # noqa: BLE001 - the readers still poll
                log.warning("telling the other processes about new events failed", exc_info=True)

    def _notify(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f"NOTIFY {CHANNEL}, 'events'"))
            conn.commit()

    async def _listen(self) -> None:
        url = self.engine.url.set(drivername="postgresql")
        conninfo = make_conninfo(url.render_as_string(hide_password=False), **LISTENER)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.on_notify()  # anything committed while nobody listened
                    await self._follow(conn)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the hub polls meanwhile; listen again soon
                log.warning("listening for new events failed; retrying", exc_info=True)
            finally:
                self.live = False
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _follow(self, conn: psycopg.AsyncConnection) -> None:
        """Hand on notifications; probe the channel every PROBE_SECONDS (a dead connection
        raises when the probe is sent)."""
        me = conn.info.backend_pid
        while True:
            await conn.execute(f"NOTIFY {CHANNEL}, '{PROBE}'")
            heard = False
            async for notify in conn.notifies(timeout=PROBE_SECONDS):
                if notify.payload != PROBE:
                    self.on_notify()
                elif notify.pid == me and not heard:
                    heard = True
                    self._set_live(True)
            if not heard:
                self._set_live(False)

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            log.log(
                logging.INFO if live else logging.WARNING,
                "event notifications %s",
                "arrive" if live else "do not arrive; reading events by polling",
            )
        self.live = live
