"""A shared server with tokens, attacked by user B (bob) and by workers that are not who
they say: the fixtures make the users, the worker tokens, and alice's workflows."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from jobmon_client import Tool
from jobmon_client.worker import run_worker
from jobmon_server.auth import create_token
from jobmon_server.db.engine import Database
from jobmon_server.db.migrate import upgrade
from jobmon_server.embedded import EmbeddedServer, start
from jobmon_server.settings import Settings

from tests.conftest import BACKENDS

# Who holds which token: (user, admin, cluster of a worker token).
PEOPLE: dict[str, tuple[str, bool, str | None]] = {
    "alice": ("alice", False, None),
    "bob": ("bob", False, None),
    "admin": ("ops", True, None),
    # the multiprocess cluster's worker service, which runs alice's workflows here
    "mp_worker": ("svc-mp", False, "multiprocess"),
    # two worker services of the sequential cluster, which no running worker serves
    "seq_worker": ("svc-seq", False, "sequential"),
    "seq_other": ("svc-seq-2", False, "sequential"),
    "slurm_worker": ("svc-slurm", False, "slurm"),
}


@dataclass
class Secure:
    backend: str
    server: EmbeddedServer
    db_url: str
    tokens: dict[str, str]
    log_dir: Path
    _worker_ids: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def post(self, who: str | None, query: str, **variables: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=60,
        )

    def gql(self, who: str | None, query: str, **variables: Any) -> dict[str, Any]:
        """The answer's ``data`` and ``errors`` (a refusal may be either)."""
        response = self.post(who, query, **variables)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def data(self, who: str | None, query: str, **variables: Any) -> dict[str, Any]:
        body = self.gql(who, query, **variables)
        assert not body.get("errors"), body
        return dict(body["data"])


@pytest.fixture(scope="package", params=BACKENDS)
def secure(request: pytest.FixtureRequest, make_database, tmp_path_factory) -> Iterator[Secure]:  # type: ignore[no-untyped-def]
    """The server with tokens on each backend, with a multiprocess worker (a worker token)."""
    with secure_server(request.param, make_database, tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="module")
def secure_sqlite(make_database, tmp_path_factory) -> Iterator[Secure]:  # type: ignore[no-untyped-def]
    """The same on SQLite only: for what runs on the shared Slurm, once is enough."""
    with secure_server("sqlite", make_database, tmp_path_factory) as server:
        yield server


@contextlib.contextmanager
def secure_server(
    backend: str, make_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secure]:
    db_url = make_database(backend)
    upgrade(db_url)
    database = Database(db_url)
    with database.write() as session:
        tokens = {
            who: create_token(session, user, admin, cluster)
            for who, (user, admin, cluster) in PEOPLE.items()
        }
    database.dispose()
    server = start(port=0, settings=Settings(db_url=db_url, auth="token"))
    log_dir = tmp_path_factory.mktemp("security-logs")
    stop = threading.Event()
    saved = {k: os.environ.get(k) for k in ("JOBMON_TOKEN", "JOBMON_WORKER_TOKEN")}
    os.environ["JOBMON_WORKER_TOKEN"] = tokens["mp_worker"]  # a worker token, not an admin's
    os.environ.pop("JOBMON_TOKEN", None)
    worker = threading.Thread(
        target=run_worker,
        kwargs={
            "cluster_name": "multiprocess",
            "server_url": server.url,
            "parallelism": 2,
            "log_dir": log_dir,
            "state_dir": log_dir / "workers",
            "stop_event": stop,
        },
        daemon=True,
    )
    worker.start()
    try:
        yield Secure(backend, server, db_url, tokens, log_dir)
    finally:
        stop.set()
        worker.join(30)
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def alices_tool(secure: Secure, monkeypatch: pytest.MonkeyPatch, cluster: str) -> Tool:
    """Alice's client (her token in JOBMON_TOKEN) with one template: ``test {n} -eq 0``,
    which fails for every n but 0."""
    monkeypatch.setenv("JOBMON_TOKEN", secure.tokens["alice"])
    tool = Tool(name="alice_tool", server_url=secure.url)
    tool.set_default_cluster_name(cluster)
    tool.set_default_compute_resources_from_dict(cluster, {"memory": "1G", "runtime": "1m"})
    return tool


def unique() -> str:
    return uuid.uuid4().hex[:10]
