"""Soak: a long run of mixed tasks while the worker or the server is killed with kill -9.

    python bench/soak.py [--minutes 20] [--kill-every 60] [--db URL]

Starts `jobmon server` and `jobmon worker --cluster multiprocess` (short heartbeats: a
lease of 3 s), runs a workflow of ledger tasks (0.2 to 20 s each, enough for the whole
time) from a client process, and every ``--kill-every`` seconds (give or take a third)
kills the worker or the server with SIGKILL and starts it again a moment later. At the
end it stops killing, waits for the run to end and prints one JSON line: tasks, done,
lost (never completed), twice (completed more than once), overlapped (two attempts of
one task at the same time), the longest stall (seconds without a task ending), kills.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.harness import WORKFLOW_SCRIPT, Ledger, ledger_command, site  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--kill-every", type=float, default=60.0)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--db", default=None, help="database URL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seconds = args.minutes * 60
    root = Path(tempfile.mkdtemp(prefix="jobmon-soak-"))
    db = args.db or f"sqlite:///{root / 'jobmon.db'}"
    ledger = Ledger(root / "ledger")
    durations = [0.2, 0.5, 1, 2, 5, 10, 20]
    mean = sum(durations) / len(durations)
    count = int(seconds * args.parallelism / mean)
    tasks = {
        f"t{i}": ledger_command(ledger.path, f"t{i}", rng.choice(durations)) for i in range(count)
    }
    script = root / "workflow.py"
    script.write_text(WORKFLOW_SCRIPT)
    spec = {"tool": "soak", "args": str(root), "tasks": tasks, "timeout": int(seconds * 4)}
    kills = {"worker": 0, "server": 0}
    with site(root, db) as place:
        place.server()
        worker = place.worker("worker", parallelism=args.parallelism)
        spec_file = root / "spec.json"
        spec_file.write_text(json.dumps(spec))
        client = place.script("client", script, f"@{spec_file}")
        started = time.monotonic()
        next_kill = started + args.kill_every * rng.uniform(0.67, 1.33)
        last_end, longest_stall, ends = time.monotonic(), 0.0, 0
        while client.popen.poll() is None:
            time.sleep(0.5)
            now = time.monotonic()
            done = sum(ledger.read().completions().values())
            if done > ends:
                ends, last_end = done, now
            longest_stall = max(longest_stall, now - last_end)
            if now < started + seconds and now >= next_kill:
                victim = rng.choice(["worker", "server"])
                kills[victim] += 1
                if victim == "worker":
                    worker.kill9()
                    time.sleep(rng.uniform(1, 3))
                    worker = place.worker(f"worker-{sum(kills.values())}", args.parallelism)
                else:
                    server = next(p for p in place.processes if p.argv[1] == "server")
                    place.processes.remove(server)
                    server.kill9()
                    time.sleep(rng.uniform(1, 3))
                    place.server()
                next_kill = now + args.kill_every * rng.uniform(0.67, 1.33)
        ledger.read()
        completions = ledger.completions()
        result = [line for line in client.output().splitlines() if line.startswith("RESULT")]
        print(
            json.dumps(
                {
                    "benchmark": "soak",
                    "minutes": round((time.monotonic() - started) / 60, 1),
                    "tasks": count,
                    "final_status": result[-1].split()[1] if result else "none",
                    "done": sum(1 for t in tasks if completions.get(t, 0) >= 1),
                    "lost": sum(1 for t in tasks if completions.get(t, 0) == 0),
                    "twice": sum(1 for t in tasks if completions.get(t, 0) > 1),
                    "overlapped": len(ledger.overlaps()),
                    "longest_stall_s": round(longest_stall, 1),
                    "kills": kills,
                    "directory": str(root),
                }
            )
        )


if __name__ == "__main__":
    main()
