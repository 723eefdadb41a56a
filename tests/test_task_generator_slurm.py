"""Task generator workflows on the real one-node Slurm: an array of generator tasks with
custom types runs DONE, and a raising function's traceback comes back as its error.

Slurm is started by ``make test`` (scripts/slurm.sh); without it these tests skip, and
fail under CI=true.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobmon_server.embedded import start

from tests import task_generator_funcs as funcs
from tests.conftest import unavailable
from tests.helpers import task_instances
from tests.task_generator_funcs import REPO, Draws, Measure, YearRange, describe
from tests.test_slurm import SlurmStack, _registered, make_tool, slurm_ready, wait_until

TIMEOUT = 300


@pytest.fixture(scope="module")
def slurm(make_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmStack]:  # type: ignore[no-untyped-def]
    if not slurm_ready():
        unavailable("Slurm is not running with the test partitions; run 'scripts/slurm.sh start'")
    server = start(port=0, db_url=make_database("sqlite"))
    stack = SlurmStack(server, tmp_path_factory.mktemp("tg-slurm-logs"))
    try:
        wait_until(lambda: _registered(stack.url), "the worker registers the cluster")
        yield stack
    finally:
        stack.worker.stop()
        server.stop()


@pytest.fixture(autouse=True)
def jobs_can_import_the_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """sbatch passes the worker's environment on to the jobs: put the checkout on it."""
    paths = [str(REPO), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def test_an_array_of_generator_tasks_with_custom_types_runs_done(
    slurm: SlurmStack, tmp_path: Path
) -> None:
    tool = make_tool(slurm.url, "tg_demo")
    wf = tool.create_workflow(name="tg_slurm", workflow_args=str(tmp_path))
    arguments: dict[str, Any] = {
        "years": YearRange(2020, 2025),
        "out": tmp_path,
        "draws": Draws(0.1, 0.9),
        "measure": Measure.CASES,
        "weights": {"it's": 0.5},
    }
    fits = funcs.fit.create_tasks(location_id=[1, 2, 3, 4], **arguments)
    summary = funcs.summarize.create_task(out=tmp_path, upstream_tasks=fits)
    wf.add_tasks([*fits, summary])

    result = wf.run(seconds_until_timeout=TIMEOUT)

    assert result.final_status == "DONE"
    for location_id in (1, 2, 3, 4):
        got = json.loads((tmp_path / f"fit_{location_id}.json").read_text())
        assert got["location_id"] == describe(location_id)
        assert {k: got[k] for k in ("years", "draws", "measure", "weights")} == {
            k: describe(v) for k, v in arguments.items() if k != "out"
        }
    jobs = {task_instances(slurm.url, t.task_id)[0]["distributorId"].split("_")[0] for t in fits}
    assert len(jobs) == 1, f"the fits went out as more than one array: {jobs}"
    assert json.loads((tmp_path / "summary.json").read_text()) == [
        f"fit_{i}.json" for i in (1, 2, 3, 4)
    ]


def test_a_raising_function_on_slurm_fails_with_its_traceback(
    slurm: SlurmStack, tmp_path: Path
) -> None:
    tool = make_tool(slurm.url, "tg_demo")
    wf = tool.create_workflow(name="tg_slurm_raises", workflow_args=str(tmp_path))
    odd, even = funcs.fails_for_odd.create_tasks(location_id=[3, 4], out=tmp_path)
    wf.add_tasks([odd, even])

    result = wf.run(seconds_until_timeout=TIMEOUT)

    assert result.final_status == "FAILED"
    assert result.failed_task_ids == [odd.task_id]
    [error] = wf.get_errors()[odd.task_id]["errors"]
    assert error["exit_code"] == 1
    assert error["description"].startswith("Traceback (most recent call last):")
    assert error["description"].rstrip().endswith("ValueError: location 3 has no data")
    assert (tmp_path / "even_4.json").exists()
