"""The ``jobmon`` executable against a real server with real workflows, on every database."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from jobmon_client import Tool, Workflow
from jobmon_client.transport import ValidationFailed
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests import helpers
from tests.conftest import Stack, cluster_tool, one_backend
from tests.helpers import python_command, workflow

JOBMON = str(Path(sys.executable).parent / "jobmon")
TIMEOUT = 60.0


@dataclass
class Jobmon:
    """Runs ``jobmon`` against one server, as the current user or as someone else."""

    url: str

    def run(
        self, *args: str, user: str | None = None, ok: bool = True, width: int = 250
    ) -> subprocess.CompletedProcess:
        env = {**os.environ, "JOBMON_SERVER_URL": self.url, "COLUMNS": str(width)}
        if user is not None:
            env |= {"USER": user, "LOGNAME": user}
        done = subprocess.run(
            [JOBMON, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def fails(self, *args: str, user: str | None = None) -> str:
        """Run a command that must fail; return its one-line error."""
        done = self.run(*args, user=user, ok=False)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error: ")
        return lines[0]


@dataclass
class Workflows:
    done: Workflow
    failed: Workflow
    failed_task_ids: list[int]
    first_ok_task_id: int
    final_task_id: int


@pytest.fixture(scope="module")
def workflows(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Workflows:
    """A workflow that finished DONE and one that FAILED, with similar errors."""
    suffix = f"{stack.backend}_{time.monotonic_ns()}"
    tool = cluster_tool(f"cli_{suffix}", server_url=stack.url)
    step = tool.get_task_template(
        template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    final = tool.get_task_template(template_name="final", command_template="echo all done")

    big = tool.get_task_template(template_name="big", command_template="{cmd}", op_args=["cmd"])

    done = tool.create_workflow(name="cli-done", workflow_args=f"done_{suffix}")
    steps = [step.create_task(n=i, cmd=f"echo step {i}") for i in range(3)]
    closing = final.create_task(name="final", upstream_tasks=steps)
    # Larger than this process (where the worker runs), so its peak memory is measurable.
    size = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 + 300 * 2**20
    allocate = python_command(f"b = bytearray({size}); b[::4096] = bytes(len(b[::4096]))")
    done.add_tasks([*steps, closing, big.create_task(name="big", cmd=allocate)])
    assert done.run().final_status == "DONE"

    failed = tool.create_workflow(name="cli-failed", workflow_args=f"failed_{suffix}")
    ok = step.create_task(n=0, cmd="echo fine")
    broken = [
        step.create_task(
            n=i,
            cmd=f"echo reading location {i} >&2; echo location {i} has no data >&2; exit 3",
            max_attempts=2,
        )
        for i in range(1, 4)
    ]
    after = final.create_task(name="final", upstream_tasks=[ok, *broken])
    failed.add_tasks([ok, *broken, after])
    assert failed.run().final_status == "FAILED"
    return Workflows(done, failed, [t.task_id for t in broken], ok.task_id, closing.task_id)


@pytest.fixture
def jobmon(stack: Stack) -> Jobmon:
    return Jobmon(stack.url)


def wait_until(check: Callable[[], bool], what: str) -> None:
    helpers.wait_until(check, what, TIMEOUT)


# -- reading -------------------------------------------------------------------------------


def test_workflow_status_counts_tasks_by_status(jobmon: Jobmon, workflows: Workflows) -> None:
    done, failed = workflows.done.workflow_id, workflows.failed.workflow_id
    rows = jobmon.json("workflow", "status", "-w", str(done), "-w", str(failed))
    by_id = {r["workflow_id"]: r for r in rows}
    assert [r["workflow_id"] for r in rows] == [failed, done]  # newest first
    assert by_id[done]["status"] == "DONE"
    assert (by_id[done]["tasks"], by_id[done]["done"], by_id[done]["percent_done"]) == (5, 5, 100)
    assert by_id[done]["run_status"] == "DONE"
    assert by_id[failed]["status"] == "FAILED"
    assert (by_id[failed]["done"], by_id[failed]["fatal"], by_id[failed]["pending"]) == (1, 3, 1)
    assert by_id[failed]["percent_done"] == 20.0

    table = jobmon.run("workflow", "status", "-w", str(failed)).stdout
    assert "cli-failed" in table and "FAILED" in table and "1/5 (20%)" in table
    # Jobmon's name for the same command.
    assert "cli-failed" in jobmon.run("workflow_status", "-w", str(failed)).stdout


def test_workflow_status_of_a_user_lists_their_newest_workflows(
    jobmon: Jobmon, workflows: Workflows
) -> None:
    mine = jobmon.json("workflow", "status", "--limit", "2")
    assert [r["workflow_id"] for r in mine][:1] == [workflows.failed.workflow_id]
    assert len(mine) <= 2
    assert jobmon.json("workflow", "status", "-u", "nobody-has-this-name") == []
    assert "no workflows of nobody" in jobmon.run("workflow", "status", "-u", "nobody").stdout


WORKFLOWS = """
query($tools: [String!], $after: DateTime, $before: DateTime) {
  workflows(tools: $tools, createdAfter: $after, createdBefore: $before, first: 25) {
    items { id toolName created taskCounts { status count } latestRun { id } }
  }
}"""


def test_workflows_filter_by_tool_and_time_with_one_statement_per_field(
    stack: Stack, unique: str
) -> None:
    tool = Tool(name=f"filtered_{unique}", server_url=stack.url)
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="t", command_template="true {n}", node_args=["n"]
    )
    made = []
    for i in range(3):
        wf = tool.create_workflow(name=f"f{i}", workflow_args=f"{unique}-{i}")
        wf.add_tasks(template.create_tasks(n=range(i + 1)))
        made.append(wf.bind())
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        items = stack.query(WORKFLOWS, tools=[tool.name], after=None, before=None)["workflows"]
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    items = items["items"]
    assert [w["id"] for w in items] == made[::-1]  # newest first, only this tool's
    assert {w["toolName"] for w in items} == {tool.name}
    registering = [[c for c in w["taskCounts"] if c["count"]] for w in items]
    assert registering == [[{"status": "REGISTERING", "count": n}] for n in (3, 2, 1)]
    assert all(w["latestRun"] is None for w in items)
    # the page's counts and latest runs are read in one statement each, not one per row
    grouped = [s for s in statements if "GROUP BY task_status_count.workflow_id" in s]
    newest_runs = [s for s in statements if "max(workflow_run.id)" in s]
    assert len(grouped) == 1 and len(newest_runs) == 1

    first = datetime.fromisoformat(items[-1]["created"])
    in_another_zone = (first - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2)))
    later = first + timedelta(minutes=5)

    def ids(after: datetime | None, before: datetime | None) -> list[int]:
        variables = {
            "tools": [tool.name],
            "after": after and after.isoformat(),
            "before": before and before.isoformat(),
        }
        return [w["id"] for w in stack.query(WORKFLOWS, **variables)["workflows"]["items"]]

    assert ids(in_another_zone, later) == made[::-1]
    assert ids(later, None) == []
    assert ids(None, in_another_zone) == []


def test_workflow_tasks_filters_by_status_and_template(
    jobmon: Jobmon, workflows: Workflows
) -> None:
    wf = str(workflows.failed.workflow_id)
    fatal = jobmon.json("workflow", "tasks", "-w", wf, "-s", "FATAL")
    assert sorted(t["task_id"] for t in fatal) == workflows.failed_task_ids
    assert {(t["attempts"], t["latest_exit_code"]) for t in fatal} == {(2, 3)}
    pending = jobmon.json("workflow", "tasks", "-w", wf, "-s", "pending")
    assert [(t["name"], t["status"]) for t in pending] == [("final", "REGISTERING")]
    steps = jobmon.json("workflow", "tasks", "-w", wf, "--template", "step", "--limit", "2")
    assert len(steps) == 2 and {t["template"] for t in steps} == {"step"}
    table = jobmon.run("workflow", "tasks", "-w", wf, "--limit", "2").stdout
    assert "use --limit to see more" in table
    assert "unknown task status 'sleepy'" in jobmon.fails(
        "workflow", "tasks", "-w", wf, "-s", "sleepy"
    )


def test_task_status_shows_each_attempt_with_its_stderr(
    jobmon: Jobmon, workflows: Workflows
) -> None:
    task_id = workflows.failed_task_ids[0]
    [task] = jobmon.json("task", "status", "-t", str(task_id))
    assert task["status"] == "ERROR_FATAL"
    attempts = task["attempts"]
    assert [a["status"] for a in attempts] == ["ERROR", "ERROR"]
    assert {a["exit_code"] for a in attempts} == {3}
    assert all(a["hostname"] and a["distributor_id"] for a in attempts)
    assert attempts[0]["requested_resources"]["memory"] == "1G"
    assert "location 1 has no data" in attempts[-1]["error"]
    table = jobmon.run(
        "task_status", "-t", str(task_id), "-t", str(workflows.first_ok_task_id)
    ).stdout
    assert "location 1 has no data" in table and "DONE" in table
    only_done = jobmon.json("task", "status", "-t", str(task_id), "-s", "DONE")
    assert only_done[0]["attempts"] == []


def test_task_dependencies(jobmon: Jobmon, workflows: Workflows) -> None:
    deps = jobmon.json("task", "dependencies", "-t", str(workflows.final_task_id))
    assert deps["downstream"] == []
    assert len(deps["upstream"]) == 3 and {t["status"] for t in deps["upstream"]} == {"DONE"}
    first = deps["upstream"][0]["id"]
    up = jobmon.json("task_dependencies", "-t", str(first))
    assert [t["id"] for t in up["downstream"]] == [workflows.final_task_id]
    assert "no upstream tasks" in jobmon.run("task", "dependencies", "-t", str(first)).stdout


def test_task_errors_are_grouped_by_similar_message(jobmon: Jobmon, workflows: Workflows) -> None:
    groups = jobmon.json("task", "errors", "-w", str(workflows.failed.workflow_id))
    assert len(groups) == 1
    [group] = groups
    assert (group["count"], group["taskCount"]) == (6, 3)
    assert group["exampleTaskIds"] == workflows.failed_task_ids
    assert group["pattern"] == "location … has no data"
    assert (
        "has no data"
        in jobmon.run("task", "errors", "-w", str(workflows.failed.workflow_id)).stdout
    )
    assert (
        "has no errors"
        in jobmon.run("task", "errors", "-w", str(workflows.done.workflow_id)).stdout
    )


def test_get_filepaths_lists_log_files_of_attempts(jobmon: Jobmon, workflows: Workflows) -> None:
    wf = str(workflows.failed.workflow_id)
    paths = jobmon.json("get_filepaths", "-w", wf, "-a", "step", "-l", "10")
    assert len(paths) == 7  # one good attempt, two of each broken task
    for entry in paths:
        assert Path(entry["stdout"]).exists() and Path(entry["stderr"]).exists()
    broken = [p for p in paths if p["task_id"] == workflows.failed_task_ids[0]]
    assert "has no data" in Path(broken[0]["stderr"]).read_text()
    assert len(jobmon.json("workflow", "filepaths", "-w", wf, "-a", "final")) == 0


def test_template_resources_suggests_a_resources_file(
    jobmon: Jobmon, workflows: Workflows, tmp_path: Path
) -> None:
    out = tmp_path / "resources.yaml"
    rows = jobmon.json(
        "template", "resources", "-w", str(workflows.done.workflow_id), "-o", str(out)
    )
    by_name = {r["template"]: r for r in rows}
    assert by_name["step"]["num_instances"] == 3
    assert by_name["step"]["runtime_seconds"]["median"] >= 0
    # An echo is smaller than the worker: its peak memory cannot be told apart, so none.
    assert by_name["step"]["memory_bytes"]["max"] is None
    assert by_name["big"]["memory_bytes"]["max"] > 300 * 2**20
    suggested = yaml.safe_load(out.read_text())["task_template_resources"]
    assert set(suggested) == {"step", "final", "big"}
    assert suggested["step"]["multiprocess"] == {"runtime": "1m"}
    memory = suggested["big"]["multiprocess"]["memory"]
    assert memory.endswith(("M", "G")) and float(memory[:-1]) > 0
    one = jobmon.json(
        "task_template_resources", "-w", str(workflows.done.workflow_id), "-t", "final"
    )
    assert [r["template"] for r in one] == ["final"]


# -- errors --------------------------------------------------------------------------------


@one_backend
def test_unknown_ids_fail_with_one_sentence(jobmon: Jobmon) -> None:
    assert (
        jobmon.fails("workflow", "status", "-w", "987654")
        == "error: workflow 987654 does not exist"
    )
    assert "workflow 987654 does not exist" in jobmon.fails("workflow", "tasks", "-w", "987654")
    assert "task 987654 does not exist" in jobmon.fails("task", "status", "-t", "987654")
    assert "task 987654 does not exist" in jobmon.fails("task", "dependencies", "-t", "987654")
    assert "workflow 987654 does not exist" in jobmon.fails("workflow", "reset", "-w", "987654")


def test_an_unreachable_server_fails_quickly_with_one_sentence() -> None:
    started = time.monotonic()
    message = Jobmon("http://127.0.0.1:9").fails("workflow", "status")
    assert "cannot reach the Jobmon server at http://127.0.0.1:9/graphql" in message
    assert time.monotonic() - started < TIMEOUT


def test_only_the_owner_may_change_a_workflow(jobmon: Jobmon, workflows: Workflows) -> None:
    wf = str(workflows.failed.workflow_id)
    for args in (
        ("workflow", "reset", "-w", wf),
        ("workflow", "stop", "-w", wf),
        ("workflow", "resume", "-w", wf),
        ("workflow", "concurrency", "-w", wf, "--max-tasks", "3"),
        ("task", "update", "-w", wf, "-t", str(workflows.failed_task_ids[0]), "-s", "DONE"),
    ):
        message = jobmon.fails(*args, user="mallory")
        assert f"workflow {wf} belongs to" in message and "only its owner" in message, args
    assert workflow(jobmon.url, workflows.failed.workflow_id)["status"] == "FAILED"


# -- steering ------------------------------------------------------------------------------


def test_stop_a_running_workflow_and_refuse_updates_while_it_runs(
    jobmon: Jobmon, stack: Stack
) -> None:
    tool = cluster_tool(f"cli_stop_{time.monotonic_ns()}", server_url=stack.url)
    step = tool.get_task_template(
        template_name="sleepy", command_template="sleep {s} # {n}", node_args=["n"], task_args=["s"]
    )
    wf = tool.create_workflow(name="cli-stop", workflow_args="stop")
    tasks = [step.create_task(n=i, s=60) for i in range(2)]
    wf.add_tasks(tasks)
    run = wf.run(detach=True)
    wf_id = str(run.workflow_id)
    wait_until(
        lambda: jobmon.json("workflow", "status", "-w", wf_id)[0]["running"] == 2, "both run"
    )

    message = jobmon.fails("task", "update", "-w", wf_id, "-t", str(tasks[0].task_id), "-s", "D")
    assert f"workflow {wf_id} is running" in message and "jobmon workflow stop" in message
    assert "is running" in jobmon.fails("workflow", "reset", "-w", wf_id)

    stopped = jobmon.json("workflow", "stop", "-w", wf_id)
    assert stopped["status"] == "STOPPED"
    assert workflow(stack.url, run.workflow_id)["status"] == "HALTED"
    assert "no running run to stop" in jobmon.fails("workflow", "stop", "-w", wf_id)


def test_mark_failed_tasks_done_then_resume_finishes_the_workflow(
    jobmon: Jobmon, stack: Stack
) -> None:
    tool = cluster_tool(f"cli_update_{time.monotonic_ns()}", server_url=stack.url)
    step = tool.get_task_template(
        template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    wf = tool.create_workflow(name="cli-update", workflow_args="update")
    bad = step.create_task(n=1, cmd="exit 1", max_attempts=1)
    after = step.create_task(n=2, cmd="true", upstream_tasks=[bad])
    wf.add_tasks([bad, after])
    assert wf.run().final_status == "FAILED"
    wf_id = str(wf.workflow_id)

    marked = jobmon.json("task", "update", "-w", wf_id, "-t", str(bad.task_id), "-s", "DONE")
    assert marked["task_ids"] == [bad.task_id]
    resumed = jobmon.run("workflow", "resume", "-w", wf_id, "-c", "multiprocess", "--wait")
    assert f"workflow {wf_id}: DONE (2/2 done, 0 failed)" in resumed.stdout
    [task] = jobmon.json("task", "status", "-t", str(after.task_id))
    assert task["status"] == "DONE"


def test_rerun_a_task_and_its_downstream_with_recursive_update(
    jobmon: Jobmon, stack: Stack, tmp_path: Path
) -> None:
    tool = cluster_tool(f"cli_rerun_{time.monotonic_ns()}", server_url=stack.url)
    step = tool.get_task_template(
        template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    wf = tool.create_workflow(name="cli-rerun", workflow_args="rerun")
    chain = []
    for i in range(3):
        chain.append(
            step.create_task(
                n=i, cmd=f"echo x >> {tmp_path}/{i}", upstream_tasks=chain[-1:] if chain else []
            )
        )
    wf.add_tasks(chain)
    assert wf.run().final_status == "DONE"
    wf_id = str(wf.workflow_id)

    changed = jobmon.json(
        "update_task_status", "-w", wf_id, "-t", str(chain[1].task_id), "-s", "G", "--recursive"
    )
    assert changed["task_ids"] == [chain[1].task_id, chain[2].task_id]
    jobmon.run("workflow", "resume", "-w", wf_id, "--wait")
    assert [len((tmp_path / str(i)).read_text().split()) for i in range(3)] == [1, 2, 2]


def test_reset_lets_the_script_run_the_workflow_afresh(
    jobmon: Jobmon, stack: Stack, tmp_path: Path
) -> None:
    def script() -> Workflow:
        tool = cluster_tool("cli_reset", server_url=stack.url)
        step = tool.get_task_template(
            template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
        )
        wf = tool.create_workflow(name="cli-reset", workflow_args=f"reset_{tmp_path.name}")
        wf.add_tasks([step.create_task(n=i, cmd=f"echo x >> {tmp_path}/{i}") for i in range(2)])
        return wf

    first = script()
    assert first.run().final_status == "DONE"
    with pytest.raises(ValidationFailed, match="has run before"):
        script().run()

    reset = jobmon.json("workflow", "reset", "-w", str(first.workflow_id))
    assert reset["status"] == "REGISTERING"
    again = script()
    result = again.run()
    assert (result.final_status, again.workflow_id) == ("DONE", first.workflow_id)
    assert [len((tmp_path / str(i)).read_text().split()) for i in range(2)] == [2, 2]


def test_concurrency_limits_apply_to_a_running_workflow(jobmon: Jobmon, stack: Stack) -> None:
    tool = cluster_tool(f"cli_limit_{time.monotonic_ns()}", server_url=stack.url)
    step = tool.get_task_template(
        template_name="sleepy", command_template="sleep {s} # {n}", node_args=["n"], task_args=["s"]
    )
    wf = tool.create_workflow(name="cli-limit", workflow_args="limit", max_concurrently_running=1)
    wf.add_tasks([step.create_task(n=i, s=60) for i in range(4)])
    run = wf.run(detach=True)
    wf_id = str(run.workflow_id)

    def running() -> int:
        row = jobmon.json("workflow", "status", "-w", wf_id)[0]
        return int(row["running"] + row["scheduled"])

    try:
        wait_until(lambda: running() == 1, "one task runs")
        jobmon.run("workflow", "concurrency", "-w", wf_id, "--max-tasks", "4", "-t", "sleepy")
        assert running() == 1  # the workflow's own limit still holds
        jobmon.run("concurrency_limit", "-w", wf_id, "--max-tasks", "3")
        wait_until(lambda: running() == 3, "three tasks run")
        message = jobmon.fails("workflow", "concurrency", "-w", wf_id, "-m", "2", "-t", "nope")
        assert "has no tasks of template 'nope'" in message
    finally:
        jobmon.run("workflow", "stop", "-w", wf_id)


# -- at 80 columns --------------------------------------------------------------------------


def table_cells(output: str, column: str) -> list[str]:
    """The cells of one column of a table as printed, each row's wrapped lines joined."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("┃") and column in line)
    at = [c.strip() for c in lines[header].split("┃")].index(column)
    rows: list[list[str]] = []
    for line in lines[header + 1 :]:
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.split("│")]
        if cells[1] or not rows:  # a row's first line has its first cell; wrapped lines not
            rows.append([])
        if cells[at]:
            rows[-1].append(cells[at])
    return [" ".join(parts) for parts in rows]


def test_tables_at_80_columns_keep_names_whole_and_messages_complete(
    jobmon: Jobmon, stack: Stack
) -> None:
    tool = cluster_tool(f"cli_narrow_{time.monotonic_ns()}", server_url=stack.url)
    template = tool.get_task_template(
        template_name="location_model_estimation",
        command_template="{cmd} # {n}",
        node_args=["n"],
        op_args=["cmd"],
    )
    message = (
        "ValueError: location 3 has no population estimate for year 2031 in the input draws "
        "file /ihme/scratch/draws/v7/population.h5"
    )
    ok = template.create_task(n=1, cmd="true")
    bad = template.create_task(n=2, cmd=f"echo '{message}' >&2; exit 5", max_attempts=1)
    wf = tool.create_workflow(name="narrow_terminal_check", workflow_args="narrow")
    wf.add_tasks([ok, bad])
    assert wf.run().final_status == "FAILED"
    wf_id = str(wf.workflow_id)
    shown = {
        "status": jobmon.run("workflow", "status", "-w", wf_id, width=80).stdout,
        "tasks": jobmon.run("workflow", "tasks", "-w", wf_id, width=80).stdout,
        "task": jobmon.run("task", "status", "-t", str(bad.task_id), width=80).stdout,
        "errors": jobmon.run("task", "errors", "-w", wf_id, width=80).stdout,
    }
    for name, output in shown.items():
        assert max(len(line) for line in output.splitlines()) <= 80, (name, output)
    assert table_cells(shown["status"], "NAME") == ["narrow_terminal_check"]
    assert table_cells(shown["status"], "FATAL") == ["1"]
    names = table_cells(shown["tasks"], "NAME")
    assert names == ["location_model_estimation_n-1", "location_model_estimation_n-2"]
    assert table_cells(shown["tasks"], "STATUS") == ["DONE", "ERROR_FATAL"]
    # The whole message, wrapped at spaces (a path too long for the column may fold).
    tail = table_cells(shown["task"], "STDERR TAIL")
    assert [t.replace(" ", "") for t in tail] == [message.replace(" ", "")]
    assert tail[0].startswith("ValueError: location 3 has no population estimate for year")
    assert table_cells(shown["task"], "EXIT") == ["5"]
    assert f"the whole stderr: jobmon task logs -t {bad.task_id}" in shown["task"]
    grouped = table_cells(shown["errors"], "MESSAGE")
    assert [g.replace(" ", "") for g in grouped] == [message.replace(" ", "")]
    assert table_cells(shown["errors"], "ERRORS") == ["1"]
