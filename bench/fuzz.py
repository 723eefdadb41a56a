"""A long run of the schema-driven fuzzer against a real server process.

    python bench/fuzz.py [--requests 50000] [--seed 1] [--db URL]

The requests of tests/fuzz/generator.py (hostile, boundary and wrong-typed values,
malformed bodies), sent one after another while /health is asked every 50 ms. One JSON
line: requests and seconds, answers by kind and status, 500s and masked answers (both must
be 0), lines of the server's log at ERROR or with a traceback (must be 0), the most CPU any
request cost the event loop, the slowest /health, and the server's peak memory. --db runs
it on PostgreSQL or MariaDB (a database of its own, which it leaves behind).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stack import BIN, free_port, peak_rss_mb, wait_until_healthy  # noqa: E402

from tests.fuzz.generator import Fuzzer  # noqa: E402


def loop_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_problems(path: Path) -> list[str]:
    problems = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"level": "?"}
        if (
            entry.get("level") in ("ERROR", "CRITICAL")
            or "exception" in entry
            or ("Traceback" in line)
        ):
            problems.append(line[:300])
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobmon-fuzz-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [
                    str(BIN / "jobmon"),
                    "server",
                    "--port",
                    str(port),
                    "--db",
                    args.db or f"sqlite:///{tmp}/fuzz.db",
                    "--log-format",
                    "json",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            wait_until_healthy(url, server)
            result = run(url, server.pid, args.requests, args.seed)
            result["peak_rss_mb"] = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
        problems = log_problems(log_path)
        result["log_problems"] = len(problems)
        result["first_log_problems"] = problems[:3]
    print(json.dumps(result))


def run(url: str, pid: int, requests: int, seed: int) -> dict:
    fuzzer = Fuzzer(seed)
    outcomes: Counter[str] = Counter()
    bad: list[str] = []
    health: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        with httpx.Client(timeout=60) as client:
            while not stop.wait(0.05):
                started = time.perf_counter()
                client.get(f"{url}/health")
                health.append(time.perf_counter() - started)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    costliest = (0.0, "")
    started = time.monotonic()
    with httpx.Client(timeout=120) as client:
        for _ in range(requests):
            request = fuzzer.request()
            before = loop_cpu_seconds(pid)
            answer = client.post(
                f"{url}/graphql",
                content=request.body,
                headers={"content-type": request.content_type},
            )
            costliest = max(costliest, (loop_cpu_seconds(pid) - before, request.description))
            outcomes[f"{request.kind} {answer.status_code}"] += 1
            if answer.status_code == 500 or "Unexpected error" in answer.text:
                bad.append(f"{request.description}: {answer.text[:200]}")
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join(30)
    return {
        "requests": requests,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "outcomes": dict(outcomes),
        "500_or_masked": len(bad),
        "first_bad": bad[:3],
        "max_loop_cpu_ms": round(costliest[0] * 1000),
        "costliest": costliest[1],
        "slowest_health_ms": round(max(health) * 1000) if health else None,
    }


if __name__ == "__main__":
    main()
