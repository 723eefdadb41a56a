"""Jobmon's client-facing tests (its tests/integration/client/), written anew against this
client: what they pin down holds here, with the differences docs/jobmon-compatibility.md
names (legacy resource names are stored under today's names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobmon_client import Tool, WorkflowRunStatus

YAML = str(Path(__file__).with_name("cluster_resources.yaml"))


def test_yaml_compute_resources_and_scales() -> None:
    """test_tool.py::test_yaml_compute_resources_and_scales"""
    tool = Tool(name="test_resources_scales")
    tt_1 = tool.get_task_template(
        template_name="preprocess", command_template="{arg}", node_args=["arg"]
    )
    tt_2 = tool.get_task_template(
        template_name="model", command_template="{arg}", node_args=["arg"]
    )
    tool.set_default_compute_resources_from_yaml(
        default_cluster_name="sequential", yaml_file=YAML, set_task_templates=True
    )
    tool.set_default_resource_scales_from_yaml(
        default_cluster_name="sequential", yaml_file=YAML, set_task_templates=True
    )
    assert tool.default_cluster_name == "sequential"
    assert tool.default_compute_resources_set["sequential"] == {
        "cores": 2,
        "memory": "2G",
        "runtime": 86400,
        "queue": "null.q",
    }
    assert tool.default_resource_scales_set["sequential"] == {"memory": 0.1, "runtime": 0.1}
    assert tt_1.default_compute_resources_set["sequential"] == {
        "cores": 1,
        "memory": "3G",
        "runtime": 14400,
        "queue": "null.q",
    }
    assert tt_2.default_compute_resources_set["sequential"]["cores"] == 3
    assert tt_1.default_resource_scales_set["sequential"] == {"memory": 0.2, "runtime": 0.3}
    assert tt_2.default_resource_scales_set["sequential"] == {"memory": 0.4, "runtime": 0.6}


def test_task_template_resources_yaml() -> None:
    """test_task_template.py::test_task_template_resources_yaml: the file in
    get_task_template, and set_default_compute_resources_from_yaml in both orders of
    Jobmon's arguments."""
    tool = Tool(name="tt_yaml")
    tt_1 = tool.get_task_template(
        template_name="preprocess",
        command_template="{arg}",
        node_args=["arg"],
        default_cluster_name="sequential",
        yaml_file=YAML,
    )
    tt_2 = tool.get_task_template(
        template_name="model",
        command_template="{arg}",
        node_args=["arg"],
        default_cluster_name="sequential",
    )
    tt_2.set_default_compute_resources_from_yaml(yaml_file=YAML)
    tt_3 = tool.get_task_template(
        template_name="model", command_template="{arg}", node_args=["arg"]
    )
    tt_3.set_default_compute_resources_from_yaml(default_cluster_name="sequential", yaml_file=YAML)
    assert tt_3 is tt_2  # the same name and definition: one template, as in Jobmon
    assert tt_1.default_compute_resources_set["sequential"]["memory"] == "3G"
    assert tt_2.default_compute_resources_set["sequential"] == {
        "cores": 3,
        "memory": "2G",
        "runtime": 86400,
        "queue": "null.q",
    }
    assert tt_1.default_resource_scales_set["sequential"] == {"memory": 0.2, "runtime": 0.3}
    tt_2.set_default_compute_resources_from_yaml(YAML, "sequential")  # Jobmon's positional order


def test_task_template_resources_hierarchy(server_url: str, unique: str) -> None:
    """test_task_template.py::test_task_template_resources (without Jobmon's null.q queue,
    which this server's sequential cluster does not have)."""
    tool = Tool(name="tt_hierarchy")
    workflow = tool.create_workflow(name="test_template_resources", workflow_args=unique)
    task_template = tool.get_task_template(
        template_name="random_template",
        command_template="{arg}",
        node_args=["arg"],
        default_cluster_name="sequential",
        default_compute_resources={"cores": 1, "max_runtime_seconds": 3},
    )
    task1 = task_template.create_task(
        arg="sleep 1",
        cluster_name="sequential",
        compute_resources={"cores": 1, "max_runtime_seconds": 2},
    )
    task2 = task_template.create_task(arg="sleep 2", cluster_name="sequential")
    task3 = task_template.create_task(arg="sleep 3")
    workflow.add_tasks([task1, task2, task3])
    workflow.bind()
    asked = {
        t.task_id: workflow.client.execute(
            "query($id: Int!) { task(id: $id) { ... on Task { clusterName computeResources } } }",
            {"id": t.task_id},
        )["task"]
        for t in (task1, task2, task3)
    }
    assert asked[task1.task_id] == {
        "clusterName": "sequential",
        "computeResources": {"cores": 1, "runtime": 2},
    }
    for task in (task2, task3):
        assert asked[task.task_id]["computeResources"] == {"cores": 1, "runtime": 3}


def test_workflow_attribute_on_resume(server_url: str, unique: str) -> None:
    """test_workflow.py::test_resume_with_old_and_new_workflow_attributes: a resumed
    workflow takes the attributes its script gives now and keeps the others."""

    def script(attributes: dict[str, object]) -> object:
        tool = Tool(name="wf_attributes")
        tool.set_default_cluster_name("multiprocess")
        tt = tool.get_task_template(template_name="t", command_template="{arg}", node_args=["arg"])
        wf = tool.create_workflow(f"resume_{unique}", workflow_attributes=attributes)
        wf.add_task(tt.create_task(arg="echo 1"))
        return wf

    first = script({"location_id": 5, "year": 2019})
    assert first.run() == WorkflowRunStatus.DONE  # type: ignore[attr-defined]
    again = script({"year": 2020, "sex_id": 1})
    again.bind()  # type: ignore[attr-defined]
    stored = again.client.execute(  # type: ignore[attr-defined]
        "query($id: Int!) { workflow(id: $id) { ... on Workflow { attributes } } }",
        {"id": again.workflow_id},  # type: ignore[attr-defined]
    )["workflow"]["attributes"]
    assert stored == {"location_id": "5", "year": "2020", "sex_id": "1"}


def test_task_final_status_after_a_failed_run(server_url: str, unique: str) -> None:
    """test_status_commands.py: each task's final_status after a run ("D", "F", ...)."""
    tool = Tool(name="final_status")
    tool.set_default_cluster_name("multiprocess")
    tt = tool.get_task_template(template_name="t", command_template="{arg}", node_args=["arg"])
    good, bad = tt.create_task(arg="true"), tt.create_task(arg="false", max_attempts=1)
    blocked = tt.create_task(arg="echo never", upstream_tasks=[bad])
    wf = tool.create_workflow(f"final_{unique}")
    wf.add_tasks([good, bad, blocked])
    status = wf.run()
    assert status == "E"
    assert [good.final_status, bad.final_status, blocked.final_status] == ["D", "F", "G"]
    assert status.task_final_statuses[bad.task_id] == "ERROR_FATAL"


@pytest.mark.parametrize("limit", [0, -1])
def test_concurrency_limit_must_be_positive(limit: int) -> None:
    """test_workflow.py::test_concurrency_limit (bounds)."""
    tool = Tool(name="limits")
    with pytest.raises(ValueError, match="positive"):
        tool.create_workflow(max_concurrently_running=limit)
