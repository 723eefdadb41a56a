"""Run N trivial tasks of one template on the local Slurm and count the sbatch calls.

    python bench/slurm.py --tasks 1000

Needs Slurm running (scripts/slurm.sh start). First the machine's own figure: one raw
`sbatch --array` of N elements of `true` with the same resources, from submission until
squeue shows none left. Then Jobmon: `jobmon server` and `jobmon worker --cluster slurm` as
processes run the same N tasks. Prints one JSON line: tasks, seconds (run start to DONE),
tasks_per_s, sbatch_calls (distinct job arrays among the instances), raw_seconds,
raw_tasks_per_s and ratio (tasks_per_s / raw_tasks_per_s). `--no-raw` skips the raw array.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from jobmon_client import Tool
from jobmon_client.slurm.submit import sbatch_resource_args
from jobmon_client.transport import GraphQLClient
from stack import BIN, jobmon_process

RESOURCES = {"cores": 1, "memory": "100M", "runtime": "10m"}
INSTANCES = """
query($id: Int!, $after: String) {
  workflow(id: $id) {
    ... on Workflow {
      taskInstances(first: 1000, after: $after) {
        items { distributorId } endCursor hasNextPage
      }
    }
  }
}"""


def array_jobs(url: str, workflow_id: int) -> set[str]:
    jobs: set[str] = set()
    after = None
    with GraphQLClient(url) as client:
        while True:
            page = client.execute(INSTANCES, {"id": workflow_id, "after": after})["workflow"]
            page = page["taskInstances"]
            jobs |= {i["distributorId"].split("_")[0] for i in page["items"] if i["distributorId"]}
            if not page["hasNextPage"]:
                return jobs
            after = page["endCursor"]


def raw_array(n: int, logs: str) -> float:
    """Seconds for Slurm alone to run an array of n `true` elements, as Jobmon asks for them."""
    script = Path(logs) / "raw.sh"
    script.write_text("#!/bin/sh\ntrue\n")
    start = time.perf_counter()
    job = (
        subprocess.run(
            [
                "sbatch",
                "--parsable",
                f"--array=0-{n - 1}",
                "--job-name=bench-raw",
                f"--output={logs}/raw.%a.log",
                *sbatch_resource_args(RESOURCES),
                str(script),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .split(";")[0]
    )
    while subprocess.run(
        ["squeue", "-h", "-j", job, "-o", "%i"], capture_output=True, text=True, check=False
    ).stdout.strip():
        time.sleep(0.2)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw sbatch array")
    args = parser.parse_args()
    raw_seconds = None
    if not args.no_raw:
        with tempfile.TemporaryDirectory() as logs:
            raw_seconds = raw_array(args.tasks, logs)
    with jobmon_process("server") as (url, _pid), tempfile.TemporaryDirectory() as logs:
        worker = subprocess.Popen(
            [
                str(BIN / "jobmon"),
                "worker",
                "--cluster",
                "slurm",
                "--poll-seconds",
                "2",
                "--log-dir",
                logs,
                "--log-level",
                "warning",
            ],
        )
        try:
            tool = Tool(name=f"bench_slurm_{time.time_ns()}")
            tool.set_default_cluster_name("slurm")
            tool.set_default_compute_resources_from_dict("slurm", RESOURCES)
            template = tool.get_task_template(
                template_name="noop", command_template="true {n}", node_args=["n"]
            )
            wf = tool.create_workflow(name="bench_slurm", workflow_args=str(time.time_ns()))
            wf.add_tasks(template.create_tasks(n=range(args.tasks)))
            deadline = time.monotonic() + 60
            while True:  # the worker registers the cluster when it starts
                try:
                    wf.bind()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            start = time.perf_counter()
            result = wf.run(seconds_until_timeout=3600)
            seconds = time.perf_counter() - start
        finally:
            worker.terminate()
            worker.wait(30)
        print(
            json.dumps(
                {
                    "benchmark": "slurm",
                    "tasks": args.tasks,
                    "status": result.final_status,
                    "seconds": round(seconds, 1),
                    "tasks_per_s": round(args.tasks / seconds, 1),
                    "sbatch_calls": len(array_jobs(url, result.workflow_id)),
                    **raw_figures(args.tasks, seconds, raw_seconds),
                }
            )
        )


def raw_figures(n: int, seconds: float, raw_seconds: float | None) -> dict[str, float]:
    if raw_seconds is None:
        return {}
    return {
        "raw_seconds": round(raw_seconds, 1),
        "raw_tasks_per_s": round(n / raw_seconds, 1),
        "ratio": round(raw_seconds / seconds, 2),
    }


if __name__ == "__main__":
    main()
