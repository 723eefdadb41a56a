"""A workflow: tasks and their dependencies, bound to the server and run as a whole."""

from __future__ import annotations

import getpass
import itertools
import logging
import sys
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jobmon_client import binding
from jobmon_client.bulk import gc_paused
from jobmon_client.dag import TaskGraph, build_graph
from jobmon_client.resources import SettingsResolver, TaskSettings, check_max_attempts
from jobmon_client.run import (
    ERROR_PAGE_SIZE,
    RunSnapshot,
    WorkflowRunResult,
    failed_task_ids,
    follow_run,
    iter_errors,
    start_run,
)
from jobmon_client.task import Task
from jobmon_client.transport import GraphQLClient, ValidationFailed, unwrap
from jobmon_client.validation import WorkflowDefinitionError, check_name

if TYPE_CHECKING:
    from jobmon_client.tool import Tool

log = logging.getLogger(__name__)

SET_MAX_CONCURRENTLY_RUNNING = """
mutation SetMaxConcurrentlyRunning($workflowId: Int!, $limit: Int!) {
  setMaxConcurrentlyRunning(workflowId: $workflowId, limit: $limit) {
    __typename
    ... on Workflow { maxConcurrentlyRunning }
    ... on Error { message }
  }
}
"""


class Workflow:
    """Tasks with dependencies. Create it with ``Tool.create_workflow``.

    The tool, ``workflow_args`` and the set of tasks and dependencies make a workflow's
    identity: binding the same again finds the workflow stored before, which
    ``run(resume=True)`` continues. Without ``workflow_args`` every workflow is new.
    """

    def __init__(
        self,
        tool: Tool,
        name: str | None = None,
        workflow_args: str | None = None,
        description: str = "",
        max_concurrently_running: int = 10_000,
        default_cluster_name: str | None = None,
        default_max_attempts: int | None = None,
    ) -> None:
        if not workflow_args:
            workflow_args = str(uuid.uuid4())
            log.info("no workflow_args given; this workflow cannot be resumed by a new process")
        self.tool = tool
        self.workflow_args = workflow_args
        self.name = check_name(name or workflow_args, "workflow")
        self.description = description
        self.max_concurrently_running = _check_limit(max_concurrently_running)
        self.default_cluster_name = (
            None
            if default_cluster_name is None
            else check_name(default_cluster_name, f"workflow '{self.name}' default cluster")
        )
        self.default_max_attempts = (
            None
            if default_max_attempts is None
            else check_max_attempts(default_max_attempts, f"workflow '{self.name}'")
        )
        self.user = getpass.getuser()
        self.client: GraphQLClient = tool.client
        self.workflow_id: int | None = None
        self._tasks: dict[str, Task] = {}
        self._duplicates: dict[Task, None] = {}
        self._graph: TaskGraph | None = None
        self._settings: list[TaskSettings] = []

    @property
    def tasks(self) -> list[Task]:
        """The distinct tasks, in the order they were added."""
        return list(self._tasks.values())

    def add_task(self, task: Task) -> Task:
        """Add a task; adding the same task again is harmless."""
        if not isinstance(task, Task):
            raise TypeError(f"workflow '{self.name}': add_task takes a Task, got {task!r}")
        if self.workflow_id is not None:
            raise WorkflowDefinitionError(
                f"workflow '{self.name}' is bound already; add task '{task.name}' to a new "
                "workflow instead"
            )
        first = self._tasks.setdefault(task.node_key, task)
        if first is not task:
            self._duplicates[task] = None
        return task

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_task(task)

    def set_max_concurrently_running(self, limit: int) -> None:
        """Limit how many tasks run at once; applies at once to a bound workflow."""
        self.max_concurrently_running = _check_limit(limit)
        if self.workflow_id is not None:
            self._apply_limit()

    def _apply_limit(self) -> None:
        unwrap(
            self.client.execute(
                SET_MAX_CONCURRENTLY_RUNNING,
                {"workflowId": self.workflow_id, "limit": self.max_concurrently_running},
            ),
            "setMaxConcurrentlyRunning",
        )

    def bind(self) -> int:
        """Check the workflow and store it on the server; answer its id."""
        return self._bind(stop_running=False)

    def _bind(self, *, stop_running: bool) -> int:
        if self.workflow_id is not None:
            return self.workflow_id
        if not self._tasks:
            raise WorkflowDefinitionError(
                f"workflow '{self.name}' has no tasks; add some with add_task() or add_tasks()"
            )
        started = time.monotonic()
        fields = binding.WorkflowFields(
            name=self.name,
            description=self.description,
            workflow_args=self.workflow_args,
            user=self.user,
            max_concurrently_running=self.max_concurrently_running,
        )
        with gc_paused():
            graph = build_graph(self.name, self._tasks, self._duplicates)
            resolver = SettingsResolver(self.default_cluster_name, self.default_max_attempts)
            settings = [resolver.resolve(task) for task in graph.tasks]
            try:
                bound = binding.bind(
                    self.client, self.tool.name, fields, graph, settings, stop_running=stop_running
                )
            except binding.RunningWorkflow as exc:
                raise ValidationFailed(
                    f"workflow {exc.workflow_id} '{self.name}' has a run that is still RUNNING "
                    "and its tasks changed since it was bound; resume it cold "
                    "(run(resume=True, reset_running_jobs=True)) to stop that run first, or "
                    f"stop it with 'jobmon workflow stop -w {exc.workflow_id}'"
                ) from None
        self.workflow_id = bound.workflow_id
        self._graph = graph
        self._settings = settings
        log.info(
            "workflow %s bound (%s, %s tasks, %.1fs)",
            bound.workflow_id,
            "new" if bound.created else "unchanged" if bound.up_to_date else "stored before",
            len(graph.tasks),
            time.monotonic() - started,
        )
        if bound.max_concurrently_running != self.max_concurrently_running:
            self._apply_limit()
        return bound.workflow_id

    def run(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: int = 36000,
        resume: bool = False,
        reset_running_jobs: bool = True,
        detach: bool = False,
    ) -> WorkflowRunResult:
        """Bind, start a run and, unless ``detach``, follow it to its end.

        ``resume=True`` continues a workflow that ran before: what is DONE is kept;
        ``reset_running_jobs`` kills what still runs (cold) instead of adopting it (hot).
        After ``seconds_until_timeout`` the run is stopped.
        """
        started = time.monotonic()
        # A cold resume may stop a run still going (its client died): it kills what runs.
        workflow_id = self._bind(stop_running=resume and reset_running_jobs)
        snapshot = start_run(
            self.client,
            workflow_id,
            self.name,
            self.user,
            resume=resume,
            reset_running_jobs=reset_running_jobs,
            fail_fast=fail_fast,
            seconds_until_timeout=seconds_until_timeout,
        )
        if not detach:
            snapshot = follow_run(
                self.client, snapshot, seconds_until_timeout, show_progress=sys.stdout.isatty()
            )
        return self._result(snapshot, time.monotonic() - started)

    def _result(self, snapshot: RunSnapshot, elapsed: float) -> WorkflowRunResult:
        bound = self._bound_settings()
        failed = failed_task_ids(self.client, snapshot.workflow_id) if snapshot.failed else []
        failed_ids = set(failed)
        for task, _ in bound:
            if snapshot.workflow_status == "DONE":
                task.final_status = "DONE"
            elif task.task_id in failed_ids:
                task.final_status = "ERROR_FATAL"
        return WorkflowRunResult(
            final_status=snapshot.workflow_status,
            workflow_id=snapshot.workflow_id,
            workflow_run_id=snapshot.workflow_run_id,
            total_tasks=snapshot.total_tasks,
            done_count=snapshot.done,
            failed_count=snapshot.failed,
            failed_task_ids=failed,
            elapsed_time=elapsed,
            run_status=snapshot.run_status,
        )

    def _bound_settings(self) -> list[tuple[Task, TaskSettings]]:
        """Every bound Task object (aliases too) with its settings."""
        if self._graph is None:
            return []
        pairs = list(zip(self._graph.tasks, self._settings, strict=True))
        pairs.extend((alias, self._settings[i]) for alias, i in self._graph.aliases)
        return pairs

    def get_errors(self, limit: int = 1000) -> dict[int, dict[str, Any]]:
        """Up to ``limit`` task instance errors, by task id.

        Each entry is ``{"task_name": ..., "errors": [{"description", "time", "exit_code",
        "task_instance_id"}, ...]}``.
        """
        if self.workflow_id is None:
            raise WorkflowDefinitionError(
                f"workflow '{self.name}' is not bound; call bind() or run() first"
            )
        errors: dict[int, dict[str, Any]] = {}
        page_size = max(1, min(limit, ERROR_PAGE_SIZE))
        for error in itertools.islice(iter_errors(self.client, self.workflow_id, page_size), limit):
            entry = errors.setdefault(
                int(error["taskId"]), {"task_name": error["taskName"], "errors": []}
            )
            entry["errors"].append(
                {
                    "description": error["description"],
                    "time": error["time"],
                    "exit_code": error["exitCode"],
                    "task_instance_id": error["taskInstanceId"],
                }
            )
        return errors

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, workflow_id={self.workflow_id})"


def _check_limit(limit: object) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise WorkflowDefinitionError(
            f"max_concurrently_running must be a positive int, got {limit!r}"
        )
    return limit
