"""Compute resources: checked where they are given, and read from Jobmon's YAML files.

Nothing here contacts a server: a Tool only talks to one when a workflow is bound.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jobmon_client import Tool, WorkflowDefinitionError
from jobmon_client.resources import RESOURCE_KEYS, SettingsResolver, check_resources
from jobmon_client.slurm.submit import sbatch_resource_args
from jobmon_client.task_template import TaskTemplate

RESOURCES_YAML = """\
tool_resources:
  slurm:
    cores: 1
    memory: "1G"
    runtime: "1h"
    queue: "all.q"
  multiprocess:
    cores: 2
task_template_resources:
  process_location:
    slurm:
      memory: "2G"
      runtime: 1:30:00    # YAML reads an unquoted clock as seconds: 5400
      sbatch: {qos: high, exclusive: true}
  aggregate:
    multiprocess:
      cores: 4
"""


@pytest.fixture
def tool() -> Tool:
    tool = Tool(name="location_processor", server_url="http://127.0.0.1:9")
    tool.set_default_cluster_name("multiprocess")
    return tool


@pytest.fixture
def process(tool: Tool) -> TaskTemplate:
    return tool.get_task_template(
        template_name="process_location",
        command_template="python process.py --location {location_id}",
        node_args=["location_id"],
    )


@pytest.fixture
def resources_file(tmp_path: Path) -> str:
    path = tmp_path / "resources.yaml"
    path.write_text(RESOURCES_YAML)
    return str(path)


# ---- check_resources ----------------------------------------------------------------


def test_every_known_key_is_accepted() -> None:
    resources = {
        "cores": 4,
        "memory": "1.5GB",
        "runtime": "2-00:00:00",
        "queue": "all.q",
        "project": "proj_lsae",
        "constraints": "avx2",
        "gpus": 0,
        "sbatch": ["--exclusive"],
        "stdout": "/tmp/out",
        "stderr": "/tmp/err",
    }
    checked = check_resources(resources, "task 'a'")
    assert checked == resources and checked is not resources
    assert set(RESOURCE_KEYS) == set(resources)
    assert check_resources({"memory": 2, "runtime": 600, "sbatch": {"qos": "high"}}, "x")
    assert check_resources({"sbatch": {"exclusive": True, "requeue": None, "nice": 5}}, "x")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("cores", 0, "at least 1, got 0"),
        ("cores", 1.5, "got 1.5"),
        ("cores", "2", "got '2'"),
        ("cores", True, "got True"),
        ("memory", "12X", "memory '12X' is not a size such as '512M', '8G' or 2 (GB)"),
        ("memory", 0, "must be more than 0"),
        ("memory", "-1G", "'-1G'"),
        ("runtime", "1h30m", "runtime '1h30m' is not a duration"),
        ("runtime", 0, "must be more than 0"),
        ("runtime", None, "runtime None"),
        ("queue", "", "non-empty string, got ''"),
        ("queue", 3, "non-empty string, got 3"),
        ("project", "  ", "non-empty string"),
        ("constraints", ["avx2"], "non-empty string, got ['avx2']"),
        ("gpus", -1, "at least 0, got -1"),
        ("gpus", "1", "got '1'"),
        ("sbatch", "--exclusive", "must be a list"),
        ("sbatch", ["--qos=high", ""], "must be a list of non-empty strings"),
        ("sbatch", {"qos": 1.5}, "sbatch option 'qos' has the value 1.5"),
        ("sbatch", {"qos": ["a"]}, "sbatch option 'qos'"),
    ],
)
def test_a_bad_value_names_the_owner_and_the_key(key: str, value: Any, expected: str) -> None:
    with pytest.raises(WorkflowDefinitionError) as error:
        check_resources({"cores": 1, key: value}, "task 'fit_1'")
    message = str(error.value)
    assert message.startswith(f"task 'fit_1': compute resource '{key}': ")
    assert expected in message


def test_an_unknown_key_lists_the_known_ones_and_points_to_sbatch() -> None:
    with pytest.raises(WorkflowDefinitionError) as error:
        check_resources({"cores": 1, "qos": "high"}, "template 'fit'")
    message = str(error.value)
    assert message.startswith("template 'fit': unknown compute resource 'qos'")
    assert all(key in message for key in RESOURCE_KEYS)
    assert '"sbatch"' in message


def test_resources_must_be_a_dict() -> None:
    with pytest.raises(WorkflowDefinitionError, match="must be a dict with str keys"):
        check_resources([("cores", 1)], "tool 't'")
    with pytest.raises(WorkflowDefinitionError, match="must be a dict with str keys"):
        check_resources({1: "a"}, "tool 't'")


# ---- where resources enter ----------------------------------------------------------


def test_tool_defaults_are_checked(tool: Tool) -> None:
    with pytest.raises(WorkflowDefinitionError, match="tool 'location_processor'.*'memory'"):
        tool.set_default_compute_resources_from_dict("slurm", {"memory": "lots"})
    assert tool.default_compute_resources == {}


def test_template_defaults_are_checked(tool: Tool, process: TaskTemplate) -> None:
    with pytest.raises(
        WorkflowDefinitionError, match="task template 'process_location'.*'runtime'"
    ):
        process.set_default_compute_resources_from_dict("slurm", {"runtime": "forever"})
    with pytest.raises(WorkflowDefinitionError, match="task template 'agg'.*'cpus'"):
        tool.get_task_template(
            template_name="agg", command_template="agg", default_compute_resources={"cpus": 2}
        )
    assert process.default_compute_resources == {}


def test_a_named_task_is_named(process: TaskTemplate) -> None:
    with pytest.raises(
        WorkflowDefinitionError,
        match=r"^task 'loc_5' of template 'process_location': compute resource 'cores'",
    ):
        process.create_task(name="loc_5", location_id=5, compute_resources={"cores": 0})


def test_an_unnamed_task_is_named_by_its_default_name(process: TaskTemplate) -> None:
    with pytest.raises(WorkflowDefinitionError) as error:
        process.create_task(location_id=5, compute_resources={"memory": "8X"})
    assert str(error.value).startswith(
        "task 'process_location_location_id-5' of template 'process_location': "
        "compute resource 'memory': memory '8X'"
    )
    task = process.create_task(location_id=5, compute_resources={"memory": "8G"})
    assert task.name == "process_location_location_id-5"  # the name the message used


def test_create_tasks_names_the_node_args(process: TaskTemplate) -> None:
    with pytest.raises(WorkflowDefinitionError) as error:
        process.create_tasks(location_id=[1, 2], compute_resources={"queue": ""})
    message = str(error.value)
    assert "tasks with node args {'location_id': [1, 2]}" in message
    assert "template 'process_location'" in message and "'queue'" in message


# ---- YAML ---------------------------------------------------------------------------


def test_tool_defaults_from_yaml(tool: Tool, resources_file: str) -> None:
    tool.set_default_compute_resources_from_yaml("slurm", resources_file)
    assert tool.default_compute_resources == {
        "slurm": {"cores": 1, "memory": "1G", "runtime": "1h", "queue": "all.q"}
    }
    tool.set_default_compute_resources_from_yaml("multiprocess", resources_file)
    assert tool.default_compute_resources["multiprocess"] == {"cores": 2}


def test_template_defaults_from_yaml(process: TaskTemplate, resources_file: str) -> None:
    process.set_default_compute_resources_from_yaml("slurm", resources_file)
    defaults = process.default_compute_resources["slurm"]
    assert defaults == {
        "memory": "2G",
        "runtime": 5400,
        "sbatch": {"qos": "high", "exclusive": True},
    }
    assert sbatch_resource_args(defaults) == [
        "--mem=2048M",
        "--time=01:30:00",
        "--qos=high",
        "--exclusive",
    ]


def test_get_task_template_reads_yaml_for_the_tools_cluster(
    tool: Tool, resources_file: str
) -> None:
    tool.set_default_cluster_name("slurm")
    tool.set_default_compute_resources_from_yaml("slurm", resources_file)
    template = tool.get_task_template(
        template_name="process_location",
        command_template="python process.py --location {location_id}",
        node_args=["location_id"],
        yaml_file=resources_file,
    )
    assert template.default_compute_resources["slurm"]["memory"] == "2G"
    task = template.create_task(location_id=1, compute_resources={"cores": 8})
    settings = SettingsResolver(None, None).resolve(task)
    assert settings.cluster_name == "slurm"
    assert settings.resources == {
        "cores": 8,
        "memory": "2G",
        "runtime": 5400,
        "queue": "all.q",
        "sbatch": {"qos": "high", "exclusive": True},
    }


def test_get_task_template_reads_yaml_for_a_given_cluster(tool: Tool, resources_file: str) -> None:
    template = tool.get_task_template(
        template_name="aggregate",
        command_template="python agg.py",
        default_cluster_name="multiprocess",
        yaml_file=resources_file,
    )
    assert template.default_compute_resources == {"multiprocess": {"cores": 4}}
    assert template.default_cluster_name == "multiprocess"


def test_get_task_template_with_yaml_needs_a_cluster(resources_file: str) -> None:
    tool = Tool(name="no_cluster", server_url="http://127.0.0.1:9")
    with pytest.raises(WorkflowDefinitionError, match="need a cluster.*default_cluster_name"):
        tool.get_task_template(
            template_name="aggregate", command_template="agg", yaml_file=resources_file
        )


def test_a_missing_key_is_named_with_the_file(
    tool: Tool, process: TaskTemplate, resources_file: str
) -> None:
    with pytest.raises(WorkflowDefinitionError) as error:
        tool.set_default_compute_resources_from_yaml("gpu_cluster", resources_file)
    message = str(error.value)
    assert resources_file in message
    assert "no key 'gpu_cluster' under ['tool_resources']" in message

    with pytest.raises(WorkflowDefinitionError) as error:
        process.set_default_compute_resources_from_yaml("multiprocess", resources_file)
    assert "no key 'multiprocess' under ['task_template_resources']['process_location']" in str(
        error.value
    )

    other = tool.get_task_template(template_name="other", command_template="true")
    with pytest.raises(WorkflowDefinitionError, match="no key 'other'"):
        other.set_default_compute_resources_from_yaml("slurm", resources_file)


def test_a_file_without_the_section(tool: Tool, tmp_path: Path) -> None:
    path = tmp_path / "only_templates.yaml"
    path.write_text("task_template_resources: {}\n")
    with pytest.raises(WorkflowDefinitionError, match="no key 'tool_resources' under the top"):
        tool.set_default_compute_resources_from_yaml("slurm", str(path))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(WorkflowDefinitionError, match="empty.yaml' has no key 'tool_resources'"):
        tool.set_default_compute_resources_from_yaml("slurm", str(empty))


def test_a_missing_file_is_named(tool: Tool, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(WorkflowDefinitionError) as error:
        tool.set_default_compute_resources_from_yaml("slurm", missing)
    assert missing in str(error.value) and "No such file" in str(error.value)


def test_malformed_yaml_is_named(tool: Tool, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("tool_resources:\n  slurm: {cores: 1\n")
    with pytest.raises(WorkflowDefinitionError) as error:
        tool.set_default_compute_resources_from_yaml("slurm", str(path))
    assert f"'{path}' is not valid YAML" in str(error.value)


def test_bad_values_in_yaml_name_the_file_and_the_key(tool: Tool, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tool_resources:\n  slurm:\n    memory: 2GB\n    mem_per_cpu: 1G\n")
    with pytest.raises(WorkflowDefinitionError) as error:
        tool.set_default_compute_resources_from_yaml("slurm", str(path))
    message = str(error.value)
    assert f"tool 'location_processor' (from '{path}')" in message
    assert "unknown compute resource 'mem_per_cpu'" in message

    path.write_text("tool_resources:\n  slurm:\n")
    with pytest.raises(WorkflowDefinitionError, match="must be a dict.*got None"):
        tool.set_default_compute_resources_from_yaml("slurm", str(path))


def test_retry_policy_expands_a_function_into_values_per_retry() -> None:
    from jobmon_client.retry_policy import RetryPolicy

    policy = RetryPolicy.checked(
        {"memory": lambda mb: mb * 2, "runtime": 0.5}, ["long", "bigmem"], "task 'a'"
    )
    assert policy is not None
    assert policy.wire_scales({"memory": "1G", "runtime": "1h"}, max_attempts=4) == {
        "memory": ["2048M", "4096M", "8192M"],
        "runtime": 0.5,
    }
    assert policy.fallback_queues == ("long", "bigmem")
    listed = RetryPolicy.checked({"memory": iter(["2G", "4G"])}, None, "task 'a'")
    assert listed is not None and listed.wire_scales({}, 3) == {"memory": ["2G", "4G"]}
    assert RetryPolicy.checked(None, None, "task 'a'") is None


@pytest.mark.parametrize(
    ("scales", "queues", "message"),
    [
        ({"cores": 0.5}, None, "memory and runtime, not 'cores'"),
        ({"memory": -1}, None, "at least 0"),
        ({"memory": ["2X"]}, None, "2X"),
        ({"memory": "lots"}, None, "a fraction, a list of values or a function"),
        (None, "bigmem", "a list of queue names"),
    ],
)
def test_retry_policy_refuses_what_it_cannot_use(scales: Any, queues: Any, message: str) -> None:
    from jobmon_client.retry_policy import RetryPolicy

    with pytest.raises(WorkflowDefinitionError, match=re.escape(message)):
        RetryPolicy.checked(scales, queues, "task 'a'")
