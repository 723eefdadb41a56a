"""A large workflow from end to end: make, bind, start, run, stop, resume, status reads.

    python bench/scale.py --tasks 1000000 [--db URL] [--window 20]

`jobmon up --parallelism 8` on a fresh database (SQLite unless --db), and the workflow of
bench/bind.py (three templates, about one edge per task, a fan-in) of `true` tasks.
One JSON line per phase:

- create: making the Task objects (seconds, client peak RSS)
- bind: binding it (seconds, tasks/s, client and server peak RSS)
- start: the startWorkflowRun call
- run: tasks DONE per second over --window seconds of running
- stop: `jobmon workflow stop`
- resume: run(resume=True) from the call to the first new attempt RUNNING, then the run
  rate again over --window seconds
- reads: `jobmon workflow status` and `jobmon workflow tasks -l 100` (whole commands)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from bind import build
from jobmon_client.transport import GraphQLClient
from stack import BIN, jobmon_process, peak_rss_mb

COUNTS = """
query($id: Int!) { workflow(id: $id) { ... on Workflow { status taskCounts { status count } } } }
"""


def client_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def emit(phase: str, **fields: Any) -> None:
    print(json.dumps({"benchmark": "scale", "phase": phase, **fields}), flush=True)


def done(client: GraphQLClient, workflow_id: int) -> int:
    workflow = client.execute(COUNTS, {"id": workflow_id})["workflow"]
    return sum(c["count"] for c in workflow["taskCounts"] if c["status"] == "DONE")


def rate(client: GraphQLClient, workflow_id: int, window: float) -> float:
    """Tasks DONE per second over ``window`` seconds."""
    first, started = done(client, workflow_id), time.monotonic()
    time.sleep(window)
    return round((done(client, workflow_id) - first) / (time.monotonic() - started), 1)


def timed_command(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(BIN / "jobmon"), *args], check=True, capture_output=True)
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--window", type=float, default=20.0)
    args = parser.parse_args()
    size = args.tasks
    with jobmon_process("up", "--parallelism", "8", db_url=args.db) as (url, pid):
        started = time.perf_counter()
        wf, tasks, edges = build(size, f"scale_{size}_{time.time_ns()}")
        emit(
            "create",
            tasks=tasks,
            seconds=round(time.perf_counter() - started, 2),
            client_rss_mb=client_rss_mb(),
        )
        started = time.perf_counter()
        workflow_id = wf.bind()
        seconds = time.perf_counter() - started
        emit(
            "bind",
            tasks=tasks,
            edges=edges,
            seconds=round(seconds, 2),
            tasks_per_s=round(tasks / seconds),
            client_rss_mb=client_rss_mb(),
            server_rss_mb=peak_rss_mb(pid),
        )
        client = GraphQLClient(url)
        started = time.perf_counter()
        wf.run(detach=True)
        emit(
            "start",
            tasks=tasks,
            seconds=round(time.perf_counter() - started, 2),
            server_rss_mb=peak_rss_mb(pid),
        )
        emit("run", tasks=tasks, tasks_per_s=rate(client, workflow_id, args.window))
        emit(
            "reads",
            tasks=tasks,
            status_s=timed_command("workflow", "status", "-w", str(workflow_id)),
            tasks_100_s=timed_command("workflow", "tasks", "-w", str(workflow_id), "-l", "100"),
        )
        emit("stop", tasks=tasks, seconds=timed_command("workflow", "stop", "-w", str(workflow_id)))
        before = done(client, workflow_id)
        started = time.perf_counter()
        again, _, _ = build(size, wf.workflow_args)  # the same script, run again
        made = time.perf_counter() - started
        started = time.perf_counter()
        again.run(resume=True, detach=True)
        called = time.perf_counter() - started
        deadline = time.monotonic() + 600
        while done(client, workflow_id) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        emit(
            "resume",
            tasks=tasks,
            make_s=round(made, 2),
            call_s=round(called, 2),
            to_first_task_done_s=round(time.perf_counter() - started, 2),
            tasks_per_s=rate(client, workflow_id, args.window),
            client_rss_mb=client_rss_mb(),
            server_rss_mb=peak_rss_mb(pid),
        )
        emit(
            "reads_after",
            tasks=tasks,
            status_s=timed_command("workflow", "status", "-w", str(workflow_id)),
            tasks_100_s=timed_command("workflow", "tasks", "-w", str(workflow_id), "-l", "100"),
        )


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main()
