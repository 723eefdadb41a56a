"""Quickstart: process 20 locations in parallel, then aggregate them.

Start a local server and worker first (``jobmon up``), or set JOBMON_SERVER_URL. Run
again with the same ``--out`` and ``--resume`` to continue a run that did not finish.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import tempfile
from pathlib import Path

from jobmon_client import Tool, WorkflowRunStatus

EXAMPLES_DIR = Path(__file__).resolve().parent
PYTHON = shlex.quote(sys.executable)


def script(name: str) -> str:
    return f"{PYTHON} {shlex.quote(str(EXAMPLES_DIR / name))}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="output directory (default: a new temporary one)")
    parser.add_argument("--resume", action="store_true", help="continue an earlier run")
    options = parser.parse_args()
    out = str(options.out or tempfile.mkdtemp(prefix="jobmon_quickstart_"))

    tool = Tool(name="location_processor")
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict(
        "multiprocess", {"cores": 1, "memory": "1G", "runtime": "10m"}
    )
    process = tool.get_task_template(
        template_name="process_location",
        command_template=script("process.py")
        + " --location {location_id} --year {year} --out {out}",
        node_args=["location_id"],
        task_args=["year"],
        op_args=["out"],
    )
    aggregate = tool.get_task_template(
        template_name="aggregate",
        command_template=script("agg.py") + " --out {out}",
        op_args=["out"],
    )
    # The output directory is part of workflow_args: each directory is its own workflow.
    workflow = tool.create_workflow(
        name="locations", workflow_args=f"v1_2026 {out}", max_concurrently_running=50
    )
    tasks = process.create_tasks(location_id=range(20), year=2026, out=out)
    agg = aggregate.create_task(name="aggregate", out=out, upstream_tasks=tasks)
    workflow.add_tasks(tasks + [agg])

    result = workflow.run(resume=options.resume)  # Jobmon's status letter, with the figures

    print(f"workflow {result.workflow_id}: {result.workflow_status} (run status {result})")
    print(
        f"{result.done_count}/{result.total_tasks} tasks done, {result.failed_count} failed, "
        f"in {result.elapsed_time:.1f}s; results in {out}"
    )
    if result != WorkflowRunStatus.DONE:
        for task_id, entry in workflow.get_errors(limit=20).items():
            last = entry["errors"][-1]
            print(f"  task {task_id} {entry['task_name']}: {last['description'].strip()}")
        return 1
    print((Path(out) / "total.txt").read_text().strip())
    return 0


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(message)s")
    logging.getLogger("jobmon_client").setLevel(logging.INFO)
    sys.exit(main())
