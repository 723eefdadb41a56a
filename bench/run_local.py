"""Run many trivial tasks through `jobmon up` with the multiprocess distributor.

    python bench/run_local.py --tasks 10000             # independent tasks of `true`
    python bench/run_local.py --tasks 200 --shape chain  # each task waits for the previous

Prints one JSON line: tasks, seconds (from run start to DONE as the client sees it, bind
excluded), tasks_per_s, server_seconds (the same by the server's clock, without the client's
0.5 s polling), bind_seconds and server_rss_mb (peak of the `jobmon up` process: server and
worker).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime

from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from stack import jobmon_process, peak_rss_mb


def build(n: int, shape: str, label: str):  # type: ignore[no-untyped-def]
    tool = Tool(name=f"bench_run_{shape}")
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="noop", command_template="true {i}", node_args=["i"]
    )
    tasks = []
    for i in range(n):
        upstream = [tasks[-1]] if shape == "chain" and tasks else []
        tasks.append(template.create_task(i=i, upstream_tasks=upstream))
    wf = tool.create_workflow(
        name=f"bench_{shape}", workflow_args=label, max_concurrently_running=10_000
    )
    wf.add_tasks(tasks)
    return wf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--shape", choices=["flat", "chain"], default="flat")
    parser.add_argument("--parallelism", type=int, default=None)
    args = parser.parse_args()
    extra = ["--parallelism", str(args.parallelism)] if args.parallelism else []
    with jobmon_process("up", *extra) as (url, pid):
        wf = build(args.tasks, args.shape, str(time.time_ns()))
        start = time.perf_counter()
        wf.bind()
        bind_seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = wf.run()
        seconds = time.perf_counter() - start
        assert result.final_status == "DONE", result
        server_seconds = _server_seconds(url, result.workflow_id)
        print(
            json.dumps(
                {
                    "benchmark": f"run_local_{args.shape}",
                    "tasks": args.tasks,
                    "seconds": round(seconds, 2),
                    "tasks_per_s": round(args.tasks / seconds, 1),
                    "server_seconds": round(server_seconds, 2),
                    "bind_seconds": round(bind_seconds, 2),
                    "server_rss_mb": peak_rss_mb(pid),
                }
            )
        )


RUN_TIMES = """
query($id: Int!) {
  workflow(id: $id) { ... on Workflow { statusDate latestRun { created } } }
}"""


def _server_seconds(url: str, workflow_id: int) -> float:
    """From the run's start to the workflow's DONE, by the server's clock: the scheduler's
    time without the client's polling."""
    with GraphQLClient(url) as client:
        wf = client.execute(RUN_TIMES, {"id": workflow_id})["workflow"]
    ended = datetime.fromisoformat(wf["statusDate"])
    return (ended - datetime.fromisoformat(wf["latestRun"]["created"])).total_seconds()


if __name__ == "__main__":
    main()
