"""Bind a large workflow: three templates, about as many edges as tasks.

    python bench/bind.py --tasks 100000

Prints one JSON line: tasks, edges, seconds (bind only, client and server together),
tasks_per_s, client_cpu_s and server_cpu_s (CPU seconds of each during the bind: steadier
than seconds on a shared machine) and server_rss_mb (peak).

    python bench/bind.py --tasks 1000000 --rebind

then makes the same workflow again from new task objects and binds it, as a resume does,
and prints a second line for that bind (the server finds it bound already: nothing is sent).
"""

from __future__ import annotations

import argparse
import json
import time

from jobmon_client import Tool
from run_local import cpu_seconds
from stack import jobmon_process, peak_rss_mb


def build(n: int, label: str) -> tuple:
    tool = Tool(name=f"bench_bind_{label}")
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict("multiprocess", {"cores": 1, "memory": "1G"})
    prep = tool.get_task_template(
        template_name="prep", command_template="true {p}", node_args=["p"]
    )
    work = tool.get_task_template(
        template_name="work", command_template="true {w}", node_args=["w"]
    )
    summary = tool.get_task_template(
        template_name="summary", command_template="true {s}", node_args=["s"]
    )
    n_prep = n_summary = max(1, n // 100)
    n_work = n - n_prep - n_summary
    preps = prep.create_tasks(p=range(n_prep))
    works = [work.create_task(w=i, upstream_tasks=[preps[i % n_prep]]) for i in range(n_work)]
    per = max(1, n_work // n_summary)
    summaries = [
        summary.create_task(s=i, upstream_tasks=works[i * per : (i + 1) * per][:2])
        for i in range(n_summary)
    ]
    wf = tool.create_workflow(name="bench_bind", workflow_args=label)
    tasks = [*preps, *works, *summaries]
    wf.add_tasks(tasks)
    edges = n_work + sum(len(s.upstream_tasks) for s in summaries)
    return wf, len(tasks), edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument(
        "--rebind", action="store_true", help="then bind it again from new task objects"
    )
    args = parser.parse_args()
    label = f"{args.tasks}_{time.time_ns()}"
    with jobmon_process("server") as (_url, pid):
        wf, tasks, edges = build(args.tasks, label)
        measure("bind", wf, tasks, edges, pid)
        if args.rebind:
            del wf
            wf, tasks, edges = build(args.tasks, label)
            measure("rebind", wf, tasks, edges, pid)


def measure(benchmark: str, wf: object, tasks: int, edges: int, pid: int) -> None:
    start, client_cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(pid)
    wf.bind()  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu
    server_cpu = cpu_seconds(pid) - server_cpu
    print(
        json.dumps(
            {
                "benchmark": benchmark,
                "tasks": tasks,
                "edges": edges,
                "seconds": round(seconds, 2),
                "tasks_per_s": round(tasks / seconds),
                "client_cpu_s": round(client_cpu, 2),
                "server_cpu_s": round(server_cpu, 2),
                "server_rss_mb": peak_rss_mb(pid),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
