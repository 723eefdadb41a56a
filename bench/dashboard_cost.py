"""What an open dashboard costs a running workflow.

    python bench/dashboard_cost.py --tasks 20000

Runs N tasks of `true` through `jobmon up` (multiprocess, a fresh SQLite database each
time) twice: once with nobody watching, once with the workflow's dashboard page open in
headless Chromium from before the run starts until it ends. Prints one JSON line: the
tasks per second of each (from the run's start to DONE as the client sees it, bind
excluded), their ratio (watched / alone), the websocket frames the page received and the
bytes they carried, the page's GraphQL requests, the peak RSS of each run's server (the
`jobmon server` child of `jobmon up`) and of `jobmon up` itself (the worker), the CPU
seconds the server and the page's Chromium used during the run, and the load average
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from run_local import _own_cpu, build
from stack import jobmon_process, peak_rss_mb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import launch  # noqa: E402


def server_pid(up_pid: int) -> int:
    """The `jobmon server` child that `jobmon up` starts."""
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            stat = (child / "stat").read_text()
            argv = (child / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == up_pid and b"server" in argv:
            return int(child.name)
    raise SystemExit(f"no server process under jobmon up ({up_pid})")


def _processes() -> dict[int, tuple[int, bytes]]:
    """Every process: its parent and its command."""
    found = {}
    for child in Path("/proc").iterdir():
        if child.name.isdigit():
            try:
                stat = (child / "stat").read_text()
                argv0 = (child / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            found[int(child.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), argv0)
    return found


def browser_pids() -> list[int]:
    """This benchmark's Chromium processes (not other users' of the machine)."""
    processes = _processes()
    mine, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, (ppid, _) in processes.items() if ppid in mine} - mine
        mine |= more
        grew = bool(more)
    return [pid for pid in mine if b"chrom" in processes.get(pid, (0, b""))[1]]


def cpu_seconds(pids: list[int]) -> float:
    return sum(_own_cpu(pid) for pid in pids)


def run_in_thread(wf: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Start the run on a thread; the result has its seconds and status once it ends."""
    result: dict[str, Any] = {}

    def work() -> None:
        start = time.perf_counter()
        try:
            result["status"] = wf.run().final_status
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            result["status"] = repr(exc)
        result["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, result


def measure(tasks: int, watched: bool) -> dict[str, Any]:
    with jobmon_process("up") as (url, pid):
        server = server_pid(pid)
        wf = build(tasks, "flat", f"{watched}_{time.time_ns()}")
        workflow_id = wf.bind()
        seen = {"frames": 0, "bytes": 0, "requests": 0}
        if not watched:
            cpu = _own_cpu(server)
            thread, result = run_in_thread(wf)
            thread.join()
            server_cpu = _own_cpu(server) - cpu
        else:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = browser.new_page(viewport={"width": 1400, "height": 900})

                def on_frame(payload: str | bytes) -> None:
                    seen["frames"] += 1
                    seen["bytes"] += len(payload)

                def on_request(request: Any) -> None:
                    if request.url.endswith("/graphql") and request.method == "POST":
                        seen["requests"] += 1

                page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
                page.on("request", on_request)
                page.goto(f"{url}/#/workflow/{workflow_id}")
                page.locator("#tasks tbody tr").first.wait_for()
                page.locator("#workflow-page[data-following='true']").wait_for()
                cpu, chromium = _own_cpu(server), browser_pids()
                browser_cpu = cpu_seconds(chromium)
                thread, result = run_in_thread(wf)
                while thread.is_alive():  # let Playwright deliver the page's events meanwhile
                    page.wait_for_timeout(250)
                server_cpu = _own_cpu(server) - cpu
                seen["browser_cpu_s"] = round(cpu_seconds(chromium) - browser_cpu, 1)
                browser.close()
        assert result["status"] == "DONE", result
        return {
            "tasks_per_s": round(tasks / result["seconds"], 1),
            "seconds": round(result["seconds"], 2),
            "server_cpu_s": round(server_cpu, 1),
            "server_rss_mb": peak_rss_mb(server),
            "up_rss_mb": peak_rss_mb(pid),
            **(
                {
                    "page_frames": seen["frames"],
                    "page_frame_bytes": seen["bytes"],
                    "page_requests": seen["requests"],
                    "browser_cpu_s": seen["browser_cpu_s"],
                }
                if watched
                else {}
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20_000)
    args = parser.parse_args()
    load_before = os.getloadavg()
    alone = measure(args.tasks, watched=False)
    watched = measure(args.tasks, watched=True)
    print(
        json.dumps(
            {
                "benchmark": "dashboard_cost",
                "tasks": args.tasks,
                "alone": alone,
                "watched": watched,
                "ratio": round(watched["tasks_per_s"] / alone["tasks_per_s"], 2),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
