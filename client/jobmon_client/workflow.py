"""A workflow: tasks and their dependencies, bound to the server and run as a whole."""

from __future__ import annotations

import getpass
import logging
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jobmon_client import binding
from jobmon_client.attributes import check_attributes, send_workflow_attributes
from jobmon_client.bulk import gc_paused
from jobmon_client.concurrency import check_limit, set_template_limits, set_workflow_limit
from jobmon_client.dag import TaskGraph, build_graph
from jobmon_client.dynamic import ResourceGiver
from jobmon_client.exceptions import WorkflowAlreadyComplete
from jobmon_client.progress import final_line, say
from jobmon_client.resources import (
    Resources,
    SettingsResolver,
    TaskSettings,
    check_max_attempts,
    check_resources,
    check_scales,
    read_resources_yaml,
)
from jobmon_client.run import (
    RunSnapshot,
    WorkflowRunResult,
    fatal_tasks,
    follow_run,
    start_run,
    stop_run,
    task_statuses,
)
from jobmon_client.statuses import StatusCode, TaskStatus, WorkflowStatus, task_status_code
from jobmon_client.task import Task
from jobmon_client.transport import GraphQLClient, ValidationFailed
from jobmon_client.usage import workflow_errors
from jobmon_client.validation import (
    DuplicateNodeArgsError,
    DuplicateTaskError,
    EmptyWorkflowError,
    WorkflowDefinitionError,
    check_name,
)

if TYPE_CHECKING:
    from jobmon_client.tool import Tool

log = logging.getLogger(__name__)


class TaskList(list[Task]):
    """The workflow's tasks in the order they were added. A list; ``values()`` is there
    for Jobmon's scripts, whose ``Workflow.tasks`` is a dict."""

    def values(self) -> list[Task]:
        return list(self)


class Workflow:
    """Tasks with dependencies. Create it with ``Tool.create_workflow``.

    The tool, ``workflow_args`` and the set of tasks and dependencies make a workflow's
    identity: binding the same again finds the workflow stored before, which
    ``run(resume=True)`` continues. Without ``workflow_args`` every workflow is new.
    """

    def __init__(
        self,
        tool: Tool,
        workflow_args: str | None = None,
        name: str | None = None,
        description: str = "",
        workflow_attributes: Mapping[str, Any] | Sequence[str] | None = None,
        max_concurrently_running: int = 10_000,
        chunk_size: int = 500,
        default_cluster_name: str | None = None,
        default_compute_resources_set: Mapping[str, Mapping[str, Any]] | None = None,
        default_resource_scales_set: Mapping[str, Mapping[str, Any]] | None = None,
        default_max_attempts: int | None = None,
    ) -> None:
        if not workflow_args:
            workflow_args = str(uuid.uuid4())
            log.info("no workflow_args given; this workflow cannot be resumed by a new process")
        self.tool = tool
        self.workflow_args = workflow_args
        self.name = check_name(name or workflow_args, "workflow")
        self.description = description
        self.max_concurrently_running = check_limit(max_concurrently_running)
        self.chunk_size = chunk_size  # Jobmon's; binding here sends batches of its own size
        self.workflow_attributes = check_attributes(
            workflow_attributes, f"workflow '{self.name}' workflow_attributes"
        )
        self.default_cluster_name: str | None = None
        if default_cluster_name:
            self.set_default_cluster_name(default_cluster_name)
        elif tool.default_cluster_name:
            self.default_cluster_name = tool.default_cluster_name
        self.default_max_attempts = (
            None
            if default_max_attempts is None
            else check_max_attempts(default_max_attempts, f"workflow '{self.name}'")
        )
        self.default_compute_resources_set: dict[str, Resources] = {}
        for cluster, resources in (default_compute_resources_set or {}).items():
            self.set_default_compute_resources_from_dict(cluster, resources)
        self.default_resource_scales_set: dict[str, dict[str, Any]] = {}
        for cluster, scales in (default_resource_scales_set or {}).items():
            self.set_default_resource_scales_from_dict(cluster, scales)
        self.user = getpass.getuser()
        self.client: GraphQLClient = tool.client
        self.workflow_id: int | None = None
        self.last_workflow_run_id: int | None = None
        self._tasks: dict[str, Task] = {}
        self._duplicates: dict[Task, None] = {}
        self._graph: TaskGraph | None = None
        self._template_limits: dict[str, int] = {}
        self._bound: binding.BoundWorkflow | None = None

    @property
    def tasks(self) -> TaskList:
        """The distinct tasks, in the order they were added."""
        return TaskList(self._tasks.values())

    @property
    def is_bound(self) -> bool:
        return self.workflow_id is not None

    def add_task(self, task: Task) -> Task:
        """Add a task. Adding a task equal to one added before (same template, node args
        and task args) raises ``DuplicateTaskError``, and one with the same node args but
        other task args ``DuplicateNodeArgsError``, as in Jobmon."""
        if not isinstance(task, Task):
            raise TypeError(f"workflow '{self.name}': add_task takes a Task, got {task!r}")
        if self.workflow_id is not None:
            raise WorkflowDefinitionError(
                f"workflow '{self.name}' is bound already; add task '{task.name}' to a new "
                "workflow instead"
            )
        first = self._tasks.get(task.node_key)
        if first is not None:
            where = f"template '{task.template.template_name}', node args {task.node_args}"
            if first == task:
                differs = (
                    " (and the two differ in their upstream tasks)"
                    if {t.node_key for t in first._upstream} != {t.node_key for t in task._upstream}
                    else ""
                )
                raise DuplicateTaskError(
                    f"workflow '{self.name}': task '{task.name}' ({where}) was added "
                    f"already{differs}; add each task once"
                )
            raise DuplicateNodeArgsError(
                f"workflow '{self.name}': task '{task.name}' ({where}) has the node args of "
                f"task '{first.name}', added before, but different task args "
                f"({task.task_args} and {first.task_args}); give it different node args"
            )
        self._tasks[task.node_key] = task
        return task

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_task(task)

    def get_tasks_by_node_args(self, task_template_name: str, **kwargs: Any) -> list[Task]:
        """The added tasks of a template whose node args have the given values."""
        wanted = {k: str(v) for k, v in kwargs.items()}
        return [
            t
            for t in self._tasks.values()
            if t.template.template_name == task_template_name
            and all(t.node_args.get(k) == v for k, v in wanted.items())
        ]

    def add_attributes(self, workflow_attributes: Mapping[str, Any]) -> None:
        """Add metadata; stored at once on a bound workflow, else when it is bound."""
        added = check_attributes(workflow_attributes, f"workflow '{self.name}' attributes")
        self.workflow_attributes.update(added)
        if self.workflow_id is not None:
            send_workflow_attributes(self.client, self.workflow_id, added)

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = check_name(
            cluster_name, f"workflow '{self.name}' default cluster"
        )

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = check_max_attempts(value, f"workflow '{self.name}'")

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, dictionary: Mapping[str, Any]
    ) -> None:
        """Default resources of the workflow's tasks on ``cluster_name`` (between the
        tool's and the template's)."""
        what = f"workflow '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        self.default_compute_resources_set[cluster] = check_resources(dictionary, what)

    def set_default_compute_resources_from_yaml(self, cluster_name: str, yaml_file: str) -> None:
        """Default resources from ``tool_resources`` of a YAML file, for ``cluster_name``."""
        what = f"workflow '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        self.default_compute_resources_set[cluster] = read_resources_yaml(
            yaml_file, ("tool_resources", cluster), what
        )

    def set_default_resource_scales_from_dict(
        self, cluster_name: str, dictionary: Mapping[str, Any]
    ) -> None:
        what = f"workflow '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        self.default_resource_scales_set[cluster] = check_scales(dictionary, what)

    def set_max_concurrently_running(self, *args: Any, **kwargs: Any) -> None:
        """Limit how many tasks run at once; applies at once to a bound workflow.

        ``set_max_concurrently_running(limit)`` limits the workflow; Jobmon's
        ``set_max_concurrently_running(task_template_name, max_concurrently_running)``
        limits one template's tasks (see ``set_task_template_max_concurrency_limit``).
        """
        if len(args) == 2 or "task_template_name" in kwargs:
            names = ("task_template_name", "max_concurrently_running")
            given = dict(zip(names, args, strict=False)) | kwargs
            self.set_task_template_max_concurrency_limit(
                given["task_template_name"], given["max_concurrently_running"]
            )
            return
        limit = args[0] if args else kwargs.get("limit", kwargs.get("max_concurrently_running"))
        self.max_concurrently_running = check_limit(limit)
        if self.workflow_id is not None:
            self._apply_limit()

    def set_task_template_max_concurrency_limit(self, task_template_name: str, limit: int) -> None:
        """Limit how many tasks of one template run at once; applies at once when bound."""
        if not any(t.template.template_name == task_template_name for t in self._tasks.values()):
            raise KeyError(
                f"There is no task_template named '{task_template_name}' associated with this "
                f"workflow. Workflow name: {self.name}"
            )
        self._template_limits[task_template_name] = check_limit(limit)
        if self.workflow_id is not None:
            self._apply_template_limits({task_template_name: limit})

    def _apply_limit(self) -> None:
        assert self.workflow_id is not None
        set_workflow_limit(self.client, self.workflow_id, self.max_concurrently_running)

    def _apply_template_limits(self, limits: Mapping[str, int]) -> None:
        assert self.workflow_id is not None
        set_template_limits(self.client, self.workflow_id, self.user, limits)

    def validate(self, strict: bool = True, raise_on_error: bool = False) -> None:
        """Check the workflow as bind does (graph, names, resources, clusters) without
        sending anything; raise what is wrong when ``raise_on_error``, else log it."""
        try:
            self._check()
        except WorkflowDefinitionError as exc:
            if raise_on_error:
                raise
            log.warning("workflow '%s' is not valid: %s", self.name, exc)

    def _check(self) -> tuple[TaskGraph, list[TaskSettings]]:
        if not self._tasks:
            raise EmptyWorkflowError(
                f"workflow '{self.name}' has no tasks; add some with add_task() or add_tasks()"
            )
        graph = build_graph(self.name, self._tasks, self._duplicates)
        resolver = SettingsResolver(
            self.default_cluster_name,
            self.default_max_attempts,
            self.default_compute_resources_set,
            self.default_resource_scales_set,
        )
        return graph, [resolver.resolve(task) for task in graph.tasks]

    def bind(self) -> int:
        """Check the workflow and store it on the server; answer its id."""
        return self._bind(stop_running=False)

    def _bind(self, *, stop_running: bool) -> int:
        if self.workflow_id is not None:
            return self.workflow_id
        started = time.monotonic()
        fields = binding.WorkflowFields(
            name=self.name,
            description=self.description,
            workflow_args=self.workflow_args,
            user=self.user,
            max_concurrently_running=self.max_concurrently_running,
            attributes=self.workflow_attributes or None,
        )
        with gc_paused():
            graph, settings = self._check()
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
        self._bound = bound
        self._graph = graph
        log.info(
            "workflow %s bound (%s, %s tasks, %.1fs)",
            bound.workflow_id,
            "new" if bound.created else "unchanged" if bound.up_to_date else "stored before",
            len(graph.tasks),
            time.monotonic() - started,
        )
        if bound.max_concurrently_running != self.max_concurrently_running:
            self._apply_limit()
        limits = {
            t.template_name: t.max_concurrently_running
            for t in dict.fromkeys(task.template for task in graph.tasks)
            if t.max_concurrently_running is not None
        }
        limits.update(self._template_limits)
        if limits:
            self._apply_template_limits(limits)
        return bound.workflow_id

    def run(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: int = 36000,
        resume: bool = False,
        reset_running_jobs: bool = True,
        distributor_startup_timeout: int = 180,
        resume_timeout: int = 300,
        configure_logging: bool = False,
        detach: bool = False,
    ) -> WorkflowRunResult:
        """Bind, start a run and, unless ``detach``, follow it to its end.

        Answers the run's status as Jobmon does (``"D"`` when done, see
        ``WorkflowRunResult``). ``resume=True`` continues a workflow that ran before: what
        is DONE is kept; ``reset_running_jobs`` kills what still runs (cold) instead of
        adopting it (hot). After ``seconds_until_timeout`` the run is stopped.
        ``distributor_startup_timeout`` and ``resume_timeout`` are accepted for Jobmon's
        scripts (no distributor starts per run here); ``configure_logging`` sets up
        logging as ``configure_client_logging()`` does.
        """
        if configure_logging:
            from jobmon_client.logs import configure_client_logging

            configure_client_logging()
        started = time.monotonic()
        # A cold resume may stop a run still going (its client died): it kills what runs.
        workflow_id = self._bind(stop_running=resume and reset_running_jobs)
        if (
            not resume
            and self._bound is not None
            and self._bound.status == WorkflowStatus.DONE.name
        ):
            # Jobmon's exception; resume=True of a DONE workflow is a run that is DONE at once
            raise WorkflowAlreadyComplete(
                f"workflow {workflow_id} '{self.name}' has run before and is DONE; "
                "run(resume=True) answers DONE, or change its workflow_args or tasks to run a "
                "new workflow"
            )
        dynamic = {
            task.task_id: task
            for task in self._bound_tasks()
            if task.compute_resources_callable is not None and task.task_id is not None
        }
        if dynamic and detach:
            log.warning(
                "workflow %s: %d task(s) have a compute_resources_callable, which a detached "
                "run cannot call; they run with the resources they were bound with",
                workflow_id,
                len(dynamic),
            )
        snapshot = start_run(
            self.client,
            workflow_id,
            self.name,
            self.user,
            resume=resume,
            reset_running_jobs=reset_running_jobs,
            fail_fast=fail_fast,
            seconds_until_timeout=seconds_until_timeout,
            dynamic_resources=bool(dynamic) and not detach,
        )
        self.last_workflow_run_id = snapshot.workflow_run_id
        if not detach:
            giver = ResourceGiver(self.client, workflow_id, self.user, dynamic) if dynamic else None
            try:
                snapshot = follow_run(
                    self.client,
                    snapshot,
                    seconds_until_timeout,
                    show_progress=sys.stdout.isatty(),
                    on_update=giver,
                )
            except WorkflowDefinitionError:
                # a task's function failed or answered nonsense: the run cannot go on
                stop_run(self.client, snapshot.workflow_run_id)
                raise
        return self._result(snapshot, time.monotonic() - started, detach)

    def _result(self, snapshot: RunSnapshot, elapsed: float, detached: bool) -> WorkflowRunResult:
        bound = self._bound_tasks()
        fatal = fatal_tasks(self.client, snapshot.workflow_id) if snapshot.failed else []
        failed = [task_id for task_id, _ in fatal]
        if not detached:
            # The last line of a followed run: how it ended and, if tasks failed, which.
            say(final_line(snapshot, fatal, elapsed), logging.WARNING if fatal else logging.INFO)
        finals: dict[int, StatusCode] | None = None
        if snapshot.workflow_status == WorkflowStatus.DONE.name:
            # every task is DONE: no ids are needed (a workflow bound unchanged reads them
            # only when asked, see task_final_statuses)
            done = task_status_code(TaskStatus.DONE.name)
            for task in bound:
                task.final_status = done
        elif not detached:
            finals = {
                task_id: task_status_code(status)
                for task_id, status in task_statuses(self.client, snapshot.workflow_id).items()
            }
            for task in bound:
                if task.task_id in finals:
                    task.final_status = finals[task.task_id]
        return WorkflowRunResult(
            run_status=snapshot.run_status,
            workflow_status=snapshot.workflow_status,
            workflow_id=snapshot.workflow_id,
            workflow_run_id=snapshot.workflow_run_id,
            total_tasks=snapshot.total_tasks,
            done_count=snapshot.done,
            failed_count=snapshot.failed,
            failed_task_ids=failed,
            elapsed_time=elapsed,
            task_final_statuses=finals
            if finals is not None
            else lambda: {
                task.task_id: task.final_status
                for task in bound
                if task.final_status is not None and task.task_id is not None
            },
        )

    def _bound_tasks(self) -> list[Task]:
        """Every bound Task object, aliases too (references only: no object per task)."""
        if self._graph is None:
            return []
        return self._graph.tasks + [alias for alias, _ in self._graph.aliases]

    def get_errors(self, limit: int = 1000) -> dict[int, dict[str, Any]]:
        """Errors of up to ``limit`` task instances, by task id.

        Each entry has Jobmon's keys, for the task's latest failed attempt
        (``{"task_instance_id": ..., "error_log": [{"task_instance_error_log_id",
        "error_time", "description"}]}``), and this client's: ``task_name`` and
        ``errors`` (every failed attempt: ``description``, ``time``, ``exit_code``,
        ``task_instance_id``).
        """
        if self.workflow_id is None:
            raise WorkflowDefinitionError(
                f"workflow '{self.name}' is not bound; call bind() or run() first"
            )
        return workflow_errors(self.client, self.workflow_id, limit)

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, workflow_id={self.workflow_id})"
