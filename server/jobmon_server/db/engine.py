"""Engines and sessions for SQLite, PostgreSQL and MariaDB.

Users give plain URLs (``sqlite:///path``, ``postgresql://user@host/db``,
``mysql://user@host/db``); the server picks the drivers it ships with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


def normalize_url(url: str) -> str:
    """Choose a driver for a plain database URL; leave explicit drivers alone."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            f"'{url}' is not a database URL; use sqlite:///path/to/jobmon.db, "
            "postgresql://user@host/db or mysql://user@host/db"
        )
    scheme = DRIVERS.get(scheme, scheme)
    return f"{scheme}://{rest}"


def create_db_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    sa_url = make_url(normalize_url(url))
    backend = sa_url.get_backend_name()
    if backend == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            sa_url = sa_url.set(database=str(Path(sa_url.database).expanduser()))
        engine = create_engine(sa_url, connect_args={"timeout": 60, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_pre_ping": True,
        "pool_recycle": 3600,
    }
    if backend == "mysql":
        sa_url = sa_url.update_query_dict({"charset": "utf8mb4"})
        kwargs["isolation_level"] = "READ COMMITTED"
    return create_engine(sa_url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for writes.

    pysqlite's own transaction handling is turned off so that a write transaction takes
    the write lock when it begins, not halfway through (which deadlocks two writers).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


class Database:
    """Sessions for reads and for writes on one engine.

    Write sessions on SQLite are serialized by a process-wide lock: SQLite has one writer
    at a time, and a lock hands over faster than SQLite's busy-wait.
    """

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 20) -> None:
        self.url = normalize_url(url)
        self.engine = create_db_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.dialect = self.engine.dialect.name
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction, committed on success, rolled back on error."""
        with self._write_lock or nullcontext(), self.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
                    yield session
                    session.flush()
            finally:
                conn.info["write"] = False

    def dispose(self) -> None:
        self.engine.dispose()
