"""PostgreSQL's LISTEN/NOTIFY channel between server processes, on a real PostgreSQL."""

from __future__ import annotations

import asyncio

from jobmon_server.db.engine import Database
from jobmon_server.notify import CHANNEL, PostgresChannel
from sqlalchemy import text

from tests.helpers import wait_until_async


def test_the_channel_trusts_itself_once_its_probe_returns_and_hands_on_notifications(
    make_database,  # type: ignore[no-untyped-def]
) -> None:
    database = Database(make_database("postgresql"))
    heard: list[int] = []

    async def scenario() -> None:
        channel = PostgresChannel(database.engine, lambda: heard.append(1))
        running = asyncio.create_task(channel.run())
        try:
            await wait_until_async(lambda: channel.live, "the listener hears its own probe")
            before = len(heard)
            with database.engine.connect() as conn:  # another process's commit
                conn.execute(text(f"NOTIFY {CHANNEL}, 'events'"))
                conn.commit()
            await wait_until_async(lambda: len(heard) > before, "a NOTIFY is handed on")
            before = len(heard)
            channel.announce()  # this process's commit: sent, and heard back
            await wait_until_async(lambda: len(heard) > before, "an announcement is sent")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        assert not channel.live

    try:
        asyncio.run(scenario())
    finally:
        database.dispose()


def test_the_listener_reconnects_when_its_connection_is_cut(make_database) -> None:  # type: ignore[no-untyped-def]
    from jobmon_server.notify import LISTENER, RECONNECT_SECONDS

    database = Database(make_database("postgresql"))
    heard: list[int] = []

    def cut() -> int:
        with database.engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": LISTENER["application_name"]},
                ).all()
            )

    async def scenario() -> None:
        channel = PostgresChannel(database.engine, lambda: heard.append(1))
        running = asyncio.create_task(channel.run())
        try:
            await wait_until_async(lambda: channel.live, "the listener is live")
            assert await asyncio.to_thread(cut) == 1
            await wait_until_async(lambda: not channel.live, "the cut is noticed")
            await wait_until_async(lambda: channel.live, "it reconnects", RECONNECT_SECONDS + 5)
            before = len(heard)
            with database.engine.connect() as conn:
                conn.execute(text(f"NOTIFY {CHANNEL}, 'events'"))
                conn.commit()
            await wait_until_async(lambda: len(heard) > before, "it hears after reconnecting")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    try:
        asyncio.run(scenario())
    finally:
        database.dispose()
