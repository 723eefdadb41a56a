"""Workflows on a real one-node Slurm: job arrays, resource retries, fallback queues,
cancellations and a worker restarted while its jobs run.

``make test`` starts Slurm with scripts/slurm.sh (the tests need its two partitions:
"debug", the default, capped at 600 MB a node, and "bigmem", uncapped).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jobmon_client import Tool, ValidationFailed, Workflow
from jobmon_client.transport import GraphQLClient
from jobmon_client.worker import Worker
from jobmon_server.embedded import EmbeddedServer, start

from tests import helpers
from tests.conftest import cluster_tool, unavailable
from tests.helpers import python_command, task_instances

TIMEOUT = 120.0
POLL_SECONDS = 1.0


def slurm_ready() -> bool:
    if shutil.which("sinfo") is None:
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True)
    return done.returncode == 0 and "bigmem" in done.stdout


class SlurmWorkerThread:
    def __init__(self, url: str, log_dir: Path, worker_id: str) -> None:
        self.worker = Worker(
            "slurm",
            server_url=url,
            log_dir=log_dir,
            state_dir=log_dir / "workers",
            worker_id=worker_id,
            options={"poll_seconds": POLL_SECONDS},
        )
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.worker.run, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the Slurm worker did not stop within 30 s"


class SlurmStack:
    def __init__(self, server: EmbeddedServer, log_dir: Path) -> None:
        self.server = server
        self.log_dir = log_dir
        self.worker = SlurmWorkerThread(server.url, log_dir, "slurm-worker-1")

    @property
    def url(self) -> str:
        return self.server.url

    def restart_worker(self, worker_id: str) -> None:
        self.worker.stop()
        self.worker = SlurmWorkerThread(self.url, self.log_dir, worker_id)


@pytest.fixture(scope="module")
def slurm(make_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmStack]:  # type: ignore[no-untyped-def]
    if not slurm_ready():
        unavailable("Slurm is not running with the test partitions; run 'scripts/slurm.sh start'")
    server = start(port=0, db_url=make_database("sqlite"))
    stack = SlurmStack(server, tmp_path_factory.mktemp("slurm-logs"))
    try:
        wait_until(lambda: _registered(stack.url), "the worker registers the cluster")
        yield stack
    finally:
        stack.worker.stop()
        server.stop()


def _registered(url: str) -> bool:
    with GraphQLClient(url) as client:
        clusters = client.execute("{ clusters { name } }")["clusters"]
    return any(c["name"] == "slurm" for c in clusters)


def wait_until(check: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    helpers.wait_until(check, what, timeout, interval=0.2)


def make_tool(url: str, name: str, **resources: Any) -> Tool:
    """A tool for the one-node cluster, whose node has little memory."""
    return cluster_tool(name, "slurm", url, **{"memory": "200M", **resources})


def shell(tool: Tool) -> Any:
    return tool.get_task_template(
        template_name="shell", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )


def allocate(megabytes: int) -> str:
    """A command whose peak memory is about ``megabytes`` (plus Python's own)."""
    size = megabytes * 2**20
    return python_command(f"b = bytearray({size}); b[::4096] = bytes(len(b[::4096]))")


def once_then(first: str, then: str, marker: Path) -> str:
    """Run ``first`` on the first attempt and ``then`` on later ones."""
    return f"if [ -e {marker} ]; then {then}; else touch {marker}; {first}; fi"


def run(wf: Workflow, timeout: int = 300) -> Any:
    return wf.run(seconds_until_timeout=timeout)


# -- the slow one first: it runs in Slurm while the others run ---------------------------


@pytest.fixture(scope="module")
def timeout_workflow(slurm: SlurmStack, tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """A task that sleeps past its runtime on its first attempt (Slurm takes about 90 s
    to end it), started at once and checked by the last test."""
    marker = tmp_path_factory.mktemp("timeout") / "ran"
    tool = make_tool(slurm.url, "slurm_timeout", runtime="30s")
    wf = tool.create_workflow(name="timeout", workflow_args=str(marker))
    wf.add_task(shell(tool).create_task(n=1, cmd=once_then("sleep 600", "true", marker)))
    wf.run(detach=True, seconds_until_timeout=600)
    return wf


def test_twenty_tasks_of_a_template_go_out_as_one_array(
    slurm: SlurmStack, timeout_workflow: Workflow, tmp_path: Path
) -> None:
    tool = make_tool(slurm.url, "slurm_array")
    tasks = [shell(tool).create_task(n=i, cmd=f"echo hello {i}") for i in range(20)]
    wf = tool.create_workflow(name="array", workflow_args=str(tmp_path))
    wf.add_tasks(tasks)
    result = run(wf)
    assert (result.final_status, result.done_count) == ("DONE", 20)
    jobs = set()
    for i, task in enumerate(tasks):
        [instance] = task_instances(slurm.url, task.task_id)
        array_job, _, index = instance["distributorId"].partition("_")
        jobs.add(array_job)
        assert index.isdigit()
        assert Path(instance["stdoutPath"]).read_text() == f"hello {i}\n"
        assert instance["hostname"]
    assert len(jobs) == 1, f"20 tasks took {len(jobs)} sbatch calls"


def test_out_of_memory_is_retried_with_more_memory(slurm: SlurmStack, tmp_path: Path) -> None:
    tool = make_tool(slurm.url, "slurm_oom", memory="200M")
    wf = tool.create_workflow(name="oom", workflow_args=str(tmp_path))
    task = shell(tool).create_task(n=1, cmd=allocate(190))
    wf.add_task(task)
    assert run(wf).final_status == "DONE"
    first, second = task_instances(slurm.url, task.task_id)
    assert first["status"] == "RESOURCE_ERROR"
    assert first["requestedResources"]["memory"] == "200M"
    assert second["status"] == "DONE"
    assert second["requestedResources"]["memory"] == "300M"
    used = task.resource_usage()  # the finished attempt, measured by its runner
    assert used["num_instances"] == 1
    assert 190 * 2**20 <= used["max_mem"] < 300 * 2**20
    assert used["suggested"]["memory"].endswith("M")
    assert shell(tool).resource_usage()["max_mem"] == used["max_mem"]


def test_a_fallback_queue_takes_what_outgrows_its_partition(
    slurm: SlurmStack, tmp_path: Path
) -> None:
    tool = make_tool(slurm.url, "slurm_fallback", memory="500M")
    wf = tool.create_workflow(name="fallback", workflow_args=str(tmp_path))
    task = shell(tool).create_task(n=1, cmd=allocate(520), fallback_queues=["bigmem"])
    wf.add_task(task)
    assert run(wf).final_status == "DONE"
    first, second = task_instances(slurm.url, task.task_id)
    assert first["status"] == "RESOURCE_ERROR"
    assert first["requestedResources"].get("queue") is None  # the default partition, debug
    assert second["requestedResources"]["memory"] == "750M"  # over debug's 600 MB
    assert second["requestedResources"]["queue"] == "bigmem"


def test_a_request_over_every_queue_it_may_use_is_refused_at_bind(
    slurm: SlurmStack, tmp_path: Path
) -> None:
    tool = make_tool(slurm.url, "slurm_refused", memory="1G")
    wf = tool.create_workflow(name="refused", workflow_args=str(tmp_path))
    wf.add_task(shell(tool).create_task(n=1, cmd="true"))
    with pytest.raises(ValidationFailed, match="queue 'debug'.*does not fit"):
        wf.bind()
    placed = tool.create_workflow(name="placed", workflow_args=f"{tmp_path}-placed")
    task = shell(tool).create_task(n=2, cmd="true", fallback_queues=["bigmem"])
    placed.add_task(task)
    assert run(placed).final_status == "DONE"
    [instance] = task_instances(slurm.url, task.task_id)
    assert instance["requestedResources"]["queue"] == "bigmem"


def test_a_job_cancelled_from_outside_is_retried(slurm: SlurmStack, tmp_path: Path) -> None:
    tool = make_tool(slurm.url, "slurm_scancel")
    wf = tool.create_workflow(name="scancel", workflow_args=str(tmp_path))
    task = shell(tool).create_task(
        n=1, cmd=once_then("sleep 600", "true", tmp_path / "ran"), max_attempts=2
    )
    wf.add_task(task)
    wf.run(detach=True, seconds_until_timeout=300)

    def running() -> list[dict[str, Any]]:
        return [i for i in task_instances(slurm.url, task.task_id) if i["status"] == "RUNNING"]

    wait_until(lambda: bool(running()), "the job runs")
    subprocess.run(["scancel", running()[0]["distributorId"]], check=True)
    wait_until(
        lambda: any(i["status"] == "DONE" for i in task_instances(slurm.url, task.task_id)),
        "the retry finishes",
    )
    first, second = task_instances(slurm.url, task.task_id)
    assert first["status"] == "UNKNOWN_ERROR"
    assert second["status"] == "DONE"


def test_stopping_a_run_cancels_its_jobs(slurm: SlurmStack, tmp_path: Path) -> None:
    tool = make_tool(slurm.url, "slurm_stop")
    wf = tool.create_workflow(name="stop", workflow_args=str(tmp_path))
    tasks = [shell(tool).create_task(n=i, cmd="sleep 600") for i in range(2)]
    wf.add_tasks(tasks)
    run_id = wf.run(detach=True, seconds_until_timeout=300).workflow_run_id

    def jobs() -> list[str]:
        return [
            i["distributorId"]
            for t in tasks
            for i in task_instances(slurm.url, t.task_id)
            if i["status"] == "RUNNING"
        ]

    wait_until(lambda: len(jobs()) == 2, "both run")
    running = jobs()
    with GraphQLClient(slurm.url) as client:
        client.execute(
            "mutation($id: Int!) { stopWorkflowRun(workflowRunId: $id) { __typename } }",
            {"id": run_id},
        )

    def states() -> set[str]:
        out = subprocess.run(
            ["squeue", "-h", "-t", "all", "-o", "%i|%T"], capture_output=True, text=True
        ).stdout
        found = dict(line.split("|") for line in out.split())
        return {found.get(job, "GONE") for job in running}

    wait_until(lambda: states() <= {"CANCELLED", "GONE"}, "Slurm cancels both jobs")
    # The worker confirms each kill once Slurm says the job ended (so that a retry could
    # never run beside it): until then the instance stays KILL_SELF.
    wait_until(
        lambda: all(
            [i["status"] for i in task_instances(slurm.url, t.task_id)] == ["ERROR_FATAL"]
            for t in tasks
        ),
        "the worker confirms both kills",
    )


def test_an_exit_code_failure_retries_then_is_fatal_with_its_stderr(
    slurm: SlurmStack, tmp_path: Path
) -> None:
    tool = make_tool(slurm.url, "slurm_fatal")
    wf = tool.create_workflow(name="fatal", workflow_args=str(tmp_path))
    task = shell(tool).create_task(n=1, cmd="echo boom >&2; exit 3", max_attempts=2)
    wf.add_task(task)
    result = run(wf)
    assert (result.final_status, result.failed_task_ids) == ("FAILED", [task.task_id])
    instances = task_instances(slurm.url, task.task_id)
    assert [(i["status"], i["exitCode"]) for i in instances] == [("ERROR", 3), ("ERROR", 3)]
    errors = wf.get_errors()
    assert "boom" in str(errors[task.task_id])


def test_a_restarted_worker_adopts_running_jobs(slurm: SlurmStack, tmp_path: Path) -> None:
    tool = make_tool(slurm.url, "slurm_adopt")
    wf = tool.create_workflow(name="adopt", workflow_args=str(tmp_path))
    gate = tmp_path / "go"
    tasks = [
        shell(tool).create_task(
            n=i, cmd=f"while [ ! -e {gate} ]; do sleep 0.2; done; echo {i} >> {tmp_path}/ran"
        )
        for i in range(3)
    ]
    wf.add_tasks(tasks)
    wf.run(detach=True, seconds_until_timeout=300)
    wait_until(
        lambda: all(
            any(i["status"] == "RUNNING" for i in task_instances(slurm.url, t.task_id))
            for t in tasks
        ),
        "all three run",
    )
    slurm.restart_worker("slurm-worker-2")
    wait_until(
        lambda: all(
            task_instances(slurm.url, t.task_id)[0]["workerId"] == "slurm-worker-2" for t in tasks
        ),
        "the new worker adopts them",
    )
    gate.touch()
    wait_until(
        lambda: all(
            any(i["status"] == "DONE" for i in task_instances(slurm.url, t.task_id)) for t in tasks
        ),
        "all three finish",
    )
    for task in tasks:
        [instance] = task_instances(slurm.url, task.task_id)  # launched once, never again
        assert instance["status"] == "DONE"
    assert sorted((tmp_path / "ran").read_text().split()) == ["0", "1", "2"]


def test_the_worker_registered_its_partitions_with_their_limits(slurm: SlurmStack) -> None:
    jobmon = str(Path(sys.executable).parent / "jobmon")
    listed = subprocess.run(
        [jobmon, "cluster", "list", "--json"],
        env={**os.environ, "JOBMON_SERVER_URL": slurm.url},
        capture_output=True,
        text=True,
        check=True,
    )
    clusters = {c["name"]: c for c in json.loads(listed.stdout)}
    assert clusters["slurm"]["distributor"] == "slurm"
    queues = {q["name"]: q for q in clusters["slurm"]["queues"]}
    assert queues["debug"]["default"] and queues["debug"]["maxMemoryMb"] == 600
    assert not queues["bigmem"]["default"] and queues["bigmem"]["maxMemoryMb"] == 4000
    assert queues["bigmem"]["maxRuntimeSeconds"] is None  # MaxTime=INFINITE
    assert set(clusters) >= {"sequential", "multiprocess"}


def test_running_past_the_runtime_is_retried_with_more_runtime(
    slurm: SlurmStack, timeout_workflow: Workflow
) -> None:
    [task] = timeout_workflow.tasks
    wait_until(
        lambda: any(i["status"] == "DONE" for i in task_instances(slurm.url, task.task_id)),
        "the retry finishes",
        timeout=300,
    )
    first, second = task_instances(slurm.url, task.task_id)
    assert first["status"] == "RESOURCE_ERROR"
    assert first["requestedResources"]["runtime"] == "30s"
    assert second["status"] == "DONE"
    assert second["requestedResources"]["runtime"] == "45s"


def test_one_workflow_across_clusters_and_a_missing_worker_is_named(
    slurm: SlurmStack, tmp_path: Path
) -> None:
    """multiprocess prep -> a Slurm array -> a sequential summary, in dependency order; with
    the Slurm worker stopped, the fits are said to wait for it (API, CLI, alert) until it
    is started again."""
    from tests.conftest import WorkerThread
    from tests.helpers import Collector

    local = [
        WorkerThread(slurm.url, name, 2, tmp_path / name) for name in ("multiprocess", "sequential")
    ]
    slurm.worker.stop()
    try:
        tool = Tool(name="mixed_clusters", server_url=slurm.url)
        for cluster in ("multiprocess", "sequential", "slurm"):
            tool.set_default_compute_resources_from_dict(
                cluster, {"cores": 1, "memory": "100M", "runtime": "10m"}
            )
        stamp = tool.get_task_template(
            template_name="stamp",
            command_template="echo {step} {n} $(date +%s%N) >> {out}",
            node_args=["step", "n"],
            op_args=["out"],
        )
        order = tmp_path / "order"
        prep = [
            stamp.create_task(step="prep", n=i, out=order, cluster_name="multiprocess")
            for i in range(2)
        ]
        fits = [
            stamp.create_task(step="fit", n=i, out=order, cluster_name="slurm", upstream_tasks=prep)
            for i in range(3)
        ]
        summary = stamp.create_task(
            step="summary", n=0, out=order, cluster_name="sequential", upstream_tasks=fits
        )
        wf = tool.create_workflow(name="mixed", workflow_args=str(tmp_path))
        wf.add_tasks([*prep, *fits, summary])
        run_id = wf.run(detach=True, seconds_until_timeout=300).workflow_run_id
        alerts = Collector(
            slurm.url,
            "subscription($w: [Int!]) {"
            " alerts(workflowIds: $w, kinds: [NO_WORKER]) { kind message } }",
            {"w": [wf.workflow_id]},
            "alerts",
        )

        def waiting() -> str | None:
            with GraphQLClient(slurm.url) as client:
                run = client.execute(
                    "query($id: Int!) {"
                    " workflowRun(id: $id) { ... on WorkflowRun { waitingFor } } }",
                    {"id": run_id},
                )["workflowRun"]
            return run["waitingFor"]

        wait_until(lambda: waiting() is not None, "the run says what it waits for", 60)
        assert waiting() == (
            "3 tasks wait for cluster 'slurm': no worker is running for it; start "
            "`jobmon worker --cluster slurm`"
        )
        [alert] = alerts.take(1)
        assert alert["kind"] == "NO_WORKER" and "cluster 'slurm'" in alert["message"]
        jobmon = str(Path(sys.executable).parent / "jobmon")
        shown = subprocess.run(
            [jobmon, "workflow", "status", "-w", str(wf.workflow_id)],
            env={**os.environ, "JOBMON_SERVER_URL": slurm.url},
            capture_output=True,
            text=True,
        )
        assert "no worker is running for it" in shown.stderr, shown
        slurm.restart_worker("slurm-worker-mixed")
        wait_until(lambda: waiting() is None, "the waiting is over once a worker serves slurm", 60)
        wait_until(
            lambda: order.exists() and "summary" in order.read_text(), "the summary runs", TIMEOUT
        )
    finally:
        for worker in local:
            worker.stop()
    steps = [line.split() for line in order.read_text().splitlines()]
    by_step = {s: [int(t) for step, _, t in steps if step == s] for s in ("prep", "fit", "summary")}
    assert len(by_step["prep"]) == 2 and len(by_step["fit"]) == 3 and len(by_step["summary"]) == 1
    assert max(by_step["prep"]) < min(by_step["fit"])
    assert max(by_step["fit"]) < min(by_step["summary"])
