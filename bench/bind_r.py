"""Bind a large workflow from R: the shape of bind.py (three templates, about as many edges
as tasks), defined and bound by the jobmonr package.

    python bench/bind_r.py --tasks 100000

Installs client/R/jobmonr into a temporary library, starts a server on a fresh SQLite
database, and prints one JSON line: tasks, edges, define_seconds (making the tasks in R),
bind_seconds (checking and binding, client and server together) and tasks_per_s of the bind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from stack import jobmon_process

PACKAGE = Path(__file__).resolve().parent.parent / "client" / "R" / "jobmonr"

SCRIPT = """
library(jobmonr)
n <- {tasks}L
tool <- tool("bench_bind_r")
set_default_compute_resources(tool, "multiprocess", list(cores = 1, memory = "1G"))
prep <- task_template(tool, "prep", "true {{p}}", node_args = "p")
work <- task_template(tool, "work", "true {{w}}", node_args = "w")
summary <- task_template(tool, "summary", "true {{s}}", node_args = "s")
started <- Sys.time()
n_prep <- max(1L, n %/% 100L)
n_summary <- n_prep
n_work <- n - n_prep - n_summary
preps <- array_tasks(prep, p = seq_len(n_prep) - 1L)
works <- array_tasks(work, w = seq_len(n_work) - 1L)
for (i in seq_len(n_work)) add_upstream(works[[i]], preps[[(i - 1L) %% n_prep + 1L]])
per <- max(1L, n_work %/% n_summary)
summaries <- array_tasks(summary, s = seq_len(n_summary) - 1L)
for (i in seq_len(n_summary)) {{
  for (j in head(seq.int((i - 1L) * per + 1L, length.out = per), 2L)) {{
    add_upstream(summaries[[i]], works[[j]])
  }}
}}
all_tasks <- c(preps, works, summaries)
wf <- add_tasks(workflow(tool, "{label}", name = "bench_bind_r"), all_tasks)
defined <- Sys.time()
bind(wf)
bound <- Sys.time()
edges <- sum(vapply(all_tasks, function(t) length(t$upstream), 0L))
cat(jsonlite::toJSON(list(
  tasks = length(all_tasks), edges = edges,
  define_seconds = round(as.numeric(difftime(defined, started, units = "secs")), 2),
  bind_seconds = round(as.numeric(difftime(bound, defined, units = "secs")), 2)
), auto_unbox = TRUE), "\\n")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobmonr-") as library:
        subprocess.run(
            ["R", "CMD", "INSTALL", f"--library={library}", str(PACKAGE)],
            check=True,
            capture_output=True,
        )
        with jobmon_process("server") as (url, _pid):
            code = SCRIPT.format(tasks=args.tasks, label=f"{args.tasks}_{time.time_ns()}")
            result = subprocess.run(
                ["Rscript", "-e", code],
                env={**os.environ, "R_LIBS": library, "JOBMON_SERVER_URL": url},
                capture_output=True,
                text=True,
                check=False,
            )
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["tasks_per_s"] = round(figures["tasks"] / figures["bind_seconds"])
    print(json.dumps({"benchmark": "bind_r", **figures}))


if __name__ == "__main__":
    main()
