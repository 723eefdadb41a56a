"""How fast the dashboard shows a workflow of many tasks, in headless Chromium.

    python bench/dashboard.py --tasks 100000

Binds a workflow of N tasks (`jobmon server` on SQLite), opens its page, and prints one
JSON line: seconds from navigation to the first data on the page (counts and the first
page of tasks), and the largest number of rows in any response the page received.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from typing import Any

from jobmon_client import Tool
from playwright.sync_api import sync_playwright
from stack import jobmon_process

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def largest_list(value: Any) -> int:
    if isinstance(value, list):
        return max([len(value), *(largest_list(v) for v in value)])
    if isinstance(value, dict):
        return max([0, *(largest_list(v) for v in value.values())])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    with jobmon_process("server") as (url, _pid):
        tool = Tool(name="bench_dashboard")
        tool.set_default_cluster_name("multiprocess")
        template = tool.get_task_template(
            template_name="step", command_template="true {n}", node_args=["n"]
        )
        wf = tool.create_workflow(name="bench_dashboard", workflow_args=str(time.time_ns()))
        wf.add_tasks(template.create_tasks(n=range(args.tasks)))
        workflow_id = wf.bind()
        rows = [0]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                ],
            )
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
            page.locator("#workflow-counts dd[data-group='pending']").wait_for()
            seconds = time.perf_counter() - start
            browser.close()
    print(
        json.dumps(
            {
                "benchmark": "dashboard",
                "tasks": args.tasks,
                "first_data_seconds": round(seconds, 2),
                "largest_response_rows": rows[0],
            }
        )
    )


if __name__ == "__main__":
    main()
