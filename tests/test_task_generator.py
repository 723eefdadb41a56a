"""Task generator workflows against a real server and real workers, on every database:
custom types, a raising function seen through the CLI, special characters, a module
outside the environment, resume after a fix, and identity."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests import task_generator_funcs as funcs
from tests.conftest import Stack, WorkerThread, cluster_tool
from tests.helpers import task_instances
from tests.task_generator_funcs import NASTY, REPO, Draws, Measure, YearRange, describe

TIMEOUT = 300
JOBMON = str(Path(sys.executable).with_name("jobmon"))


@pytest.fixture(autouse=True)
def node_can_import_the_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks import ``tests.task_generator_funcs``: the checkout is on their PYTHONPATH, as
    an installed package would be."""
    paths = [str(REPO), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


@pytest.fixture(params=["multiprocess", "sequential"])
def cluster(request: pytest.FixtureRequest, stack: Stack, server_url: str) -> Iterator[str]:
    """A cluster with a worker: the stack's multiprocess one, or a sequential one."""
    if request.param == "multiprocess":
        yield "multiprocess"
        return
    worker = WorkerThread(stack.url, "sequential", 1, stack.log_dir)
    try:
        yield "sequential"
    finally:
        worker.stop()


def read(out: Path, label: str) -> dict[str, Any]:
    return dict(json.loads((out / f"{label}.json").read_text(encoding="utf-8")))


def test_a_workflow_of_generators_with_custom_types_runs_done(
    cluster: str, unique: str, tmp_path: Path
) -> None:
    tool = cluster_tool("tg_demo", cluster)
    wf = tool.create_workflow(name="fits", workflow_args=f"fits_{cluster}_{unique}")
    arguments: dict[str, Any] = {
        "years": YearRange(2020, 2025),
        "out": tmp_path,
        "draws": Draws(0.025, 0.975),
        "measure": Measure.CASES,
        "ranges": [[YearRange(1990, 2000), YearRange(2000, 2010)]],
        "start": datetime.date(2024, 2, 29),
        "weights": {"under_5": 0.25, "over_80": 1e-9},
        "tags": frozenset({"b", "it's"}),
        "pair": (7, True),
    }
    fits = funcs.fit.create_tasks(location_id=[1, 2, 3], **arguments)
    summary = funcs.summarize.create_task(out=tmp_path, upstream_tasks=fits)
    wf.add_tasks([*fits, summary])

    result = wf.run(seconds_until_timeout=TIMEOUT)

    assert result.final_status == "DONE"
    assert (result.total_tasks, result.done_count) == (4, 4)
    assert [t.name for t in fits] == [f"fit:location_id={i}" for i in (1, 2, 3)]
    for location_id in (1, 2, 3):
        expected = {
            "location_id": describe(location_id),
            **{k: describe(v) for k, v in arguments.items() if k != "out"},
            "ranges": describe(arguments["ranges"][0]),
        }
        assert read(tmp_path, f"fit_{location_id}") == expected
    assert json.loads((tmp_path / "summary.json").read_text()) == [
        f"fit_{i}.json" for i in (1, 2, 3)
    ]


def test_a_raising_function_fails_with_its_traceback_in_task_status(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    tool = cluster_tool("tg_demo", "multiprocess")
    wf = tool.create_workflow(name="raises", workflow_args=f"raises_{unique}")
    odd, even = funcs.fails_for_odd.create_tasks(location_id=[1, 2], out=tmp_path)
    wf.add_tasks([odd, even])

    result = wf.run(seconds_until_timeout=TIMEOUT)

    assert result.final_status == "FAILED"
    assert result.failed_task_ids == [odd.task_id]
    [attempt] = task_instances(server_url, odd.task_id)  # max_attempts=1 on the generator
    assert (attempt["status"], attempt["exitCode"]) == ("ERROR", 1)

    cli = [JOBMON, "task", "status", "-t", str(odd.task_id)]
    shown = subprocess.run(
        [*cli, "--json", "--server", server_url], capture_output=True, text=True, check=True
    )
    [task] = json.loads(shown.stdout)
    error = task["attempts"][0]["error"]
    assert error.startswith("Traceback (most recent call last):")
    assert 'task_generator_funcs.py", line' in error and "in fails_for_odd" in error
    assert 'raise ValueError(f"location {location_id} has no data")' in error
    assert error.rstrip().endswith("ValueError: location 1 has no data")
    assert "runner.py" not in error
    table = subprocess.run(
        [*cli, "--server", server_url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert "ValueError: location 1 has no data" in table.stdout
    [error_entry] = wf.get_errors()[odd.task_id]["errors"]
    assert error_entry["exit_code"] == 1 and error_entry["description"] == error


def test_special_characters_round_trip_through_a_worker(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    nasty = [*NASTY, f"$(touch {marker})", f"`touch {marker}`", f"'; touch {marker}; '"]
    tool = cluster_tool("tg_demo", "multiprocess")
    wf = tool.create_workflow(name="chars", workflow_args=f"chars_{unique}")
    tasks = [
        funcs.echo.create_task(
            out=tmp_path,
            label=f"case{i}",
            text=text,
            maybe=text,
            items=nasty,
            mapping={text: text, "k": text},
            path=tmp_path / f"{i}{text.replace('/', '_')}",
        )
        for i, text in enumerate(nasty)
    ]
    wf.add_tasks(tasks)

    assert wf.run(seconds_until_timeout=TIMEOUT).final_status == "DONE"

    for i, text in enumerate(nasty):
        assert read(tmp_path, f"case{i}") == {
            "text": {"str": text},
            "maybe": {"str": text},
            "items": {"list": [{"str": s} for s in nasty]},
            "mapping": {"dict": {text: {"str": text}, "k": {"str": text}}},
            "path": {"Path": str(tmp_path / f"{i}{text.replace('/', '_')}")},
        }
    assert not marker.exists()


MODULE = """
from pathlib import Path
from jobmon_client import task_generator

@task_generator(serializers={{}}, tool_name="tg_demo", naming_args=["n"], max_attempts=1,
                **OPTIONS)
def step(n: int, out: Path) -> None:
    {body}
    (out / f"step_{{n}}").write_text("done")
"""


def load(path: Path, name: str, body: str, with_source_path: bool = True) -> ModuleType:
    """Write a module outside every import path and import it from its file."""
    options = "module_source_path=__file__" if with_source_path else ""
    path.write_text(MODULE.format(body=body).replace("**OPTIONS", options))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_module_outside_the_environment_is_found_and_resume_reruns_only_the_failed(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    source = tmp_path / "outside.py"
    name = f"outside_{unique}"
    bug = 'assert n != 2, "a bug for n=2"'

    def build(module: ModuleType) -> tuple[Any, list[Any]]:
        tool = cluster_tool("tg_demo", "multiprocess")
        wf = tool.create_workflow(name="outside", workflow_args=f"outside_{unique}")
        first = module.step.create_task(n=1, out=tmp_path)
        second = module.step.create_task(n=2, out=tmp_path, upstream_tasks=[first])
        third = module.step.create_task(n=3, out=tmp_path, upstream_tasks=[second])
        wf.add_tasks([first, second, third])
        return wf, [first, second, third]

    wf, tasks = build(load(source, name, bug))
    assert f"--module_source_path {source}" in tasks[0].command
    assert wf.run(seconds_until_timeout=TIMEOUT).final_status == "FAILED"
    assert [p.name for p in sorted(tmp_path.glob("step_*"))] == ["step_1"]
    error = wf.get_errors()[tasks[1].task_id]["errors"][0]["description"]
    assert "AssertionError: a bug for n=2" in error

    fixed, again = build(load(source, name, "pass  # fixed"))
    result = fixed.run(resume=True, seconds_until_timeout=TIMEOUT)

    assert result.final_status == "DONE"
    assert fixed.workflow_id == wf.workflow_id
    assert [t.task_id for t in again] == [t.task_id for t in tasks]
    attempts = [[i["status"] for i in task_instances(server_url, t.task_id)] for t in again]
    assert attempts == [["DONE"], ["ERROR", "DONE"], ["DONE"]]
    assert sorted(p.name for p in tmp_path.glob("step_*")) == ["step_1", "step_2", "step_3"]


def test_without_module_source_path_the_node_says_what_to_do(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    module = load(tmp_path / "elsewhere.py", f"elsewhere_{unique}", "pass", with_source_path=False)
    tool = cluster_tool("tg_demo", "multiprocess")
    wf = tool.create_workflow(name="elsewhere", workflow_args=f"elsewhere_{unique}")
    task = module.step.create_task(n=1, out=tmp_path)
    wf.add_task(task)

    assert wf.run(seconds_until_timeout=TIMEOUT).final_status == "FAILED"

    [error] = wf.get_errors()[task.task_id]["errors"]
    assert error["exit_code"] == 2
    assert f"cannot import module 'elsewhere_{unique}'" in error["description"]
    assert "module_source_path=" in error["description"]


def test_the_same_calls_bind_to_the_same_tasks_and_changed_arguments_to_new_ones(
    server_url: str, unique: str, tmp_path: Path
) -> None:
    def build(years: YearRange) -> tuple[Any, list[Any]]:
        tool = cluster_tool("tg_demo", "multiprocess")
        wf = tool.create_workflow(name="identity", workflow_args=f"identity_{unique}")
        tasks = funcs.fit.create_tasks(location_id=[1, 2], years=years, out=tmp_path)
        wf.add_tasks(tasks)
        return wf, tasks

    wf, tasks = build(YearRange(2020, 2025))
    assert wf.run(seconds_until_timeout=TIMEOUT).final_status == "DONE"

    same, same_tasks = build(YearRange(2020, 2025))
    result = same.run(resume=True, seconds_until_timeout=TIMEOUT)
    assert result.final_status == "DONE"
    assert same.workflow_id == wf.workflow_id
    assert [t.task_id for t in same_tasks] == [t.task_id for t in tasks]
    assert [len(task_instances(server_url, t.task_id)) for t in same_tasks] == [1, 1]

    changed, changed_tasks = build(YearRange(2020, 2030))
    changed.bind()
    assert changed.workflow_id != wf.workflow_id
    assert not {t.task_id for t in changed_tasks} & {t.task_id for t in tasks}
    assert [t.name for t in changed_tasks] == [t.name for t in tasks]
