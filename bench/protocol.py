"""The server's cost per task, without processes: a stand-in worker that runs nothing.

    python bench/protocol.py --tasks 20000 [--batch 64] [--db URL]

Binds N independent tasks, starts a run and then, as a worker would, sends workerSync
requests that report each claimed instance LAUNCHED, RUNNING and DONE and claim the next
``--batch``. One JSON line: tasks/s, the server's CPU seconds per 1,000 tasks (from
/proc), and requests per task. It measures what a worker's real tasks leave to the server.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from jobmon_client.worker.documents import SYNC
from stack import jobmon_process, peak_rss_mb


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with jobmon_process("server", db_url=args.db) as (url, pid):
        tool = Tool(name=f"bench_protocol_{time.time_ns()}")
        tool.set_default_cluster_name("multiprocess")
        template = tool.get_task_template(
            template_name="noop", command_template="true {i}", node_args=["i"]
        )
        wf = tool.create_workflow(
            name="bench_protocol",
            workflow_args=str(time.time_ns()),
            max_concurrently_running=10_000,
        )
        wf.add_tasks(template.create_tasks(i=range(args.tasks)))
        wf.run(detach=True)
        client = GraphQLClient(url)
        worker = "bench-worker"
        pending: list[dict] = []
        done = requests = 0
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        while done < args.tasks:
            answer = client.execute(
                SYNC,
                {
                    "workerId": worker,
                    "clusterName": "multiprocess",
                    "reports": pending,
                    "claimLimit": args.batch,
                    "waitSeconds": 0.0 if pending else 5.0,
                },
            )["workerSync"]
            requests += 1
            done += sum(1 for r in pending if r["status"] == "DONE")
            pending = []
            for instance in answer["instances"]:
                iid = instance["id"]
                pending += [
                    {"taskInstanceId": iid, "status": "LAUNCHED", "distributorId": str(iid)},
                    {"taskInstanceId": iid, "status": "RUNNING"},
                    {"taskInstanceId": iid, "status": "DONE", "exitCode": 0},
                ]
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
        print(
            json.dumps(
                {
                    "benchmark": "protocol",
                    "tasks": args.tasks,
                    "batch": args.batch,
                    "seconds": round(seconds, 2),
                    "tasks_per_s": round(args.tasks / seconds, 1),
                    "server_cpu_s_per_1000": round(1000 * cpu / args.tasks, 3),
                    "requests_per_task": round(requests / args.tasks, 3),
                    "server_rss_mb": peak_rss_mb(pid),
                }
            )
        )


if __name__ == "__main__":
    main()
