"""Jobmon's CLI reference (docsource/user_guide/cli_reference.rst, monitoring.rst,
advanced/advanced_usage.rst): every command and flag as written there, against a real
server."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from jobmon_client import Tool, WorkflowRunStatus

from .conftest import JobmonCLI


@pytest.fixture
def ran(server_url: str, unique: str) -> dict[str, int]:
    """A DONE workflow of a chain a -> b -> c, and a failed one."""
    tool = Tool(name="cli_spellings")
    tool.set_default_cluster_name("multiprocess")
    step = tool.get_task_template(
        template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    wf = tool.create_workflow(f"done_{unique}", "cli-done")
    a, b, c = (step.create_task(n=i, cmd="echo hi") for i in range(3))
    b.add_upstream(a)
    c.add_upstream(b)
    wf.add_tasks([a, b, c])
    assert wf.run() == "D"
    bad = tool.create_workflow(f"failed_{unique}", "cli-failed")
    bad.add_task(step.create_task(n=9, cmd="exit 2", max_attempts=1))
    assert bad.run() == WorkflowRunStatus.ERROR
    assert a.task_id and b.task_id and c.task_id and wf.workflow_id and bad.workflow_id
    return {
        "wf": wf.workflow_id,
        "failed": bad.workflow_id,
        "a": a.task_id,
        "b": b.task_id,
        "c": c.task_id,
    }


def test_status_commands_in_jobmon_spellings(jobmon: JobmonCLI, ran: dict[str, int]) -> None:
    wf, failed = str(ran["wf"]), str(ran["failed"])
    both = jobmon.json("workflow_status", "-w", wf, failed, "-n")
    assert sorted(r["workflow_id"] for r in both) == sorted([ran["wf"], ran["failed"]])
    [one] = jobmon.json("workflow_status", "--workflow_id", wf, "--json")
    assert one["status"] == "DONE"
    assert "cli-done" in jobmon.run("workflow_status", "-w", wf).stdout

    tasks = jobmon.json("workflow_tasks", "--workflow_id", wf, "-s", "PENDING", "DONE", "-n")
    assert sorted(t["task_id"] for t in tasks) == sorted([ran["a"], ran["b"], ran["c"]])
    assert jobmon.json("workflow_tasks", "-w", failed, "-s", "FATAL", "-n")[0]["status"] == (
        "ERROR_FATAL"
    )

    ids = [str(ran["a"]), str(ran["b"])]
    attempts = jobmon.json("task_status", "-t", *ids, "-s", "done", "-n")
    assert sorted(t["task_id"] for t in attempts) == sorted([ran["a"], ran["b"]])
    assert jobmon.json("task_status", "--task_ids", *ids, "-n")[0]["attempts"]

    deps = jobmon.json("task_dependencies", "--task_id", str(ran["b"]), "--json")
    assert [u["id"] for u in deps["upstream"]] == [ran["a"]]
    assert [d["id"] for d in deps["downstream"]] == [ran["c"]]

    paths = jobmon.json("get_filepaths", "-w", wf, "-l", "20", "-n")
    assert len(paths) == 3
    named = jobmon.json("get_filepaths", "--workflow_id", wf, "-j", "step_n-1", "-n")
    assert [p["task_id"] for p in named] == [ran["b"]]
    assert len(jobmon.json("get_filepaths", "-w", wf, "-a", "step", "--limit", "2", "-n")) == 2


def test_self_service_commands_in_jobmon_spellings(
    jobmon: JobmonCLI, ran: dict[str, int], tmp_path: Path
) -> None:
    wf = str(ran["wf"])
    jobmon.run("concurrency_limit", "--workflow_id", wf, "--max_tasks", "3")
    assert jobmon.json("workflow_status", "-w", wf, "-n")[0]["workflow_id"] == ran["wf"]

    # "-s G" reruns the task and everything downstream of it, and reopens the DONE workflow
    jobmon.run("update_task_status", "-t", str(ran["b"]), "-w", wf, "-s", "G")
    statuses = {t["task_id"]: t["status"] for t in jobmon.json("workflow_tasks", "-w", wf, "-n")}
    assert statuses == {ran["a"]: "DONE", ran["b"]: "REGISTERING", ran["c"]: "REGISTERING"}
    # workflow_resume waits for the run by default, as Jobmon's does
    done = jobmon.run(
        "workflow_resume",
        "-w",
        wf,
        "-c",
        "multiprocess",
        "--timeout",
        "30",
        "--seconds-until-timeout",
        "300",
    )
    assert "DONE" in done.stdout
    [after] = jobmon.json("workflow_status", "-w", wf, "-n")
    assert after["status"] == "DONE"
    jobmon.run(
        "update_task_status", "--task_ids", str(ran["c"]), "--workflow_id", wf, "--new_status", "D"
    )

    refused = jobmon.run("workflow_reset", "-w", wf, "-p", ok=False)
    assert refused.returncode == 1 and "--partial-reset is not supported" in refused.stderr
    assert jobmon.json("workflow_reset", "--workflow_id", wf, "--json")["status"] == "REGISTERING"

    target = tmp_path / "resources.yaml"
    jobmon.run("task_template_resources", "-w", str(ran["failed"]), "-p", str(target))
    assert target.exists()
    usage = jobmon.json("task_template_resources", "--workflow_id", wf, "-n")
    assert usage[0]["template"] == "step"


def test_version_and_update_config(jobmon: JobmonCLI, tmp_path: Path) -> None:
    version = jobmon.run("version").stdout.strip()
    assert version and version == jobmon.run("--version").stdout.strip()
    config = tmp_path / "config.toml"
    jobmon.run("update_config", "http.retries_attempts", "15", "--config-file", str(config))
    jobmon.run("update_config", "http.service_url", "http://x:1", "--config-file", str(config))
    assert tomllib.loads(config.read_text()) == {
        "http": {"retries_attempts": 15},
        "server_url": "http://x:1",
    }


def test_jobmon_grouped_command_spellings(jobmon: JobmonCLI, ran: dict[str, int]) -> None:
    """Jobmon's newer grouped commands (its cli/main.py): -o json, workflow logs,
    task update -s, config set/show, version --components."""
    wf = str(ran["wf"])
    [row] = jobmon.json_output("workflow", "status", "-w", wf, "-o", "json")
    assert row["workflow_id"] == ran["wf"]
    assert "cli-done" in jobmon.run("workflow", "status", "-w", wf, "-o", "table").stdout
    logs = jobmon.json_output("workflow", "logs", "-w", wf, "-a", "step", "-o", "json")
    assert len(logs) == 3
    tasks = jobmon.json_output("task", "status", "-t", str(ran["a"]), str(ran["b"]), "-o", "json")
    assert len(tasks) == 2
    jobmon.run("task", "update", "-t", str(ran["c"]), "-w", wf, "--status", "G")
    assert jobmon.json("workflow_tasks", "-w", wf, "-s", "PENDING", "-n")[0]["task_id"] == ran["c"]
    assert jobmon.run("version", "--components").stdout.startswith("jobmon ")


def test_config_set_and_show(jobmon: JobmonCLI, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    jobmon.run("config", "set", "distributor.poll_interval", "5", "--config-file", str(config))
    shown = jobmon.json_output("config", "show", "--config-file", str(config), "--json")
    assert shown["config"] == {"distributor": {"poll_interval": 5}}
