"""Run many trivial tasks through `jobmon up` with the multiprocess distributor.

    python bench/run_local.py --tasks 10000             # independent tasks of `true`
    python bench/run_local.py --tasks 200 --shape chain  # each task waits for the previous
    python bench/run_local.py --shape chain --db postgresql://localhost/jobmon_bench

Prints one JSON line: tasks, seconds (from run start to DONE as the client sees it, bind
excluded), tasks_per_s, server_seconds (the same by the server's clock, without the client's
0.5 s polling), bind_seconds, server_rss_mb (peak of the `jobmon up` process: server and
worker) and cpu_s_per_1000 (CPU seconds that process used per 1,000 tasks, from /proc).

With ``--limit`` it first measures what the machine can do: Python spawning
`/bin/sh -c true` as many at a time as the worker's slots, for as many tasks; the line
then has limit_tasks_per_s and ratio (tasks_per_s / limit_tasks_per_s).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from pathlib import Path

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
    parser.add_argument("--limit", action="store_true", help="measure the spawn limit too")
    parser.add_argument("--db", default=None, help="a database URL (default: a new SQLite file)")
    args = parser.parse_args()
    extra = ["--parallelism", str(args.parallelism)] if args.parallelism else []
    limit = spawn_limit(args.tasks, args.parallelism or os.cpu_count() or 1) if args.limit else None
    with jobmon_process("up", *extra, db_url=args.db) as (url, pid):
        wf = build(args.tasks, args.shape, str(time.time_ns()))
        start = time.perf_counter()
        wf.bind()
        bind_seconds = time.perf_counter() - start
        cpu_before = cpu_seconds(pid)
        start = time.perf_counter()
        result = wf.run()
        seconds = time.perf_counter() - start
        cpu = cpu_seconds(pid) - cpu_before
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
                    "cpu_s_per_1000": round(1000 * cpu / args.tasks, 3),
                    **(
                        {
                            "limit_tasks_per_s": round(limit, 1),
                            "ratio": round(args.tasks / seconds / limit, 2),
                        }
                        if limit
                        else {}
                    ),
                }
            )
        )


def cpu_seconds(pid: int) -> float:
    """CPU of a process and of its Python children (the server `jobmon up` starts, the
    guardian), from /proc; the tasks' own CPU is left out."""
    total = _own_cpu(pid)
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            stat = (child / "stat").read_text()
            cmdline = (child / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"python" in cmdline.split(b"\0")[0]:
            total += _own_cpu(int(child.name))
    return total


def _own_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 (1-based); the split starts at field 3
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn_limit(tasks: int, parallel: int) -> float:
    """Tasks per second of `/bin/sh -c true`, ``parallel`` at a time, spawned from Python."""
    running: set[int] = set()
    started = time.perf_counter()
    launched = 0
    while launched < tasks or running:
        while launched < tasks and len(running) < parallel:
            running.add(os.posix_spawn("/bin/sh", ["/bin/sh", "-c", "true"], os.environ))
            launched += 1
        pid, _ = os.wait()
        running.discard(pid)
    return tasks / (time.perf_counter() - started)


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
