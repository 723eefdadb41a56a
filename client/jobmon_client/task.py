"""A task: one command of a workflow, made from a task template."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jobmon_client.validation import CycleError, WorkflowDefinitionError

if TYPE_CHECKING:
    from jobmon_client.resources import Resources
    from jobmon_client.retry_policy import RetryPolicy
    from jobmon_client.statuses import StatusCode
    from jobmon_client.task_template import TaskTemplate


_NO_TASKS: frozenset[Task] = frozenset()


class Task:
    """A node of the workflow's DAG. Create tasks with ``TaskTemplate.create_task``.

    ``node_key`` is the task's identity within a workflow (its template version and node
    args): two tasks with the same key are the same task. Tasks compare equal, as in
    Jobmon, when they have the same node and the same task args.
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
        "_attributes",
        "compute_resources_callable",
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
        task_attributes: dict[str, str | None] | None = None,
        compute_resources_callable: Callable[..., Mapping[str, Any]] | None = None,
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
        self.final_status: StatusCode | None = None
        # None, and no set of upstream or downstream tasks, until there is something in
        # them: a million tasks hold a third less memory and give the collector less to do
        self._attributes: dict[str, str | None] | None = task_attributes or None
        self.compute_resources_callable = compute_resources_callable
        self._upstream: set[Task] | frozenset[Task] = _NO_TASKS
        self._downstream: set[Task] | frozenset[Task] = _NO_TASKS

    @property
    def task_attributes(self) -> dict[str, str | None]:
        """Metadata stored with the task when it is bound."""
        if self._attributes is None:
            self._attributes = {}
        return self._attributes

    @task_attributes.setter
    def task_attributes(self, value: dict[str, str | None] | None) -> None:
        self._attributes = value

    @property
    def canonical_node_args(self) -> str:
        """``hashing.canonical(node_args)``: the node key after its template's part."""
        return self.node_key[len(self.template._version_prefix) :]

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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return (
            self is other
            or self.node_key == other.node_key
            and list(self.task_args.items()) == list(other.task_args.items())
        )

    def __hash__(self) -> int:
        # equal tasks have equal node keys; a string keeps its own hash once computed
        return hash(self.node_key)

    def __lt__(self, other: Task) -> bool:
        return (self.node_key, tuple(self.task_args.items())) < (
            other.node_key,
            tuple(other.task_args.items()),
        )

    def add_attribute(self, attribute: str, value: object) -> None:
        """Record a piece of metadata with the task (stored when it is bound)."""
        from jobmon_client.validation import check_attributes

        self.task_attributes.update(
            check_attributes({attribute: value}, f"task '{self.name}' attributes")
        )

    def resource_usage(self) -> dict[str, Any]:
        """What this task's finished attempts used.

        Jobmon's keys: ``num_attempts``, ``nodename``, ``runtime`` (seconds) and ``memory``
        (bytes) of the latest attempt that finished DONE; and this client's: count,
        min/median/max memory and runtime, and suggested resources. The task must be bound.
        """
        return self.template.tool.task_resource_usage(self._bound_id("resource_usage"))

    def get_errors(self) -> dict[str, Any] | None:
        """The errors of the task's latest attempt that failed, in Jobmon's shape:
        ``{"task_instance_id": ..., "error_log": [{"task_instance_error_log_id",
        "error_time", "description"}]}``; None when no attempt failed."""
        return self.template.tool.task_errors(self._bound_id("get_errors"))

    def _bound_id(self, what: str) -> int:
        if self.task_id is None:
            raise WorkflowDefinitionError(
                f"task '{self.name}' is not bound yet; bind or run its workflow before {what}()"
            )
        return self.task_id

    def update_compute_resources(self, **kwargs: Any) -> None:
        """Change some of the task's own compute resources, keeping the others."""
        from jobmon_client.resources import check_resources

        merged = {**(self.compute_resources or {}), **kwargs}
        self.compute_resources = check_resources(merged, f"task '{self.name}'")

    def update_resource_scales(self, **kwargs: Any) -> None:
        """Change some of the task's resource scales, keeping the others."""
        from jobmon_client.retry_policy import RetryPolicy

        what = f"task '{self.name}'"
        current = dict(self.retry_policy.resource_scales or {}) if self.retry_policy else {}
        fallback = self.retry_policy.fallback_queues if self.retry_policy else None
        self.retry_policy = RetryPolicy.checked({**current, **kwargs}, fallback, what)

    def set_compute_resources_from_yaml(self, cluster_name: str, yaml_file: str) -> None:
        """The task's own resources from ``task_template_resources`` of a resources file,
        for its template and ``cluster_name``; the task then runs on that cluster."""
        from jobmon_client.resources import read_resources_yaml
        from jobmon_client.validation import check_name

        what = f"task '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        self.compute_resources = read_resources_yaml(
            yaml_file, ("task_template_resources", self.template.template_name, cluster), what
        )
        self.cluster_name = cluster

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
        upstream = self._upstream
        if not isinstance(upstream, set):
            upstream = self._upstream = set()
        upstream.add(task)
        downstream = task._downstream
        if not isinstance(downstream, set):
            downstream = task._downstream = set()
        downstream.add(self)

    def add_downstream(self, task: Task) -> None:
        """Make ``task`` wait for this task."""
        if not isinstance(task, Task):
            raise TypeError(f"task '{self.name}': a downstream must be a Task, got {task!r}")
        task.add_upstream(self)

    def add_upstreams(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_upstream(task)

    def add_downstreams(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.add_downstream(task)

    def __repr__(self) -> str:
        id_part = f", task_id={self._task_id}" if self._task_id is not None else ""
        return f"Task(name={self.name!r}{id_part})"
