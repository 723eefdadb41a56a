"""Fixtures: a real server on a loopback port over a real database, and real workers.

Database-backed tests run once per backend: SQLite, PostgreSQL and MariaDB. Each run
creates its own database with a unique name and drops it afterwards. A backend that is
not reachable skips its tests locally and fails them under CI=true.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from jobmon_client.worker import run_worker
from jobmon_server.embedded import EmbeddedServer, start

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN = os.environ.get("JOBMON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("JOBMON_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test")
BACKENDS = ["sqlite", "postgresql", "mariadb"]


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: every component must be present)")
    pytest.skip(reason)


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    from jobmon_server.db.engine import normalize_url
    from sqlalchemy import create_engine

    return create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def make_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A function that creates an empty database on a backend and returns its URL."""
    from sqlalchemy import text

    created: list[tuple[str, str]] = []

    def make(backend: str) -> str:
        name = f"jobmon_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'jobmon.db'}"
        admin = PG_ADMIN if backend == "postgresql" else MARIADB_ADMIN
        try:
            with _admin_engine(admin).connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
        except Exception as exc:  # noqa: BLE001 - any failure means the backend is missing
            unavailable(f"{backend} is not reachable at {admin}: {exc.__class__.__name__}")
        created.append((backend, name))
        base = admin.rsplit("/", 1)[0]
        return f"{base}/{name}"

    yield make
    from sqlalchemy import text as _text

    for backend, name in created:
        admin = PG_ADMIN if backend == "postgresql" else MARIADB_ADMIN
        engine = _admin_engine(admin)
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(_text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(_text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()


# What a test task asks for unless it says otherwise: little, and enough for `true` or `sleep`.
SMALL_RESOURCES = {"cores": 1, "memory": "1G", "runtime": "10m"}


def cluster_tool(
    name: str, cluster: str = "multiprocess", server_url: str | None = None, **resources: object
) -> Tool:
    """A tool whose tasks go to ``cluster``, with small resources (``resources`` override)."""
    tool = Tool(name=name, server_url=server_url)
    tool.set_default_cluster_name(cluster)
    tool.set_default_compute_resources_from_dict(cluster, {**SMALL_RESOURCES, **resources})
    return tool


@dataclass
class Stack:
    """A running server and its local worker."""

    backend: str
    db_url: str
    server: EmbeddedServer
    log_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> GraphQLClient:
        return GraphQLClient(self.url)

    def query(self, document: str, **variables: object) -> dict:
        with self.client() as client:
            return client.execute(document, variables)


class WorkerThread:
    """A real worker loop on a thread, stopped and joined by ``stop``."""

    def __init__(self, url: str, cluster: str, parallelism: int, log_dir: Path) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=run_worker,
            name=f"worker-{cluster}",
            daemon=True,
            kwargs={
                "cluster_name": cluster,
                "server_url": url,
                "parallelism": parallelism,
                "log_dir": log_dir,
                "stop_event": self.stop_event,
                "state_dir": log_dir / "workers",
            },
        )
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the worker did not stop within 30 s"


# For what does not depend on the database (request limits, the CLI's wording): the test runs
# on one backend, the first, instead of on each.
one_backend = pytest.mark.parametrize("stack", BACKENDS[:1], indirect=True)


@pytest.fixture(scope="session", params=BACKENDS)
def stack(request: pytest.FixtureRequest, make_database, tmp_path_factory) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    """A server on a fresh database of each backend, with a multiprocess worker."""
    db_url = make_database(request.param)
    server = start(port=0, db_url=db_url)
    log_dir = tmp_path_factory.mktemp(f"logs-{request.param}")
    worker = WorkerThread(server.url, "multiprocess", 4, log_dir)
    try:
        yield Stack(request.param, db_url, server, log_dir)
    finally:
        worker.stop()
        server.stop()


@pytest.fixture
def server_url(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JOBMON_SERVER_URL", stack.url)
    return stack.url


@pytest.fixture
def unique() -> str:
    """A unique suffix, so tests sharing a server never share a workflow."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(autouse=True)
def _close_subscriptions() -> Iterator[None]:
    """Subscriptions a test opened end with it, before their servers stop."""
    yield
    from tests.helpers import Collector

    while Collector.opened:
        Collector.opened.pop().close()
