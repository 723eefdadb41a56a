"""How a followed run is shown: a progress bar on a terminal, progress lines otherwise.

Without a terminal (nohup, sbatch, a redirected script) the run says where it is when its
status changes and every ``JOBMON_PROGRESS_INTERVAL`` seconds (30 by default; 0: only on
changes), so a log file shows that it is alive. Lines go through logging when the
script's logging would show them, else straight to stderr: unconfigured logging would
drop them.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from jobmon_client.run import RunSnapshot

log = logging.getLogger("jobmon_client.run")

DEFAULT_INTERVAL_SECONDS = 30.0
INTERVAL_ENV = "JOBMON_PROGRESS_INTERVAL"
NAMED_FAILURES = 5  # failed tasks named in the last line; the rest are counted


class RunView(Protocol):
    def update(self, snapshot: RunSnapshot) -> None: ...

    def seconds_to_next(self) -> float | None:
        """How soon the view wants to be updated again (None: only on news)."""
        ...


def interval_seconds() -> float:
    value = os.environ.get(INTERVAL_ENV)
    if not value:
        return DEFAULT_INTERVAL_SECONDS
    try:
        return max(0.0, float(value))
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using %s", INTERVAL_ENV, value, 30)
        return DEFAULT_INTERVAL_SECONDS


def say(message: str, level: int = logging.INFO) -> None:
    """One line through logging if it would be shown, else on stderr."""
    if log.isEnabledFor(level) and log.hasHandlers():
        log.log(level, "%s", message)
        return
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} jobmon: {message}", file=sys.stderr, flush=True)


def elapsed_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def describe(snapshot: RunSnapshot, elapsed: float | None = None) -> str:
    waiting = snapshot.total_tasks - snapshot.done - snapshot.running - snapshot.failed
    line = (
        f"workflow {snapshot.workflow_id} {snapshot.workflow_status}, "
        f"run {snapshot.workflow_run_id} {snapshot.run_status}: "
        f"{snapshot.done}/{snapshot.total_tasks} done, {snapshot.running} running, "
        f"{max(waiting, 0)} waiting, {snapshot.failed} failed"
    )
    return line if elapsed is None else f"{line} ({elapsed_text(elapsed)})"


def final_line(snapshot: RunSnapshot, fatal: Sequence[tuple[int, str]], elapsed: float) -> str:
    """How the run ended; when tasks failed, a few by id and name and where to read why."""
    line = (
        f"workflow {snapshot.workflow_id} {snapshot.workflow_status} after "
        f"{elapsed_text(elapsed)} (run {snapshot.workflow_run_id} {snapshot.run_status}): "
        f"{snapshot.done}/{snapshot.total_tasks} done"
    )
    if not snapshot.failed:
        return line
    named = ", ".join(f"{task_id} {name}" for task_id, name in fatal[:NAMED_FAILURES])
    more = snapshot.failed - min(len(fatal), NAMED_FAILURES)
    named += f" and {more} more" if more > 0 else ""
    first = f"'jobmon task logs -t {fatal[0][0]}'" if fatal else "'jobmon task logs -t ID'"
    return (
        f"{line}, {snapshot.failed} failed: {named}; their errors: "
        f"'jobmon task errors -w {snapshot.workflow_id}', a task's stderr: {first}"
    )


class LogView:
    """A line when the run's or the workflow's status changes, and one every ``interval``
    seconds (0: never) in between."""

    def __init__(
        self, interval: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval_seconds() if interval is None else interval
        self._clock = clock
        self._started = clock()
        self._due: float | None = None
        self._last: tuple[str, str] | None = None

    def update(self, snapshot: RunSnapshot) -> None:
        now = self._clock()
        statuses = (snapshot.run_status, snapshot.workflow_status)
        changed = statuses != self._last
        if not changed and (self._due is None or now < self._due):
            return
        self._last = statuses
        if self._interval > 0:
            # Steady: the next line is due an interval after this one was, unless it is late.
            due = (self._due or now) + self._interval
            self._due = due if not changed and due > now else now + self._interval
        say(describe(snapshot, now - self._started))

    def seconds_to_next(self) -> float | None:
        return None if self._due is None else max(0.0, self._due - self._clock())


class BarView:
    """A rich progress bar of done tasks, with running and failed counts."""

    def __init__(self, progress: Progress, workflow_id: int) -> None:
        self._progress = progress
        self._bar = progress.add_task(f"workflow {workflow_id}", total=None, detail="")

    def update(self, snapshot: RunSnapshot) -> None:
        self._progress.update(
            self._bar,
            total=snapshot.total_tasks,
            completed=snapshot.done,
            detail=(
                f"running {snapshot.running}  failed {snapshot.failed}  "
                f"[dim]{snapshot.run_status}[/dim]"
            ),
        )

    def seconds_to_next(self) -> float | None:
        return None


@contextmanager
def run_view(workflow_id: int, show_progress: bool) -> Iterator[RunView]:
    if not show_progress:
        yield LogView()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        yield BarView(progress, workflow_id)
