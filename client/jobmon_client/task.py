"""A task: one command of a workflow, made from a task template."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jobmon_client.validation import CycleError

if TYPE_CHECKING:
    from jobmon_client.resources import Resources
    from jobmon_client.retry_policy import RetryPolicy
    from jobmon_client.task_template import TaskTemplate


class Task:
    """A node of the workflow's DAG. Create tasks with ``TaskTemplate.create_task``.

    ``node_key`` is the task's identity within a workflow (its template version and node
    args): two tasks with the same key are the same task.
    """

    __slots__ = (
        "template",
        "name",
        "command",
        "node_args",
        "task_args",
        "node_key",
        "cluster_name",
        "compute_resources",
        "max_attempts",
        "retry_policy",
        "_task_id",
        "_ids",
        "final_status",
        "_upstream",
        "_downstream",
    )

    def __init__(
        self,
        template: TaskTemplate,
        name: str,
        command: str,
        node_args: dict[str, str],
        task_args: dict[str, str],
        node_key: str,
        cluster_name: str | None = None,
        compute_resources: Resources | None = None,
        max_attempts: int | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.template = template
        self.name = name
        self.command = command
        self.node_args = node_args
        self.task_args = task_args
        self.node_key = node_key
        self.cluster_name = cluster_name
        self.compute_resources = compute_resources
        self.max_attempts = max_attempts
        self.retry_policy = retry_policy
        self._task_id: int | None = None
        self._ids: Any = None  # reads the ids of a workflow bound before, when first asked
        self.final_status: str | None = None
        self._upstream: set[Task] = set()
        self._downstream: set[Task] = set()

    @property
    def task_id(self) -> int | None:
        """The task's id on the server, once its workflow is bound."""
        if self._task_id is None and self._ids is not None:
            self._task_id = self._ids.id_of(self)
            self._ids = None
        return self._task_id

    @task_id.setter
    def task_id(self, value: int | None) -> None:
        self._task_id = value
        self._ids = None

    def bind_ids(self, ids: Any) -> None:
        """Learn the id from ``ids.id_of(task)`` when it is first asked for."""
        self._task_id = None
        self._ids = ids

    def resource_usage(self) -> dict[str, Any]:
        """What this task's finished attempts used: count, min/median/max memory (bytes) and
        runtime (seconds), and suggested resources. The task must be bound."""
        from jobmon_client.usage import task_usage
        from jobmon_client.validation import WorkflowDefinitionError

        if self.task_id is None:
            raise WorkflowDefinitionError(
                f"task '{self.name}' is not bound yet; bind or run its workflow first"
            )
        return task_usage(self.template.tool.client, self.task_id)

    @property
    def upstream_tasks(self) -> frozenset[Task]:
        """Tasks that must be DONE before this one runs."""
        return frozenset(self._upstream)

    @property
    def downstream_tasks(self) -> frozenset[Task]:
        """Tasks that wait for this one."""
        return frozenset(self._downstream)

    def add_upstream(self, task: Task) -> None:
        """Make this task wait for ``task``."""
        if not isinstance(task, Task):
            raise TypeError(f"task '{self.name}': an upstream must be a Task, got {task!r}")
        if task is self:
            raise CycleError(f"task '{self.name}' cannot depend on itself")
        self._upstream.add(task)
        task._downstream.add(self)

    def add_downstream(self, task: Task) -> None:
        """Make ``task`` wait for this task."""
        if not isinstance(task, Task):
            raise TypeError(f"task '{self.name}': a downstream must be a Task, got {task!r}")
        task.add_upstream(self)

    def add_upstreams(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_upstream(task)

    def __repr__(self) -> str:
        id_part = f", task_id={self._task_id}" if self._task_id is not None else ""
        return f"Task(name={self.name!r}{id_part})"
