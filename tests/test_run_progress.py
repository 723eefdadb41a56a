"""``wf.run()`` without a terminal: progress lines at a steady interval, and a last line
that names the failed tasks and the commands that show why."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jobmon_client.progress import LogView, final_line
from jobmon_client.run import RunSnapshot

from tests.conftest import Stack
from tests.test_cli import Jobmon

SCRIPT = """
import sys
from jobmon_client import Tool

tool = Tool(name="progress_" + sys.argv[1])
tool.set_default_cluster_name("multiprocess")
tool.set_default_compute_resources_from_dict(
    "multiprocess", {"cores": 1, "memory": "1G", "runtime": "10m"}
)
step = tool.get_task_template(
    template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
)
tasks = [
    step.create_task(n=i, cmd=f"echo cannot read input {i} >&2; exit 2", max_attempts=1)
    for i in range(7)
]
tasks.append(step.create_task(n=99, cmd="sleep 4"))
wf = tool.create_workflow(name="progress", workflow_args="progress_" + sys.argv[1])
wf.add_tasks(tasks)
print("result", wf.run())
"""
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d jobmon: (.*)$")


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_a_script_without_a_terminal_is_not_silent(
    stack: Stack, tmp_path: Path, unique: str
) -> None:
    script = tmp_path / "wf.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    env = {**os.environ, "JOBMON_SERVER_URL": stack.url, "JOBMON_PROGRESS_INTERVAL": "1"}
    with out.open("w") as stdout, err.open("w") as stderr:  # files: no terminal
        subprocess.run(
            [sys.executable, str(script), unique],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=120,
            check=True,
        )
    assert out.read_text().strip() == "result E"
    lines = [LINE.match(line) for line in err.read_text().splitlines()]
    assert all(lines), err.read_text()
    messages = [m.group(1) for m in lines if m]
    progress, last = messages[:-1], messages[-1]
    # One line at the start, then one a second while the 4 s task runs: the run's status
    # does not change meanwhile, so these come from the interval alone.
    running = [m for m in progress if re.match(r"workflow \d+ RUNNING, run \d+ RUNNING: ", m)]
    assert len(running) >= 3, messages
    wf_id = int(last.split()[1])
    fatal = [
        int(t["task_id"])
        for t in Jobmon(stack.url).json("workflow", "tasks", "-w", str(wf_id), "-s", "FATAL")
    ]
    assert len(fatal) == 7
    named = re.search(r"7 failed: (.*) and 2 more; ", last)
    assert named, last
    assert [int(part.split()[0]) for part in named.group(1).split(", ")] == sorted(fatal)[:5]
    assert last.startswith(f"workflow {wf_id} FAILED after ")
    assert f"their errors: 'jobmon task errors -w {wf_id}'" in last
    logs_command = re.search(r"a task's stderr: 'jobmon (task logs -t \d+)'$", last)
    assert logs_command, last
    shown = Jobmon(stack.url).run(*logs_command.group(1).split())
    assert re.fullmatch(r"cannot read input \d\n", shown.stdout)


def snapshot(run_status: str = "RUNNING", done: int = 0, failed: int = 0) -> RunSnapshot:
    counts = {"DONE": done, "ERROR_FATAL": failed, "RUNNING": 1}
    return RunSnapshot(
        workflow_run_id=3,
        workflow_id=2,
        run_status=run_status,
        workflow_status={"RUNNING": "RUNNING", "DONE": "DONE"}.get(run_status, "FAILED"),
        total_tasks=10,
        task_counts=counts,
        created="2026-01-01T00:00:00",
    )


def test_lines_come_at_a_steady_interval_and_on_every_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = [100.0]
    view = LogView(interval=30, clock=lambda: now[0])
    said = []
    for at, snap in [
        (100, snapshot()),  # the first: at once
        (104, snapshot(done=1)),
        (129, snapshot(done=2)),
        (131, snapshot(done=3)),  # 30 s after the first
        (162, snapshot(done=4)),  # late: the next is due 30 s after this
        (165, snapshot(done=5)),
        (170, snapshot("ERROR", done=5, failed=5)),  # a change: at once
    ]:
        now[0] = at
        view.update(snap)
        said += [line.split("jobmon: ")[1] for line in capsys.readouterr().err.splitlines()]
    assert [s.split(": ")[1].split(",")[0] for s in said] == [
        "0/10 done",
        "3/10 done",
        "4/10 done",
        "5/10 done",
    ]
    assert said[1].endswith("(31s)") and said[-1].startswith("workflow 2 FAILED, run 3 ERROR")
    assert view.seconds_to_next() == 30


def test_the_last_line_names_a_few_failed_tasks_and_counts_the_rest() -> None:
    ended = snapshot("ERROR", done=2, failed=8)
    fatal = [(10 + i, f"model_{i}") for i in range(8)]
    assert final_line(ended, fatal, 75) == (
        "workflow 2 FAILED after 1m15s (run 3 ERROR): 2/10 done, 8 failed: 10 model_0, "
        "11 model_1, 12 model_2, 13 model_3, 14 model_4 and 3 more; their errors: "
        "'jobmon task errors -w 2', a task's stderr: 'jobmon task logs -t 10'"
    )
    done = snapshot("DONE", done=10)
    assert final_line(done, [], 3) == "workflow 2 DONE after 3s (run 3 DONE): 10/10 done"


def test_an_interval_of_zero_writes_lines_only_on_changes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMON_PROGRESS_INTERVAL", "0")
    now = [0.0]
    view = LogView(clock=lambda: now[0])
    for at, snap in [(0, snapshot()), (60, snapshot(done=4)), (600, snapshot("DONE", done=10))]:
        now[0] = at
        view.update(snap)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("jobmon: ")[1].split(":")[0] for line in lines] == [
        "workflow 2 RUNNING, run 3 RUNNING",
        "workflow 2 DONE, run 3 DONE",
    ]
    assert view.seconds_to_next() is None
