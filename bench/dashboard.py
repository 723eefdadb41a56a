"""How fast the dashboard shows a workflow of many tasks, in headless Chromium.

    python bench/dashboard.py --tasks 100000 [--history]

Binds a workflow of N tasks (`jobmon server` on SQLite), opens its page, and prints one
JSON line: seconds from navigation to the first data on the page (counts and the first
page of tasks), to the whole page (also the templates' usage charts, the errors and, with
history, the timeline), and the largest number of rows in any response the page received.
With --history the workflow has run first: every task has an attempt, 9 in 10 DONE with
their memory and runtime, the rest failed with one of a few messages (bench/cli.py's
stand-in worker, through the real API).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from cli import build, run_with_stand_in_worker
from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from playwright.sync_api import sync_playwright
from stack import jobmon_process

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import launch  # noqa: E402


def largest_list(value: Any) -> int:
    if isinstance(value, list):
        return max([len(value), *(largest_list(v) for v in value)])
    if isinstance(value, dict):
        return max([0, *(largest_list(v) for v in value.values())])
    return 0


def bind_without_history(tasks: int) -> int:
    tool = Tool(name="bench_dashboard")
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="step", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name="bench_dashboard", workflow_args=str(time.time_ns()))
    wf.add_tasks(template.create_tasks(n=range(tasks)))
    return wf.bind()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--history", action="store_true", help="run the workflow first")
    args = parser.parse_args()
    with jobmon_process("server") as (url, _pid):
        if args.history:
            workflow_id = build(args.tasks, f"{args.tasks}_{time.time_ns()}")
            with GraphQLClient(url) as client:
                run_with_stand_in_worker(client, workflow_id)
        else:
            workflow_id = bind_without_history(args.tasks)
        rows = [0]
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def measure(response: Any) -> None:
                if response.url.endswith("/graphql") and response.request.method == "POST":
                    rows[0] = max(rows[0], largest_list(response.json()))

            page.on("response", measure)
            page.goto(f"{url}/#/workflows")  # load the page's files first, as a visitor has
            page.locator("#workflows tbody tr").first.wait_for()
            start = time.perf_counter()
            page.goto(f"{url}/#/workflow/{workflow_id}")
            page.locator("#tasks tbody tr").first.wait_for()
            page.locator("#workflow-counts a[data-group='pending']").wait_for()
            seconds = time.perf_counter() - start
            page.locator("#templates td.usage small").first.wait_for()
            if args.history:
                page.locator("#timeline .lane").first.wait_for()
                page.locator("#errors tbody tr").first.wait_for()
            complete = time.perf_counter() - start
            browser.close()
    print(
        json.dumps(
            {
                "benchmark": "dashboard",
                "tasks": args.tasks,
                "history": args.history,
                "first_data_seconds": round(seconds, 2),
                "whole_page_seconds": round(complete, 2),
                "largest_response_rows": rows[0],
            }
        )
    )


if __name__ == "__main__":
    main()
