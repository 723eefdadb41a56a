"""The R client (client/R/jobmonr): its testthat suite, run by Rscript against a real server.

The package is installed into a temporary library with ``R CMD INSTALL``, then its tests run
with ``JOBMON_SERVER_URL`` set to the server of each backend. R is installed by
``scripts/r.sh``; without it these tests are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import Stack, unavailable
from jobmon_client import Tool
from jobmon_server.auth import create_token
from jobmon_server.db.engine import Database
from jobmon_server.db.migrate import upgrade
from jobmon_server.embedded import start
from jobmon_server.settings import Settings

PACKAGE = Path(__file__).resolve().parent.parent / "client" / "R" / "jobmonr"
# As testthat's JUnit report names them.
WORKFLOW_TESTS = {
    "the_quickstart_runs_to_DONE_in_dependency_order",
    "a_50_task_array_and_one_downstream_task_bind_in_one_batch_and_run",
    "a_failing_task_is_retried_fails_the_workflow_and_resumes_once_fixed",
    "a_run_that_outlives_seconds_until_timeout_is_halted_a_detached_run_goes_on_alone",
    # Jobmon's documented R examples (test-jobmon-examples.R)
    "the_Jobmon_R_quickstart_answers_D_equal_to_the_constants_and_the_names",
    "array_tasks_takes_node_args_as_lists_as_in_the_Jobmon_fork_join_example",
    "the_functions_of_the_Jobmon_R_reference_work_as_documented",
    "the_Jobmon_R_health_example_runs_its_three_phases",
    "the_Jobmon_R_create_tasks_example_is_refused_without_a_cluster_and_runs_with_one",
}


@pytest.fixture(scope="session")
def r_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library holding the jobmonr package as R CMD INSTALL builds it."""
    if shutil.which("Rscript") is None:
        unavailable("R is not installed; scripts/r.sh installs it")
    library = tmp_path_factory.mktemp("rlib")
    installed = subprocess.run(
        ["R", "CMD", "INSTALL", f"--library={library}", str(PACKAGE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "there is no package called" in installed.stderr:
        unavailable(f"an R package jobmonr needs is missing: {installed.stderr[-500:]}")
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    return library


def rscript(
    library: Path, args: list[str], server_url: str, **env_vars: str
) -> subprocess.CompletedProcess[str]:
    """Rscript with ``args`` (``["-e", code]`` or a script and its arguments)."""
    env = {**os.environ, "R_LIBS": str(library), "JOBMON_SERVER_URL": server_url, **env_vars}
    return subprocess.run(["Rscript", *args], capture_output=True, text=True, env=env, timeout=600)


def test_r_package_tests_pass_against_a_real_server(
    stack: Stack, r_library: Path, tmp_path: Path
) -> None:
    report = tmp_path / "testthat.xml"
    code = (
        f'testthat::test_dir("{PACKAGE / "tests" / "testthat"}", package = "jobmonr", '
        'load_package = "installed", stop_on_failure = FALSE, '
        f'reporter = testthat::JunitReporter$new(file = "{report}"))'
    )
    # Jobmon's R health example runs the Python task scripts of tests/compat
    tasks_dir = Path(__file__).resolve().parent / "compat" / "quickstart_tasks"
    result = rscript(
        r_library,
        ["-e", code],
        stack.url,
        JOBMON_TEST_PYTHON=sys.executable,
        JOBMON_TEST_TASKS=str(tasks_dir),
        JOBMON_TEST_DATA=str(tmp_path / "data"),
    )
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes: dict[str, list[str]] = {}
    for case in cases:
        problems = [
            f"{child.tag}: {child.get('message') or ''} {child.text or ''}".strip()
            for child in case
            if child.tag in ("failure", "error", "skipped")
        ]
        outcomes.setdefault(case.get("name", ""), []).extend(problems)
    failed = {name: problems for name, problems in outcomes.items() if problems}
    assert not failed, json.dumps(failed, indent=1)[-6000:]
    missing = WORKFLOW_TESTS - set(outcomes)
    assert not missing, f"the R workflow tests did not run: {missing}; ran {sorted(outcomes)}"
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_r_quickstart_example_runs_and_resumes(
    stack: Stack, r_library: Path, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "quickstart.R"
    out = tmp_path / "out"

    def run_example() -> tuple[int, str]:
        done = rscript(r_library, [str(example), str(out)], stack.url)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "21 of 21 tasks done, 0 failed" in done.stdout
        started = re.search(r"workflow (\d+) 'quickstart_r': run \d+ started", done.stderr)
        assert started, done.stderr[-3000:]
        return int(started.group(1)), done.stderr

    workflow_id, _ = run_example()
    assert (out / "summary.txt").read_text().strip() == "20"
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again, _ = run_example()  # the same directory: the same workflow, resumed
    assert again == workflow_id
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == written  # nothing reran


def test_python_and_r_bind_the_same_workflow(stack: Stack, r_library: Path, unique: str) -> None:
    """Same tool, workflow_args, tasks and edges from either client: one workflow."""
    tool = Tool(name="cross_language", server_url=stack.url)
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="model",
        command_template="echo {location_id} {year} {scale} {out}",
        node_args=["location_id"],
        task_args=["year", "scale"],
        op_args=["out"],
    )
    tasks = template.create_tasks(
        location_id=[1, 2, 1000000, 0.1 + 0.2], year=2026, scale=1 / 3, out="/tmp/a"
    )
    summary = tool.get_task_template(template_name="summary", command_template="echo done")
    last = summary.create_task(upstream_tasks=tasks)
    workflow = tool.create_workflow(name="cross", workflow_args=f"cross_{unique}")
    workflow.add_tasks([*tasks, last])
    workflow_id = workflow.bind()

    code = f"""
    library(jobmonr)
    tool <- tool("cross_language")
    set_default_cluster_name(tool, "multiprocess")
    model <- task_template(tool, "model", "echo {{location_id}} {{year}} {{scale}} {{out}}",
                           node_args = "location_id", task_args = c("year", "scale"),
                           op_args = "out")
    tasks <- array_tasks(model, location_id = c(1, 2, 1e6, 0.1 + 0.2), year = 2026,
                         scale = 1 / 3, out = "/tmp/b")
    summary <- task_template(tool, "summary", "echo done")
    last <- task(summary, upstream_tasks = tasks)
    wf <- bind(add_tasks(workflow(tool, "cross_{unique}", name = "cross"), c(tasks, list(last))))
    ids <- vapply(c(tasks, list(last)), function(t) t$task_id, 0L)
    cat(jsonlite::toJSON(list(workflow_id = wf$workflow_id, task_ids = ids), auto_unbox = TRUE))
    """
    result = rscript(r_library, ["-e", code], stack.url)
    assert result.returncode == 0, result.stderr[-3000:]
    bound = json.loads(result.stdout.strip().splitlines()[-1])
    assert bound["workflow_id"] == workflow_id
    assert bound["task_ids"] == [t.task_id for t in [*tasks, last]]


def test_r_binds_with_a_token_on_a_shared_server(
    make_database, r_library: Path, unique: str
) -> None:  # type: ignore[no-untyped-def]
    db_url = make_database("sqlite")
    upgrade(db_url)
    database = Database(db_url)
    with database.write() as session:
        token = create_token(session, "alice")
    database.dispose()
    server = start(port=0, settings=Settings(db_url=db_url, auth="token"))
    code = f"""
    library(jobmonr)
    tool <- tool("shared_r")
    set_default_cluster_name(tool, "multiprocess")
    tt <- task_template(tool, "t", "echo {{x}}", node_args = "x")
    wf <- bind(add_tasks(workflow(tool, "shared_{unique}"), list(task(tt, x = 1))))
    cat(workflow_status(wf)$user, "\\n")
    """
    try:
        with_token = rscript(r_library, ["-e", code], server.url, JOBMON_TOKEN=token)
        without = rscript(r_library, ["-e", code], server.url, JOBMON_TOKEN="")
    finally:
        server.stop()
    assert with_token.returncode == 0, with_token.stderr[-2000:]
    assert with_token.stdout.split()[-1] == "alice"  # the token's user owns what it binds
    assert without.returncode != 0
    assert "token" in without.stderr and "JOBMON_TOKEN" in without.stderr, without.stderr[-2000:]
