"""Jobmon's documented Python examples, ported by changing the imports, cluster names and
paths only, run against a real server with a multiprocess worker.

The sources are Jobmon's docsource/: getting_started/quickstart.rst, user_guide/workflows.rst,
tasks.rst, compute_resources.rst, monitoring.rst, advanced/advanced_usage.rst, and the
example files quickstart_health_example.py and create_tasks_example.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import helpers
import pytest
from jobmon_client import (
    DuplicateNodeArgsError,
    NodeDependencyNotExistError,
    TaskStatus,
    Tool,
    ValidationFailed,
    WorkflowRunStatus,
)
from jobmon_client.exceptions import WorkflowAlreadyComplete, WorkflowAlreadyExists
from jobmon_client.resources import ClusterUndecided

from .conftest import JobmonCLI

PY = sys.executable


def test_quickstart_status_is_D(server_url: str, unique: str) -> None:
    """getting_started/quickstart.rst, "Your First Workflow"."""
    tool = Tool(name="quickstart_tutorial")
    tool.set_default_cluster_name("multiprocess")  # upstream: "sequential"
    template = tool.get_task_template(
        template_name="echo_template",
        command_template="echo {message}",
        node_args=["message"],
    )
    workflow = tool.create_workflow(name="my_first_workflow", workflow_args=f"quickstart_{unique}")
    task1 = template.create_task(name="say_hello", message="Hello from Jobmon!")
    task2 = template.create_task(name="say_goodbye", message="Goodbye from Jobmon!")
    task2.add_upstream(task1)
    workflow.add_tasks([task1, task2])
    status = workflow.run()
    assert status == "D"
    assert status == WorkflowRunStatus.DONE
    assert f"{status}" == "D"  # upstream prints "Workflow completed with status: D"
    assert task1.final_status == TaskStatus.DONE and task2.final_status == "D"


def test_workflows_page_checks_and_resume(server_url: str, unique: str, tmp_path: Path) -> None:
    """user_guide/workflows.rst: run()'s status against the constants; resume by recreating;
    the same workflow_args and tasks without resume are refused."""

    def script(fail: bool) -> object:
        tool = Tool(name="my_application")
        tool.set_default_cluster_name("multiprocess")
        template = tool.get_task_template(
            template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
        )
        workflow = tool.create_workflow(name="my_workflow", workflow_args=f"v1_{unique}")
        marker = tmp_path / "fixed"
        cmd = "false" if fail else "true"
        workflow.add_tasks(
            [
                template.create_task(n=1, cmd="true"),
                template.create_task(n=2, cmd=cmd, max_attempts=1),
            ]
        )
        assert marker  # the second task fails on the first run only
        return workflow

    first = script(fail=True)
    status = first.run()  # type: ignore[attr-defined]
    assert status == WorkflowRunStatus.ERROR and status != WorkflowRunStatus.DONE
    assert status.final_status == "E"  # the result's status, as advanced_usage.rst reads it
    with pytest.raises(WorkflowAlreadyExists):
        script(fail=True).run()  # type: ignore[attr-defined]
    # "By Recreating": the same workflow_args; the failed task's command now succeeds, which
    # changes no identity (cmd is an op arg)
    resumed = script(fail=False)
    assert resumed.run(resume=True) == WorkflowRunStatus.DONE  # type: ignore[attr-defined]
    with pytest.raises(WorkflowAlreadyComplete):
        script(fail=False).run()  # type: ignore[attr-defined]
    # resumed again when DONE: DONE at once (Jobmon raises WorkflowAlreadyComplete here too)
    assert script(fail=False).run(resume=True) == "D"  # type: ignore[attr-defined]


def test_positional_workflow_args_and_attributes(
    server_url: str, unique: str, jobmon: JobmonCLI
) -> None:
    """workflows.rst "Workflow Attributes" and tasks.rst "Task Attributes"; Jobmon's
    create_workflow takes workflow_args first."""
    tool = Tool(name="attributes_example")
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="t", command_template="echo {location_id}", node_args=["location_id"]
    )
    workflow = tool.create_workflow(
        f"v1_{unique}",
        "my_workflow",
        workflow_attributes={"release_id": 123, "description": "Production run for Q4"},
    )
    assert (workflow.workflow_args, workflow.name) == (f"v1_{unique}", "my_workflow")
    task = template.create_task(
        name="my_task", location_id=1, task_attributes={"location_id": 1, "model_version": "2.1"}
    )
    task.add_attribute("stage", "fit")
    workflow.add_task(task)
    assert workflow.run() == "D"
    workflow.add_attributes({"reviewed": "yes"})
    stored = workflow.client.execute(
        "query($w: Int!, $t: Int!) { workflow(id: $w) { ... on Workflow { attributes } } "
        "task(id: $t) { ... on Task { attributes } } }",
        {"w": workflow.workflow_id, "t": task.task_id},
    )
    assert stored["workflow"]["attributes"] == {
        "release_id": "123",
        "description": "Production run for Q4",
        "reviewed": "yes",
    }
    assert stored["task"]["attributes"] == {
        "location_id": "1",
        "model_version": "2.1",
        "stage": "fit",
    }
    # the CLI shows them
    wf_id, task_id = str(workflow.workflow_id), str(task.task_id)
    [row] = jobmon.json("workflow_status", "-w", wf_id, "-n")
    assert row["attributes"]["release_id"] == "123"
    assert "release_id=123" in jobmon.run("workflow_status", "-w", wf_id).stdout
    assert "model_version=2.1" in jobmon.run("task_status", "-t", task_id).stdout
    assert jobmon.json("task_status", "-t", task_id, "-n")[0]["attributes"]["stage"] == "fit"
    # Jobmon's add_task_attributes, given the task's id
    from jobmon_client import add_task_attributes

    assert add_task_attributes({"score": 0.5}, task_id=task.task_id)["score"] == "0.5"


def test_a_slurm_only_resource_dict_goes_to_slurm_not_the_local_machine(
    server_url: str, unique: str
) -> None:
    """create_tasks_example.py and compute_resources.rst: resources named for "slurm" only.
    Jobmon makes that cluster the default; a task never runs where nobody asked."""
    tool = Tool(name="my_example_tool")  # upstream writes Tool(tool_name=...), which it refuses
    template = tool.get_task_template(
        template_name="my_example_task_template",
        command_template="python model_script.py --loc_id {location_id}",
        node_args=["location_id"],
    )
    tool.set_default_compute_resources_from_dict("slurm", {"queue": "all.q", "cores": 1})
    workflow = tool.create_workflow(f"slurm_only_{unique}")
    workflow.add_tasks(template.create_tasks(location_id=[1, 2, 3]))
    # this server has no Slurm worker registered: the bind names the cluster it chose
    with pytest.raises(ValidationFailed, match="unknown cluster 'slurm'"):
        workflow.bind()

    nowhere = Tool(name="my_example_tool")
    plain = nowhere.get_task_template(
        template_name="my_example_task_template",
        command_template="python model_script.py --loc_id {location_id}",
        node_args=["location_id"],
    )
    undecided = nowhere.create_workflow(f"undecided_{unique}")
    undecided.add_tasks(plain.create_tasks(location_id=[1, 2, 3]))
    with pytest.raises(ClusterUndecided, match="my_example_task_template_location_id-1"):
        undecided.bind()


def test_health_example_three_phases(server_url: str, unique: str, tmp_path: Path) -> None:
    """quickstart_health_example.py: templates with default resources (stdout/stderr as in
    upstream), create_tasks without node args, get_tasks_by_node_args."""
    docs = Path(__file__).parent / "quickstart_tasks"
    tool = Tool(name="quickstart_tool_python")
    workflow = tool.create_workflow(name=f"quickstart_workflow_{unique}")
    logs = tmp_path / "logs"
    resources = {
        "cores": 1,
        "memory": "1G",
        "runtime": "1m",
        "stdout": str(logs),
        "stderr": str(logs),
    }
    data_prep_template = tool.get_task_template(
        default_compute_resources=resources,
        template_name="quickstart_data_prep_template",
        default_cluster_name="multiprocess",
        command_template=f"{PY} {docs}/data_prep.py --location_set_id {{location_set_id}} "
        "--root_data_dir {root_data_dir} --log_level {log_level}",
        node_args=[],
        task_args=["location_set_id", "root_data_dir"],
        op_args=["log_level"],
    )
    location_template = tool.get_task_template(
        default_compute_resources=resources,
        template_name="quickstart_location_template",
        default_cluster_name="multiprocess",
        command_template=f"{PY} {docs}/one_location.py --location_id {{location_id}} "
        "--root_data_dir {root_data_dir} --log_level {log_level} ",
        node_args=["location_id"],
        task_args=["root_data_dir"],
        op_args=["log_level"],
    )
    summarization_template = tool.get_task_template(
        default_compute_resources=resources,
        template_name="quickstart_summarization_template",
        default_cluster_name="multiprocess",
        command_template=f"{PY} {docs}/summarization.py --root_data_dir {{root_data_dir}} "
        "--log_level {log_level}",
        node_args=[],
        task_args=["root_data_dir"],
        op_args=["log_level"],
    )
    location_set = list(range(5))
    root_data_dir = str(tmp_path / "data")
    data_prep_task = data_prep_template.create_task(
        name="data_prep_task",
        upstream_tasks=[],
        root_data_dir=root_data_dir,
        location_set_id=5,
        log_level="DEBUG",
    )
    workflow.add_tasks([data_prep_task])
    location_tasks = location_template.create_tasks(
        root_data_dir=root_data_dir, location_id=location_set, log_level="DEBUG"
    )
    workflow.add_tasks(location_tasks)
    summarization_task = summarization_template.create_task(
        root_data_dir=root_data_dir, log_level="DEBUG"
    )
    assert summarization_task.name == "quickstart_summarization_template_"  # Jobmon's name
    workflow.add_tasks([summarization_task])
    for loc_id in location_set:
        single_task = workflow.get_tasks_by_node_args(
            "quickstart_location_template", **{"location_id": loc_id}
        )
        single_task[0].add_upstream(data_prep_task)
        summarization_task.add_upstream(single_task[0])
    workflow.bind()
    assert workflow.workflow_id is not None
    status = workflow.run()
    assert status == "D"
    out = tmp_path / "data" / "jobmon_quickstart_example"
    assert (out / "summaries.txt").exists()
    assert len(list(out.glob("location_result_*.txt"))) == 5
    assert len(list(logs.glob("*.out"))) == 7 and len(list(logs.glob("*.err"))) == 7


def test_legacy_resource_names_and_dynamic_resources(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    """compute_resources.rst "Dynamic Resources": a callable, called when the task's
    upstream tasks are done, reading what they wrote; and the legacy names of Jobmon's
    fixtures (num_cores, m_mem_free, max_runtime_seconds)."""
    tool = Tool(name="dynamic_resources")
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="t", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    needs = tmp_path / "resource_needs.txt"
    calls = []

    def get_resources(*args: object, **kwargs: object) -> dict[str, object]:
        # Read from file written by upstream task
        memory_gb = int(needs.read_text())
        calls.append(memory_gb)
        return {"memory": f"{memory_gb}G", "cores": 1, "runtime": "1h"}

    upstream = template.create_task(n=0, cmd=f"echo 2 > {needs}")
    dynamic = template.create_task(
        n=1, cmd="true", compute_resources=get_resources, upstream_tasks=[upstream]
    )
    legacy = template.create_task(
        n=2,
        cmd="true",
        compute_resources={"num_cores": 1, "m_mem_free": "1G", "max_runtime_seconds": 60},
    )
    root = template.create_task(
        n=3, cmd="true", compute_resources_callable=lambda: {"memory": "3G"}
    )
    workflow = tool.create_workflow(f"dynamic_{unique}")
    workflow.add_tasks([upstream, dynamic, legacy, root])
    assert workflow.run() == "D"
    assert calls == [2]  # called once, after the upstream task wrote its file
    asked = workflow.client.execute(
        "query($a: Int!, $b: Int!, $c: Int!) { a: task(id: $a) { ... on Task { computeResources } }"
        " b: task(id: $b) { ... on Task { computeResources } }"
        " c: task(id: $c) { ... on Task { computeResources } } }",
        {"a": dynamic.task_id, "b": legacy.task_id, "c": root.task_id},
    )
    assert asked["a"]["computeResources"] == {"memory": "2G", "cores": 1, "runtime": "1h"}
    assert asked["b"]["computeResources"] == {"cores": 1, "memory": "1G", "runtime": 60}
    assert asked["c"]["computeResources"] == {"memory": "3G"}
    usage = dynamic.resource_usage()
    assert usage["num_attempts"] == 1 and usage["runtime"] is not None
    assert set(usage) >= {"num_attempts", "nodename", "runtime", "memory"}


def test_a_detached_run_runs_dynamic_tasks_with_their_bound_resources(
    server_url: str, unique: str
) -> None:
    tool = Tool(name="dynamic_detached")
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="t", command_template="echo {n}", node_args=["n"]
    )
    called = []
    task = template.create_task(
        n=1,
        compute_resources={"memory": "1G"},
        compute_resources_callable=lambda: called.append(1) or {"memory": "2G"},
    )
    workflow = tool.create_workflow(f"detached_{unique}")
    workflow.add_task(task)
    workflow.run(detach=True)
    helpers.wait_until(
        lambda: helpers.workflow(server_url, workflow.workflow_id)["status"] == "DONE",
        "the detached run finishes",
        120,
        0.2,
    )
    assert called == []  # nobody followed the run to call it
    asked = workflow.client.execute(
        "query($id: Int!) { task(id: $id) { ... on Task { computeResources } } }",
        {"id": task.task_id},
    )
    assert asked["task"]["computeResources"] == {"memory": "1G"}


def test_a_failing_resources_function_stops_the_run_and_a_resume_runs_the_task(
    server_url: str, unique: str
) -> None:
    """The function raising stops the run (Jobmon's run crashes too); the task's hold is
    undone by the next run, which runs it (detached: with the resources it was bound with)."""

    def script(function: Any) -> tuple[Any, Any]:
        tool = Tool(name="dynamic_failing")
        tool.set_default_cluster_name("multiprocess")
        template = tool.get_task_template(
            template_name="t", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
        )
        up = template.create_task(n=0, cmd="true")
        task = template.create_task(
            n=1,
            cmd="true",
            compute_resources={"memory": "1G"},
            compute_resources_callable=function,
            upstream_tasks=[up],
        )
        workflow = tool.create_workflow(f"failing_{unique}")
        workflow.add_tasks([up, task])
        return workflow, task

    def broken() -> dict[str, Any]:
        raise OSError("resource_needs.txt is missing")

    first, _ = script(broken)
    with pytest.raises(ValueError, match=r"task 't_n-1'.*OSError: resource_needs.txt is missing"):
        first.run(seconds_until_timeout=120)
    state = helpers.workflow(server_url, first.workflow_id)
    assert state["status"] == "HALTED"
    again, task = script(broken)
    again.run(resume=True, detach=True, seconds_until_timeout=120)
    helpers.wait_until(
        lambda: helpers.workflow(server_url, again.workflow_id)["status"] == "DONE",
        "the resumed run finishes",
        120,
        0.2,
    )
    asked = again.client.execute(
        "query($id: Int!) { task(id: $id) { ... on Task { status computeResources } } }",
        {"id": task.task_id},
    )["task"]
    assert asked == {"status": "DONE", "computeResources": {"memory": "1G"}}


def test_behaviour_pinned_by_upstream_tests(server_url: str, unique: str) -> None:
    """tests/integration/client/test_task.py and test_workflow.py of Jobmon: equality,
    default names, duplicates and missing downstream tasks, an empty workflow."""
    tool = Tool(name="pinned")
    tool.set_default_cluster_name("multiprocess")
    tt = tool.get_task_template(
        template_name="simple_template", command_template="{arg}", node_args=["arg"]
    )
    a, a_again = tt.create_task(arg="a"), tt.create_task(arg="a")
    assert a == a_again
    b = tt.create_task(arg="b", upstream_tasks=[a, a_again])
    assert b != a and len(b.upstream_tasks) == 1
    assert tt.create_task(arg="a" * 256).name == ("simple_template_arg-" + "a" * 256)[:249]
    assert tt.create_task(arg="abc'abc/abc").name == "simple_template_arg-abc_abc_abc"
    assert tt.create_task(arg="echo 10").name == "simple_template_arg-echo_10"

    two = tool.get_task_template(
        template_name="my_template",
        command_template="{node_arg} {task_arg}",
        node_args=["node_arg"],
        task_args=["task_arg"],
    )
    workflow = tool.create_workflow(f"dupes_{unique}")
    workflow.add_task(two.create_task(node_arg="a", task_arg="a"))
    with pytest.raises(DuplicateNodeArgsError):
        workflow.add_task(two.create_task(node_arg="a", task_arg="b"))

    t1, t2, t3 = (tt.create_task(arg=f"echo {i}") for i in (1, 2, 3))
    t3.add_upstream(t2)
    missing_down = tool.create_workflow(f"TestWF1_{unique}")
    missing_down.add_tasks([t1, t2])
    with pytest.raises(NodeDependencyNotExistError, match="Downstream"):
        missing_down.bind()
    missing_up = tool.create_workflow(f"TestWF2_{unique}")
    missing_up.add_tasks([t1, t3])
    with pytest.raises(NodeDependencyNotExistError, match="Upstream"):
        missing_up.bind()
    complete = tool.create_workflow(f"TestWF3_{unique}")
    complete.add_tasks([t1, t2, t3])
    complete.bind()
    assert len(complete.tasks) == 3

    with pytest.raises(RuntimeError):
        tool.create_workflow(name="test_empty_real_dag").run()


def test_failed_run_errors_and_concurrency_limits(server_url: str, unique: str) -> None:
    """monitoring.rst (result figures, get_errors), advanced_usage.rst and performance.rst
    (set_task_template_max_concurrency_limit)."""
    tool = Tool(name="example_concurrency_tt_tool")
    tool.set_default_cluster_name("multiprocess")
    task_template = tool.get_task_template(
        template_name="concurrency_limit_task_template",
        command_template="{arg}",
        node_args=["arg"],
        task_args=[],
        op_args=[],
    )
    workflow = tool.create_workflow(name="template_workflow", workflow_args=f"conc_{unique}")
    tasks = [task_template.create_task(arg=f"sleep 0.{i}") for i in range(4)]
    failing = task_template.create_task(arg="echo oops >&2; exit 3", max_attempts=1)
    workflow.add_tasks([*tasks, failing])
    workflow.set_task_template_max_concurrency_limit(
        task_template_name=task_template.template_name, limit=2
    )
    result = workflow.run()
    assert result == WorkflowRunStatus.ERROR
    assert (result.done_count, result.total_tasks, result.failed_count) == (4, 5, 1)
    assert result.failed_task_ids == [failing.task_id]
    assert failing.final_status == TaskStatus.ERROR_FATAL
    errors = workflow.get_errors(limit=100)
    entry = errors[failing.task_id]
    assert entry["task_instance_id"] and "oops" in entry["error_log"][0]["description"]
    assert failing.get_errors()["task_instance_id"] == entry["task_instance_id"]
    limits = workflow.client.execute(
        "query($id: Int!) { workflow(id: $id) { ... on Workflow { templates "
        "{ templateName maxConcurrentlyRunning } } } }",
        {"id": workflow.workflow_id},
    )["workflow"]["templates"]
    assert limits == [
        {"templateName": "concurrency_limit_task_template", "maxConcurrentlyRunning": 2}
    ]
    usage = task_template.resource_usage(workflows=[workflow.workflow_id])
    assert usage["num_tasks"] == 4 and usage["max_runtime"] is not None
    two = task_template.resource_usage(
        workflows=[workflow.workflow_id], node_args={"arg": ["sleep 0.0", "sleep 0.1"]}
    )
    assert two["num_tasks"] == 2
    one = task_template.resource_usage(node_args={"arg": "sleep 0.3"})
    assert one["num_tasks"] >= 1
