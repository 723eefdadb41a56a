"""How a followed run is shown: a progress bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from jobmon_client.run import RunSnapshot

log = logging.getLogger("jobmon_client.run")


class RunView(Protocol):
    def update(self, snapshot: RunSnapshot) -> None: ...


def describe(snapshot: RunSnapshot) -> str:
    return (
        f"workflow {snapshot.workflow_id} {snapshot.workflow_status}, "
        f"run {snapshot.workflow_run_id} {snapshot.run_status}: "
        f"{snapshot.done}/{snapshot.total_tasks} done, {snapshot.running} running, "
        f"{snapshot.failed} failed"
    )


class LogView:
    """One INFO line each time the run's or the workflow's status changes."""

    def __init__(self) -> None:
        self._last: tuple[str, str] | None = None

    def update(self, snapshot: RunSnapshot) -> None:
        statuses = (snapshot.run_status, snapshot.workflow_status)
        if statuses != self._last:
            self._last = statuses
            log.info("%s", describe(snapshot))


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
