"""Task generator costs on the client and on the node; no server is needed.

    python bench/task_generator.py --tasks 100000

Measures ``create_tasks`` of N generator tasks (a custom type, a list and a default per
task) against ``TaskTemplate.create_tasks`` of N plain tasks, and the wall time of one
task's command (the runner importing the module and calling an empty function) against
``python -c pass``, best of five. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MODULE = textwrap.dedent(
    """
    from jobmon_client import task_generator

    class YearRange:
        def __init__(self, start: int, end: int) -> None:
            self.start, self.end = start, end
        def __str__(self) -> str:
            return f"{self.start}-{self.end}"
        @staticmethod
        def parse(text: str) -> "YearRange":
            return YearRange(*map(int, text.split("-")))

    @task_generator(serializers={YearRange: (str, YearRange.parse)}, tool_name="bench_tg",
                    naming_args=["location_id"])
    def fit(location_id: int, years: YearRange, draws: list[float] = [0.5]) -> None:
        pass
    """
)


def best_of(runs: int, command: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    options = parser.parse_args()
    from jobmon_client import Tool

    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "bench_funcs.py").write_text(MODULE)
        sys.path.insert(0, directory)
        bench_funcs = importlib.import_module("bench_funcs")  # the module written above

        tool = Tool("bench_tg")
        started = time.perf_counter()
        tasks = bench_funcs.fit.create_tasks(
            location_id=list(range(options.tasks)), years=bench_funcs.YearRange(2020, 2025)
        )
        generator_seconds = time.perf_counter() - started
        template = tool.get_task_template(
            template_name="plain",
            command_template="fit --location_id {location_id} --years {years}",
            node_args=["location_id"],
            task_args=["years"],
        )
        started = time.perf_counter()
        template.create_tasks(location_id=list(range(options.tasks)), years="2020-2025")
        template_seconds = time.perf_counter() - started

        env = {**os.environ, "PYTHONPATH": os.pathsep.join([directory, *sys.path])}
        runner = best_of(5, ["/bin/sh", "-c", tasks[0].command], env)
        bare = best_of(5, [sys.executable, "-c", "pass"], env)
    print(
        json.dumps(
            {
                "tasks": options.tasks,
                "create_tasks_seconds": round(generator_seconds, 2),
                "generator_tasks_per_s": round(options.tasks / generator_seconds),
                "template_create_tasks_seconds": round(template_seconds, 2),
                "runner_seconds": round(runner, 3),
                "python_startup_seconds": round(bare, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
