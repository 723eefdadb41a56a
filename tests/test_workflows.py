"""Workflows run end to end against a real server and a real worker, on every database."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobmon_client import TaskTemplate, Tool

from tests.conftest import cluster_tool
from tests.helpers import read_stamps, stamp_command, task_instances, workflow


def shell_template(tool: Tool) -> TaskTemplate:
    """A template whose tasks run any shell command, one task per value of ``n``."""
    return tool.get_task_template(
        template_name="t",
        command_template="{cmd} # {n}",
        node_args=["n"],
        task_args=[],
        op_args=["cmd"],
    )


def test_quickstart_runs_to_done(server_url: str, unique: str, tmp_path: Path) -> None:
    tool = cluster_tool(f"location_processor_{unique}")
    process = tool.get_task_template(
        template_name="process_location",
        command_template="echo {location_id} {year} > {out}/loc_{location_id}",
        node_args=["location_id"],
        task_args=["year"],
        op_args=["out"],
    )
    aggregate = tool.get_task_template(
        template_name="aggregate", command_template="cat {out}/loc_* > {out}/all", op_args=["out"]
    )
    wf = tool.create_workflow(
        name="locations", workflow_args=f"v1_{unique}", max_concurrently_running=50
    )
    tasks = process.create_tasks(location_id=range(20), year=2026, out=str(tmp_path))
    agg = aggregate.create_task(name="aggregate", out=str(tmp_path), upstream_tasks=tasks)
    wf.add_tasks([*tasks, agg])

    result = wf.run()

    assert result.final_status == "DONE"
    assert (result.total_tasks, result.done_count, result.failed_count) == (21, 21, 0)
    lines = sorted((tmp_path / "all").read_text().split("\n")[:-1], key=lambda s: int(s.split()[0]))
    assert lines == [f"{i} 2026" for i in range(20)]
    counts = {
        c["status"]: c["count"] for c in workflow(server_url, result.workflow_id)["taskCounts"]
    }
    assert counts["DONE"] == 21 and sum(counts.values()) == 21


def test_layers_start_only_after_their_upstream(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    tool = cluster_tool(f"layers_{unique}")
    template = tool.get_task_template(
        template_name="step",
        command_template="{cmd} # {layer} {i}",
        node_args=["layer", "i"],
        task_args=[],
        op_args=["cmd"],
    )
    wf = tool.create_workflow(name="layers", workflow_args=unique)
    layers: list[list] = []
    for layer in range(3):
        upstream = layers[-1] if layers else []
        layers.append(
            [
                template.create_task(
                    layer=layer,
                    i=i,
                    upstream_tasks=upstream,
                    cmd=stamp_command(tmp_path, f"{layer}_{i}", 0.2),
                )
                for i in range(3)
            ]
        )
    wf.add_tasks([t for layer in layers for t in layer])

    assert wf.run().final_status == "DONE"

    for layer in (1, 2):
        upstream_end = max(read_stamps(tmp_path, f"{layer - 1}_{i}")[1] for i in range(3))
        start = min(read_stamps(tmp_path, f"{layer}_{i}")[0] for i in range(3))
        assert start >= upstream_end, f"layer {layer} started before layer {layer - 1} ended"


def test_task_that_fails_twice_then_succeeds(server_url: str, unique: str, tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    tool = cluster_tool(f"flaky_{unique}")
    template = tool.get_task_template(
        template_name="flaky", command_template="{cmd}", node_args=[], task_args=[], op_args=["cmd"]
    )
    flaky = template.create_task(
        name="flaky",
        max_attempts=3,
        cmd=f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; "
        f"echo attempt $n failed >&2; [ $n -ge 3 ]",
    )
    wf = tool.create_workflow(name="flaky", workflow_args=unique)
    wf.add_task(flaky)

    result = wf.run()

    assert result.final_status == "DONE"
    instances = task_instances(server_url, flaky.task_id)
    assert [i["status"] for i in instances] == ["ERROR", "ERROR", "DONE"]
    assert [i["exitCode"] for i in instances] == [1, 1, 0]
    errors = wf.get_errors()[flaky.task_id]["errors"]
    assert [e["description"].strip() for e in errors] == ["attempt 1 failed", "attempt 2 failed"]


def test_fatal_task_stops_its_downstream_and_fails_the_workflow(
    server_url: str, unique: str
) -> None:
    tool = cluster_tool(f"fatal_{unique}")
    template = shell_template(tool)
    bad = template.create_task(n=1, cmd="echo no input file >&2; exit 4", max_attempts=2)
    good = template.create_task(n=2, cmd="true")
    after_bad = template.create_task(n=3, cmd="true", upstream_tasks=[bad])
    wf = tool.create_workflow(name="fatal", workflow_args=unique)
    wf.add_tasks([bad, good, after_bad])

    result = wf.run()

    assert result.final_status == "FAILED"
    assert result.failed_task_ids == [bad.task_id]
    assert (result.done_count, result.failed_count) == (1, 1)
    assert [i["status"] for i in task_instances(server_url, bad.task_id)] == ["ERROR", "ERROR"]
    assert task_instances(server_url, after_bad.task_id) == []
    errors = wf.get_errors()[bad.task_id]["errors"]
    assert errors[-1]["description"].strip() == "no input file"
    assert errors[-1]["exit_code"] == 4


def test_resume_reruns_only_unfinished_tasks(server_url: str, unique: str, tmp_path: Path) -> None:
    flag = tmp_path / "input_ready"

    def build() -> tuple:
        tool = cluster_tool(f"resume_{unique}")
        template = shell_template(tool)
        first = template.create_task(n=1, cmd="true")
        needs_fix = template.create_task(
            n=2, cmd=f"test -e {flag}", upstream_tasks=[first], max_attempts=1
        )
        last = template.create_task(n=3, cmd="true", upstream_tasks=[needs_fix])
        wf = tool.create_workflow(name="resume", workflow_args=unique)
        wf.add_tasks([first, needs_fix, last])
        return wf, first, needs_fix, last

    wf, first, needs_fix, last = build()
    assert wf.run().final_status == "FAILED"

    again, *_ = build()
    with pytest.raises(Exception, match="resume=True"):
        again.run()

    flag.touch()
    resumed, first2, needs_fix2, last2 = build()
    result = resumed.run(resume=True)

    assert result.final_status == "DONE"
    assert resumed.workflow_id == wf.workflow_id
    assert len(task_instances(server_url, first2.task_id)) == 1
    assert [i["status"] for i in task_instances(server_url, needs_fix2.task_id)] == [
        "ERROR",
        "DONE",
    ]
    assert len(task_instances(server_url, last2.task_id)) == 1


def test_fail_fast_stops_at_the_first_fatal_task(server_url: str, unique: str) -> None:
    tool = cluster_tool(f"failfast_{unique}")
    template = shell_template(tool)
    bad = template.create_task(n=1, cmd="exit 1", max_attempts=1)
    slow = template.create_task(n=2, cmd="sleep 60")
    wf = tool.create_workflow(name="failfast", workflow_args=unique)
    wf.add_tasks([bad, slow])

    result = wf.run(fail_fast=True)

    assert result.final_status == "FAILED"
    assert result.elapsed_time < 50
    assert result.done_count == 0
    slow_instances = task_instances(server_url, slow.task_id)
    assert all(i["status"] in ("KILL_SELF", "ERROR_FATAL") for i in slow_instances)


def test_concurrency_limit_is_never_exceeded(server_url: str, unique: str, tmp_path: Path) -> None:
    tool = cluster_tool(f"limit_{unique}")
    template = shell_template(tool)
    tasks = [template.create_task(n=n, cmd=stamp_command(tmp_path, str(n), 0.3)) for n in range(12)]
    wf = tool.create_workflow(name="limit", workflow_args=unique, max_concurrently_running=3)
    wf.add_tasks(tasks)

    assert wf.run().final_status == "DONE"

    edges = []
    for n in range(12):
        start, end = read_stamps(tmp_path, str(n))
        edges += [(start, 1), (end, -1)]
    running = peak = 0
    for _, delta in sorted(edges, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    assert peak == 3  # the limit was reached, and never passed (the worker has 4 slots)


def test_seconds_until_timeout_halts_the_run(server_url: str, unique: str) -> None:
    tool = cluster_tool(f"timeout_{unique}")
    template = tool.get_task_template(
        template_name="t", command_template="sleep {s}", node_args=["s"]
    )
    task = template.create_task(s=60)
    wf = tool.create_workflow(name="timeout", workflow_args=unique)
    wf.add_task(task)

    result = wf.run(seconds_until_timeout=2)

    assert result.final_status == "HALTED"
    assert result.elapsed_time < 30
    assert workflow(server_url, wf.workflow_id)["latestRun"]["status"] == "STOPPED"
