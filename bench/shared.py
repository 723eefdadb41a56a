"""Many users at once: concurrent clients against two server replicas on PostgreSQL.

    python bench/shared.py --clients 20 --tasks 500

Creates a fresh PostgreSQL database (JOBMON_BENCH_PG, default the local server), starts
two `jobmon server` processes on it and one `jobmon worker --cluster multiprocess`; then
each client (a thread, alternating between the replicas) binds and runs its own workflow
of trivial tasks. Prints one JSON line: clients, tasks, seconds (all done), tasks_per_s,
and the slowest client request with its kind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from sqlalchemy import create_engine, text
from stack import BIN, free_port, wait_until_healthy

ADMIN = os.environ.get("JOBMON_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def database() -> Iterator[str]:
    name = f"jobmon_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield ADMIN.rsplit("/", 1)[0].replace("+psycopg", "") + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()


@contextmanager
def processes(db_url: str, parallelism: int) -> Iterator[list[str]]:
    subprocess.run([str(BIN / "jobmon"), "db", "upgrade", "--db", db_url], check=True)
    started, urls = [], []
    for _ in range(2):
        port = free_port()
        urls.append(f"http://127.0.0.1:{port}")
        started.append(
            subprocess.Popen(
                [
                    str(BIN / "jobmon"),
                    "server",
                    "--port",
                    str(port),
                    "--db",
                    db_url,
                    "--log-level",
                    "warning",
                ],
            )
        )
    for url, process in zip(urls, started, strict=True):
        wait_until_healthy(url, process)
    started.append(
        subprocess.Popen(
            [
                str(BIN / "jobmon"),
                "worker",
                "--cluster",
                "multiprocess",
                "--server",
                urls[0],
                "--parallelism",
                str(parallelism),
                "--log-level",
                "warning",
            ],
        )
    )
    try:
        yield urls
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(30)


class SlowestRequest:
    """Wraps GraphQLClient.execute to remember the slowest request of any client."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.kind = ""
        self.lock = threading.Lock()
        original = GraphQLClient.execute

        def timed(client: GraphQLClient, document: str, variables: Any = None) -> Any:
            start = time.perf_counter()
            try:
                return original(client, document, variables)
            finally:
                took = time.perf_counter() - start
                with self.lock:
                    if took > self.seconds:
                        self.seconds = took
                        self.kind = document.split("(")[0].split("{")[0].strip()

        GraphQLClient.execute = timed  # type: ignore[method-assign]


def client(url: str, index: int, tasks: int, results: list[str]) -> None:
    tool = Tool(name=f"bench_shared_{index}", server_url=url)
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="noop", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name=f"user_{index}", workflow_args=uuid.uuid4().hex)
    wf.add_tasks(template.create_tasks(n=range(tasks)))
    results.append(wf.run(seconds_until_timeout=3600).final_status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--parallelism", type=int, default=32)
    args = parser.parse_args()
    slowest = SlowestRequest()
    with database() as db_url, processes(db_url, args.parallelism) as urls:
        results: list[str] = []
        threads = [
            threading.Thread(target=client, args=(urls[i % 2], i, args.tasks, results))
            for i in range(args.clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
    total = args.clients * args.tasks
    print(
        json.dumps(
            {
                "benchmark": "shared",
                "clients": args.clients,
                "tasks": total,
                "done_workflows": results.count("DONE"),
                "seconds": round(seconds, 1),
                "tasks_per_s": round(total / seconds, 1),
                "slowest_request_seconds": round(slowest.seconds, 2),
                "slowest_request": slowest.kind,
            }
        )
    )


if __name__ == "__main__":
    main()
