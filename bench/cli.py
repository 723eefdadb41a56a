"""How fast the ``jobmon`` commands answer on a workflow of many tasks.

    python bench/cli.py --tasks 100000

Binds a workflow of N tasks in two templates, runs it with a stand-in worker that claims
and reports through the real API in large batches (9 in 10 tasks DONE, the rest failing
with one of a few error messages), then times each command: the whole ``jobmon``
process, start-up included, best of three. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time

from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from stack import BIN, jobmon_process

CLAIM = """
mutation($limit: Int!) {
  claimTaskInstances(clusterName: "multiprocess", workerId: "bench", limit: $limit) {
    instances { id taskId }
  }
}"""
REPORT = """
mutation($reports: [InstanceReport!]!) {
  reportTaskInstances(workerId: "bench", reports: $reports) { accepted }
}"""
START = """
mutation($id: Int!) {
  startWorkflowRun(workflowId: $id, user: "bench") { __typename }
}"""
BATCH = 5000
MESSAGES = [
    "FileNotFoundError: /data/location_{n}.csv",
    "ValueError: location {n} has no data for year 2026",
    "MemoryError",
]


def build(n: int, label: str) -> int:
    tool = Tool(name=f"bench_cli_{label}")
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict("multiprocess", {"cores": 1, "memory": "1G"})
    tool.set_default_max_attempts(1)
    process = tool.get_task_template(
        template_name="process", command_template="true {p}", node_args=["p"]
    )
    summarise = tool.get_task_template(
        template_name="summarise", command_template="true {s}", node_args=["s"]
    )
    wf = tool.create_workflow(name="bench_cli", workflow_args=label)
    wf.add_tasks(process.create_tasks(p=range(n - n // 10)))
    wf.add_tasks(summarise.create_tasks(s=range(n // 10)))
    return wf.bind()


def run_with_stand_in_worker(client: GraphQLClient, workflow_id: int) -> None:
    client.execute(START, {"id": workflow_id})
    rng = random.Random(1)
    while True:
        claimed = client.execute(CLAIM, {"limit": BATCH})["claimTaskInstances"]["instances"]
        if not claimed:
            return
        reports = []
        for i in claimed:
            base = {"taskInstanceId": i["id"], "distributorId": str(i["id"]), "hostname": "h"}
            reports.append({**base, "status": "LAUNCHED"})
            reports.append({**base, "status": "RUNNING"})
            if rng.random() < 0.9:
                usage = {
                    "maxRssBytes": rng.uniform(1e8, 4e9),
                    "wallclockSeconds": rng.uniform(1, 900),
                }
                reports.append({**base, "status": "DONE", "exitCode": 0, **usage})
            else:
                message = rng.choice(MESSAGES).format(n=i["taskId"])
                reports.append({**base, "status": "ERROR", "exitCode": 1, "errorMessage": message})
        client.execute(REPORT, {"reports": reports})


def best_of(args: list[str], times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run([str(BIN / "jobmon"), *args], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    with jobmon_process("server") as (url, _pid):
        workflow_id = build(args.tasks, f"{args.tasks}_{time.time_ns()}")
        with GraphQLClient(url) as client:
            run_with_stand_in_worker(client, workflow_id)
        wf = str(workflow_id)
        fatal = subprocess.run(
            [
                str(BIN / "jobmon"),
                "workflow",
                "tasks",
                "-w",
                wf,
                "-s",
                "FATAL",
                "-l",
                "1",
                "--json",
            ],
            check=True,
            capture_output=True,
        )
        task = str(json.loads(fatal.stdout)[0]["task_id"])
        commands = {
            "jobmon --help": ["--help"],
            "workflow status": ["workflow", "status", "-w", wf],
            "workflow tasks (100, FATAL)": ["workflow", "tasks", "-w", wf, "-s", "FATAL"],
            "workflow tasks (1000)": ["workflow", "tasks", "-w", wf, "-l", "1000"],
            "task status": ["task", "status", "-t", task],
            "task dependencies": ["task", "dependencies", "-t", task],
            "task errors": ["task", "errors", "-w", wf],
            "get_filepaths": ["get_filepaths", "-w", wf, "-l", "100"],
            "template resources": ["template", "resources", "-w", wf],
        }
        seconds = {name: best_of(argv) for name, argv in commands.items()}
    print(json.dumps({"benchmark": "cli", "tasks": args.tasks, "seconds": seconds}))


if __name__ == "__main__":
    main()
