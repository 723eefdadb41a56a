"""A shared server with tokens, on every database: who may read, bind, run and change."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
from tests.helpers import workflow

JOBMON = str(Path(sys.executable).parent / "jobmon")


@dataclass
class SharedServer:
    server: EmbeddedServer
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, make_database, tmp_path_factory
) -> Iterator[SharedServer]:  # type: ignore[no-untyped-def]
    db_url = make_database(request.param)
    upgrade(db_url)
    database = Database(db_url)
    with database.write() as session:
        tokens = {
            "alice": create_token(session, "alice"),
            "bob": create_token(session, "bob"),
            "admin": create_token(session, "ops", admin=True),
            "worker": create_token(session, "svc", cluster="multiprocess"),
        }
    database.dispose()
    server = start(port=0, settings=Settings(db_url=db_url, auth="token"))
    stop = threading.Event()
    previous = os.environ.get("JOBMON_WORKER_TOKEN")
    os.environ["JOBMON_WORKER_TOKEN"] = tokens["worker"]  # a worker token of its cluster
    worker = threading.Thread(
        target=run_worker,
        kwargs={
            "cluster_name": "multiprocess",
            "server_url": server.url,
            "parallelism": 2,
            "log_dir": tmp_path_factory.mktemp("auth-logs"),
            "stop_event": stop,
        },
        daemon=True,
    )
    worker.start()
    try:
        yield SharedServer(server, tokens)
    finally:
        stop.set()
        worker.join(30)
        server.stop()
        if previous is None:
            os.environ.pop("JOBMON_WORKER_TOKEN", None)
        else:
            os.environ["JOBMON_WORKER_TOKEN"] = previous


def graphql(url: str, query: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=30)


def run_as(shared: SharedServer, user: str, monkeypatch: pytest.MonkeyPatch, name: str) -> int:
    monkeypatch.setenv("JOBMON_TOKEN", shared.tokens[user])
    tool = Tool(name=name, server_url=shared.url)
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="t", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name=name, workflow_args=name)
    wf.add_tasks(template.create_tasks(n=range(3)))
    assert wf.run().final_status == "DONE"
    assert wf.workflow_id is not None
    return wf.workflow_id


def jobmon(shared: SharedServer, token: str | None, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOBMON_SERVER_URL": shared.url}
    env.pop("JOBMON_TOKEN", None)
    if token:
        env["JOBMON_TOKEN"] = token
    return subprocess.run([JOBMON, *args], env=env, capture_output=True, text=True, timeout=60)


def test_without_a_valid_token_every_request_is_refused_clearly(shared: SharedServer) -> None:
    for query in ('mutation { bindTool(name: "x") { __typename } }', "{ clusters { name } }"):
        refused = graphql(shared.url, query)
        assert refused.status_code == 401
        assert "requires a token" in refused.json()["errors"][0]["message"]
        wrong = graphql(shared.url, query, token="not-a-token")
        assert wrong.status_code == 401
        assert "was not accepted" in wrong.json()["errors"][0]["message"]
    assert graphql(shared.url, "{ clusters { name } }", shared.tokens["bob"]).status_code == 200
    assert httpx.get(f"{shared.url}/health", timeout=30).status_code == 200

    done = jobmon(shared, None, "workflow", "status", "-u", "alice")
    assert done.returncode == 1 and "requires a token" in done.stderr


def test_the_token_user_owns_and_only_owner_or_admin_may_change(
    shared: SharedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    wf_id = run_as(shared, "alice", monkeypatch, f"auth_{time.time_ns()}")
    assert workflow(shared.url, wf_id)["status"] == "DONE"
    listed = jobmon(shared, shared.tokens["bob"], "workflow", "status", "-w", str(wf_id), "--json")
    assert listed.returncode == 0 and '"user": "alice"' in listed.stdout  # reads are open

    refused = jobmon(shared, shared.tokens["bob"], "workflow", "reset", "-w", str(wf_id))
    assert refused.returncode == 1
    assert f"workflow {wf_id} belongs to alice; only its owner may change it" in refused.stderr

    by_admin = jobmon(shared, shared.tokens["admin"], "workflow", "reset", "-w", str(wf_id))
    assert by_admin.returncode == 0, by_admin.stderr
    by_owner = jobmon(shared, shared.tokens["alice"], "workflow", "resume", "-w", str(wf_id))
    assert by_owner.returncode == 0, by_owner.stderr


def test_the_server_will_not_listen_beyond_loopback_without_tokens(tmp_path: Path) -> None:
    args = [
        JOBMON,
        "server",
        "--host",
        "0.0.0.0",
        "--port",
        "1",
        "--db",
        f"sqlite:///{tmp_path}/j.db",
    ]
    refused = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0 without tokens" in refused.stderr
    assert "--auth token" in refused.stderr and "--insecure" in refused.stderr


def test_a_worker_token_is_made_for_one_cluster(tmp_path: Path) -> None:
    from jobmon_server.auth import TokenCache

    url = f"sqlite:///{tmp_path}/j.db"
    made = subprocess.run(
        [JOBMON, "token", "create", "--user", "svc", "--worker", "--cluster", "slurm", "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    database = Database(url)
    try:
        identity = TokenCache().identify(database.read, made.stdout.strip())
    finally:
        database.dispose()
    assert identity is not None
    assert (identity.user, identity.admin, identity.cluster) == ("svc", False, "slurm")
    for half in (["--worker"], ["--cluster", "slurm"]):
        refused = subprocess.run(
            [JOBMON, "token", "create", "--user", "svc", *half, "--db", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode == 2
        assert "give --worker and --cluster NAME together" in refused.stderr
