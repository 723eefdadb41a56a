"""A worker's credential is its own: its runners on the compute node report with it, and
the commands it runs never see it (they keep the user's environment, JOBMON_TOKEN too)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from jobmon_client.worker import Worker

from tests.conftest import unavailable
from tests.security.conftest import Secure, alices_tool, unique


def env_workflow(
    secure: Secure, monkeypatch: pytest.MonkeyPatch, cluster: str, out: Path
) -> tuple[Any, int]:
    tool = alices_tool(secure, monkeypatch, cluster)
    if cluster == "slurm":
        tool.set_default_compute_resources_from_dict(
            "slurm", {"cores": 1, "memory": "200M", "runtime": "10m"}
        )
    template = tool.get_task_template(
        template_name="env",
        command_template="env > {out}/env-{n}.txt",
        node_args=["n"],
        op_args=["out"],
    )
    name = unique()
    wf = tool.create_workflow(name=name, workflow_args=name)
    wf.add_tasks(template.create_tasks(n=[0, 1], out=str(out)))
    status = wf.run(seconds_until_timeout=240).final_status
    assert wf.workflow_id is not None
    return status, wf.workflow_id


def assert_clean(secure: Secure, out: Path, worker: str) -> None:
    for n in (0, 1):
        seen = (out / f"env-{n}.txt").read_text()
        assert secure.tokens[worker] not in seen  # no trace of the worker's credential
        assert f"JOBMON_TOKEN={secure.tokens['alice']}" in seen


def test_a_local_workers_tasks_do_not_see_its_token(
    secure: Secure, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert env_workflow(secure, monkeypatch, "multiprocess", tmp_path)[0] == "DONE"
    assert_clean(secure, tmp_path, "mp_worker")


def slurm_ready() -> bool:
    if shutil.which("sinfo") is None:
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True)
    return done.returncode == 0 and bool(done.stdout.strip())


def test_slurm_runners_report_with_the_worker_token_their_tasks_never_see(
    secure_sqlite: Secure, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On a server with tokens the runner of each array element reports RUNNING, its
    heartbeats and its end under the worker's id: only the worker's token may."""
    secure = secure_sqlite
    if not slurm_ready():
        unavailable("Slurm is not running; run 'scripts/slurm.sh start'")
    monkeypatch.setenv("JOBMON_WORKER_TOKEN", secure.tokens["slurm_worker"])
    logs = tmp_path / "logs"
    worker = Worker(
        "slurm",
        server_url=secure.url,
        log_dir=logs,
        state_dir=logs / "workers",
        worker_id=f"slurm-{unique()}",
        options={"poll_seconds": 1.0},
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert worker.ready.wait(60), "the Slurm worker did not start"
        out = tmp_path / "out"
        out.mkdir()
        status, wf_id = env_workflow(secure, monkeypatch, "slurm", out)
        assert status == "DONE"
    finally:
        stop.set()
        thread.join(30)
    assert_clean(secure, out, "slurm_worker")
    ran = secure.data(
        "alice",
        "query($id: Int!) { workflow(id: $id) { ... on Workflow { tasks(first: 10) { items { "
        "instances(first: 5) { items { status started } } } } } } }",
        id=wf_id,
    )
    instances = [i for t in ran["workflow"]["tasks"]["items"] for i in t["instances"]["items"]]
    assert [i["status"] for i in instances] == ["DONE", "DONE"]
    assert all(i["started"] for i in instances)  # the runners' RUNNING was taken
