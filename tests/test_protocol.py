"""The worker protocol and the rules around it, against a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient, ServerUnreachable, ValidationFailed
from jobmon_server import usage
from jobmon_server.embedded import start
from jobmon_server.settings import Settings

from tests.conftest import Stack, WorkerThread
from tests.helpers import task_instances, wait_until

CLAIM = """
mutation($cluster: String!, $worker: String!, $limit: Int!) {
  claimTaskInstances(clusterName: $cluster, workerId: $worker, limit: $limit, waitSeconds: 0) {
    instances { id taskId command } killInstanceIds
  }
}"""
REPORT = """
mutation($worker: String!, $reports: [InstanceReport!]!) {
  reportTaskInstances(workerId: $worker, reports: $reports) {
    accepted ignored refused { taskInstanceId message }
  }
}"""


def sequential_tool(name: str) -> Tool:
    tool = Tool(name=name)
    tool.set_default_cluster_name("sequential")
    return tool


def bind_one(unique: str, command: str = "true") -> tuple:
    tool = sequential_tool(f"protocol_{unique}")
    template = tool.get_task_template(template_name="t", command_template=command)
    task = template.create_task(name="only")
    wf = tool.create_workflow(name="protocol", workflow_args=unique)
    wf.add_task(task)
    return wf, task


CLUSTER_WORKERS = """
query { clusters { name workers { id alive } } }
"""


def alive_workers(stack: Stack, cluster: str, at_least: int) -> set[str]:
    """The ids of the workers serving ``cluster`` now, if there are ``at_least``; else none."""
    with GraphQLClient(stack.url) as client:
        clusters = client.execute(CLUSTER_WORKERS)["clusters"]
    ids = {w["id"] for c in clusters if c["name"] == cluster for w in c["workers"] if w["alive"]}
    return ids if len(ids) >= at_least else set()


def test_two_workers_never_run_one_instance_twice(
    stack: Stack, server_url: str, unique: str, tmp_path: Path
) -> None:
    second = WorkerThread(stack.url, "multiprocess", 4, stack.log_dir)
    try:
        # both serve the cluster before the run starts, so both may claim any of its tasks
        serving = wait_until(
            lambda: alive_workers(stack, "multiprocess", at_least=2), "both workers serve"
        )
        tool = Tool(name=f"two_workers_{unique}")
        tool.set_default_cluster_name("multiprocess")
        template = tool.get_task_template(
            template_name="t", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
        )
        tasks = [
            template.create_task(n=n, cmd=f"echo ran >> {tmp_path}/{n}; sleep 0.05")
            for n in range(120)
        ]
        wf = tool.create_workflow(name="two", workflow_args=unique)
        wf.add_tasks(tasks)
        assert wf.run().final_status == "DONE"
    finally:
        second.stop()
    for n in range(120):
        assert (tmp_path / str(n)).read_text() == "ran\n", f"task {n} ran more than once"
    # Which worker claimed which task is the scheduler's business; that each task has one
    # attempt, by a worker serving the cluster, is the rule.
    for task in tasks:
        instances = task_instances(stack.url, task.task_id)
        assert len(instances) == 1
        assert instances[0]["workerId"] in serving


def test_a_claimed_instance_is_not_claimed_again(
    stack: Stack, server_url: str, unique: str
) -> None:
    wf, task = bind_one(unique)
    wf.run(detach=True)
    # The stack's own workers only serve multiprocess, so these claims are alone.
    with GraphQLClient(stack.url) as client:
        first = client.execute(CLAIM, {"cluster": "sequential", "worker": "a", "limit": 10})
        second = client.execute(CLAIM, {"cluster": "sequential", "worker": "b", "limit": 10})
        claimed = first["claimTaskInstances"]["instances"]
        assert [c["taskId"] for c in claimed] == [task.task_id]
        assert second["claimTaskInstances"]["instances"] == []
        iid = claimed[0]["id"]
        done = client.execute(
            REPORT,
            {
                "worker": "a",
                "reports": [
                    {"taskInstanceId": iid, "status": "LAUNCHED", "distributorId": "1"},
                    {"taskInstanceId": iid, "status": "RUNNING"},
                    {"taskInstanceId": iid, "status": "DONE", "exitCode": 0},
                ],
            },
        )
        assert done["reportTaskInstances"] == {"accepted": 3, "ignored": [], "refused": []}
        late = client.execute(
            REPORT,
            {"worker": "a", "reports": [{"taskInstanceId": iid, "status": "ERROR", "exitCode": 1}]},
        )
        assert late["reportTaskInstances"]["ignored"] == [iid]
    assert [i["status"] for i in task_instances(stack.url, task.task_id)] == ["DONE"]


def test_illegal_report_is_refused_with_a_reason(
    stack: Stack, server_url: str, unique: str
) -> None:
    wf, task = bind_one(unique)
    wf.run(detach=True)
    with GraphQLClient(stack.url) as client:
        claimed = client.execute(CLAIM, {"cluster": "sequential", "worker": "a", "limit": 1})
        iid = claimed["claimTaskInstances"]["instances"][0]["id"]
        result = client.execute(
            REPORT,
            {"worker": "a", "reports": [{"taskInstanceId": iid, "status": "DONE", "exitCode": 0}]},
        )
    refused = result["reportTaskInstances"]["refused"]
    assert refused == [
        {"taskInstanceId": iid, "message": f"instance {iid} is INSTANTIATED; it cannot become DONE"}
    ]
    assert [i["status"] for i in task_instances(stack.url, task.task_id)] == ["INSTANTIATED"]


def test_lost_heartbeat_is_retried(
    make_database, tmp_path: Path, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that claims and then goes silent: the reaper retries its task."""
    monkeypatch.setenv("JOBMON_HEARTBEAT_INTERVAL", "0.5")
    monkeypatch.setenv("JOBMON_REAPER_INTERVAL", "0.1")
    monkeypatch.setenv("JOBMON_LEASE_GRACE", "0.5")
    assert Settings().report_within == pytest.approx(1.5)
    server = start(port=0, db_url=make_database("sqlite"))
    monkeypatch.setenv("JOBMON_SERVER_URL", server.url)
    try:
        wf, task = bind_one(unique)
        wf.run(detach=True)
        with GraphQLClient(server.url) as client:
            client.execute(CLAIM, {"cluster": "sequential", "worker": "silent", "limit": 1})
        worker = WorkerThread(server.url, "sequential", 1, tmp_path)
        try:

            def statuses() -> list[str]:
                return [i["status"] for i in task_instances(server.url, task.task_id)]

            wait_until(lambda: statuses()[-1] == "DONE", "a retry runs to its end", 60, 0.05)
            statuses_seen = statuses()
            # The silent worker's attempt was declared lost; a retry ran to its end.
            assert statuses_seen[0] == "NO_HEARTBEAT"
        finally:
            worker.stop()
    finally:
        server.stop()


def test_refusals_before_anything_runs(stack: Stack, server_url: str, unique: str) -> None:
    tool = sequential_tool(f"refusals_{unique}")
    template = tool.get_task_template(
        template_name="t", command_template="echo {a}", node_args=["a"]
    )
    with pytest.raises(ValueError, match="'b'"):
        template.create_task(a=1, b=2)
    with pytest.raises(ValueError, match="missing"):
        template.create_task()
    with pytest.raises(ValueError, match="not a node, task or op arg"):
        tool.get_task_template(template_name="u", command_template="echo {x}", node_args=[])

    a, b, c = (template.create_task(a=i) for i in range(3))
    a.add_upstream(c)
    b.add_upstream(a)
    c.add_upstream(b)
    wf = tool.create_workflow(name="cycle", workflow_args=unique)
    wf.add_tasks([a, b, c])
    with pytest.raises(ValueError, match="cycle"):
        wf.bind()
    assert wf.workflow_id is None

    with pytest.raises(ValueError, match="name"):
        template.create_task(a=9, name="bad\nname")

    other = sequential_tool(f"refusals_dup_{unique}")
    tt = other.get_task_template(template_name="t", command_template="echo {a}", node_args=["a"])
    root = tt.create_task(a=0)
    first, again = tt.create_task(a=1), tt.create_task(a=1, upstream_tasks=[root])
    wf2 = other.create_workflow(name="dup", workflow_args=unique)
    with pytest.raises(ValueError, match="upstream"):
        wf2.add_tasks([root, first, again])
        wf2.bind()


def test_server_refuses_unknown_cluster_and_ragged_batches(
    stack: Stack, server_url: str, unique: str
) -> None:
    tool = Tool(name=f"unknown_cluster_{unique}")
    tool.set_default_cluster_name("no_such_cluster")
    task = tool.get_task_template(template_name="t", command_template="true").create_task()
    wf = tool.create_workflow(name="unknown", workflow_args=unique)
    wf.add_task(task)
    with pytest.raises(ValidationFailed, match="unknown cluster 'no_such_cluster'.*multiprocess"):
        wf.bind()

    bad_batch = """mutation { bindTasks(workflowId: 1, tasks: {templateVersionIds: [1, 1],
      names: ["a"], commands: ["true"], nodeArgs: [{}], taskArgs: [{}], maxAttempts: [1],
      resourceIndexes: [0], resources: [{clusterName: "sequential", resources: {}}]}) {
        __typename ... on Error { message } } }"""
    answer = stack.query(bad_batch)["bindTasks"]
    assert answer["__typename"] == "ValidationError"
    assert "templateVersionIds has 2 entries but names has 1" in answer["message"]


def test_unreachable_server_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    client = GraphQLClient("http://127.0.0.1:9", retries=1, backoff_start=0.01)
    with pytest.raises(ServerUnreachable, match="http://127.0.0.1:9/graphql"):
        client.execute("{ __typename }")


def test_a_worker_that_stopped_waiting_is_not_handed_work(
    stack: Stack, server_url: str, unique: str, tmp_path: Path
) -> None:
    claim = """mutation { claimTaskInstances(clusterName: "sequential", workerId: "gone",
                                             limit: 10, waitSeconds: 20) { instances { id } } }"""
    with pytest.raises(httpx.ReadTimeout):  # the worker gives up and hangs up
        httpx.post(f"{stack.url}/graphql", json={"query": claim}, timeout=1.0)
    tool = Tool(name=f"gone_{unique}")
    tool.set_default_cluster_name("sequential")
    template = tool.get_task_template(
        template_name="t", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name="gone", workflow_args=unique)
    task = template.create_task(n=1)
    wf.add_task(task)
    wf.run(detach=True)
    worker = WorkerThread(stack.url, "sequential", 1, tmp_path)
    try:
        wait_until(
            lambda: any(i["status"] == "DONE" for i in task_instances(stack.url, task.task_id)),
            "the task is done",
            30,
        )
    finally:
        worker.stop()
    [instance] = task_instances(stack.url, task.task_id)
    assert instance["workerId"] != "gone"


def test_usage_counts_every_attempt_and_takes_the_median_of_the_latest(
    stack: Stack, server_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usage, "SAMPLE_SIZE", 10)  # the server runs in this process
    tool = sequential_tool(f"usage_{unique}")
    template = tool.get_task_template(
        template_name="u", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name="usage", workflow_args=unique)
    wf.add_tasks(template.create_tasks(n=range(30)))
    wf.run(detach=True)
    with GraphQLClient(stack.url) as client:
        claim = {"cluster": "sequential", "worker": "u", "limit": 30}
        claimed = client.execute(CLAIM, claim)["claimTaskInstances"]["instances"]
        assert len(claimed) == 30
        reports = []
        for rank, instance in enumerate(sorted(claimed, key=lambda i: i["id"]), start=1):
            base = {"taskInstanceId": instance["id"]}
            reports += [
                {**base, "status": "LAUNCHED", "distributorId": str(rank)},
                {**base, "status": "RUNNING"},
                {
                    **base,
                    "status": "DONE",
                    "exitCode": 0,
                    "maxRssBytes": rank * 2**20,
                    "wallclockSeconds": float(rank),
                },
            ]
        client.execute(REPORT, {"worker": "u", "reports": reports})
        templates = client.execute(
            "query($id: Int!) { workflow(id: $id) { ... on Workflow { templates {"
            " resourceUsage { numInstances memoryBytes { min median max }"
            " runtimeSeconds { min median max } } } } } }",
            {"id": wf.workflow_id},
        )["workflow"]["templates"]
    used = templates[0]["resourceUsage"]
    assert used["numInstances"] == 30  # count, min and max: every attempt
    assert used["memoryBytes"] == {"min": 2**20, "median": 25.5 * 2**20, "max": 30 * 2**20}
    assert used["runtimeSeconds"] == {"min": 1.0, "median": 25.5, "max": 30.0}  # the latest 10
