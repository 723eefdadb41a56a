"""A task template: a command with named holes, and the tasks made from it."""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jobmon_client.bulk import gc_paused
from jobmon_client.hashing import canonical
from jobmon_client.resources import (
    Resources,
    check_max_attempts,
    check_resources,
    check_scales,
    read_resources_yaml,
    read_scales_yaml,
)
from jobmon_client.task import Task
from jobmon_client.task_options import TaskOptions
from jobmon_client.validation import (
    TemplateArgumentError,
    WorkflowDefinitionError,
    check_command,
    check_name,
)

if TYPE_CHECKING:
    from jobmon_client.tool import Tool

RESERVED_ARG_NAMES = frozenset(
    {
        "name",
        "upstream_tasks",
        "compute_resources",
        "compute_resources_callable",
        "max_attempts",
        "cluster_name",
        "resource_scales",
        "fallback_queues",
        "task_attributes",
        "max_concurrently_running",
    }
)
# Jobmon replaces / \ ' " and spaces in default task names; control characters too here.
_NAME_SPECIAL_CHARACTERS = re.compile(r"[/\\'\" \x00-\x1f\x7f-\x9f]")
MAX_DEFAULT_NAME = 249


def command_template_fields(template_name: str, command_template: str) -> list[str]:
    """The names of the ``{holes}`` of a command template, in order of first use."""
    fields: dict[str, None] = {}
    try:
        parsed = list(string.Formatter().parse(command_template))
    except ValueError as exc:
        raise TemplateArgumentError(
            f"task template '{template_name}': the command template is malformed ({exc}); "
            "write a literal brace as '{{' or '}}'"
        ) from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if not field or field.isdigit() or any(c in field for c in ".[]"):
            raise TemplateArgumentError(
                f"task template '{template_name}': '{{{field}}}' is not a named arg; "
                "use names such as {location_id}"
            )
        fields[field] = None
    return list(fields)


def _is_expandable(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


class TaskTemplate:
    """One version of a task template of a tool. Get it with ``Tool.get_task_template``.

    ``node_args`` say what distinguishes the tasks of the template (a location, say);
    ``task_args`` are the same for every task of a workflow and belong to its identity;
    ``op_args`` change how a command runs without changing what it computes (an output
    directory, say) and are not part of any identity.
    """

    def __init__(
        self,
        tool: Tool,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] = (),
        task_args: Sequence[str] = (),
        op_args: Sequence[str] = (),
    ) -> None:
        what = f"task template '{template_name}'"
        check_name(template_name, "task template")
        check_command(command_template, what)
        for kind, names in (
            ("node_args", node_args),
            ("task_args", task_args),
            ("op_args", op_args),
        ):
            if isinstance(names, str):
                raise TemplateArgumentError(
                    f"{what}: {kind} must be a list of names, such as [{names!r}], not a str"
                )
        self.tool = tool
        self.template_name = template_name
        self.command_template = command_template
        self.node_args = list(node_args)
        self.task_args = list(task_args)
        self.op_args = list(op_args)
        self.default_cluster_name: str | None = None
        self.default_compute_resources: dict[str | None, Resources] = {}
        self.default_resource_scales: dict[str | None, dict[str, Any]] = {}
        self.default_max_attempts: int | None = None
        # Jobmon's create_tasks(max_concurrently_running=): applied to the template's
        # tasks in the workflow when it is bound.
        self.max_concurrently_running: int | None = None
        self._check_args()
        self._arg_names = frozenset(self.node_args + self.task_args + self.op_args)
        self._version_prefix = (
            repr((template_name, command_template, *map(sorted, (node_args, task_args, op_args))))
            + "\x1e"
        )

    def _check_args(self) -> None:
        what = f"task template '{self.template_name}'"
        declared: dict[str, str] = {}
        for kind, names in (
            ("node_args", self.node_args),
            ("task_args", self.task_args),
            ("op_args", self.op_args),
        ):
            for arg in names:
                if arg in RESERVED_ARG_NAMES:
                    raise TemplateArgumentError(
                        f"{what}: '{arg}' is a keyword of create_task; rename the arg "
                        f"(reserved: {', '.join(sorted(RESERVED_ARG_NAMES))})"
                    )
                if arg in declared:
                    raise TemplateArgumentError(
                        f"{what}: arg '{arg}' is declared in both {declared[arg]} and {kind}; "
                        "declare it once"
                    )
                declared[arg] = kind
        used = command_template_fields(self.template_name, self.command_template)
        for arg in used:
            if arg not in declared:
                raise TemplateArgumentError(
                    f"{what}: the command template uses '{{{arg}}}', which is not a node, task "
                    f"or op arg; add '{arg}' to node_args, task_args or op_args"
                )
        for arg, kind in declared.items():
            if arg not in used:
                raise TemplateArgumentError(
                    f"{what}: {kind} declares '{arg}', which the command template does not "
                    f"use; add '{{{arg}}}' to the command template or remove it from {kind}"
                )

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = check_name(
            cluster_name, f"task template '{self.template_name}' default cluster"
        )

    @property
    def default_compute_resources_set(self) -> dict[str | None, Resources]:
        """Jobmon's name: default compute resources by cluster."""
        return self.default_compute_resources

    @property
    def default_resource_scales_set(self) -> dict[str | None, dict[str, Any]]:
        return self.default_resource_scales

    def set_default_compute_resources_from_dict(
        self, cluster_name: str | None, compute_resources: Mapping[str, Any]
    ) -> None:
        """Default resources on ``cluster_name``, which becomes the template's default
        cluster (as in Jobmon); ``None`` means on whichever cluster."""
        what = f"task template '{self.template_name}'"
        cluster = check_name(cluster_name, f"{what} cluster") if cluster_name else None
        self.default_compute_resources[cluster] = check_resources(compute_resources, what)
        if cluster is not None:
            self.default_cluster_name = cluster

    def update_default_compute_resources(self, cluster_name: str, **kwargs: Any) -> None:
        """Change some default resources on ``cluster_name``, keeping the others."""
        what = f"task template '{self.template_name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        merged = {**self.default_compute_resources.get(cluster, {}), **kwargs}
        self.default_compute_resources[cluster] = check_resources(merged, what)
        if self.default_cluster_name is None:
            self.default_cluster_name = cluster

    def set_default_resource_scales_from_dict(
        self, cluster_name: str | None, resource_scales: Mapping[str, Any]
    ) -> None:
        """Default resource scales of the template's tasks on ``cluster_name``."""
        what = f"task template '{self.template_name}'"
        cluster = check_name(cluster_name, f"{what} cluster") if cluster_name else None
        self.default_resource_scales[cluster] = check_scales(resource_scales, what)
        if cluster is not None:
            self.default_cluster_name = cluster

    def update_default_resource_scales(self, cluster_name: str, **kwargs: Any) -> None:
        what = f"task template '{self.template_name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        merged = {**self.default_resource_scales.get(cluster, {}), **kwargs}
        self.default_resource_scales[cluster] = check_scales(merged, what)
        if self.default_cluster_name is None:
            self.default_cluster_name = cluster

    def set_default_compute_resources_from_yaml(
        self, yaml_file: str, default_cluster_name: str | None = None
    ) -> None:
        """Default resources from a YAML resources file, on ``default_cluster_name`` (by
        default the template's default cluster).

        They are read from ``task_template_resources: {TEMPLATE: {CLUSTER: {...}}}``, the
        layout of ``Tool.set_default_compute_resources_from_yaml``. The arguments are in
        Jobmon's order; the older order (cluster first) is recognised when the file
        exists.
        """
        yaml_file, cluster = self._yaml_arguments(yaml_file, default_cluster_name)
        what = f"task template '{self.template_name}'"
        self.default_compute_resources[cluster] = read_resources_yaml(
            yaml_file, ("task_template_resources", self.template_name, cluster), what
        )

    def set_default_resource_scales_from_yaml(
        self, yaml_file: str, default_cluster_name: str | None = None
    ) -> None:
        """Default resource scales from ``task_template_scales`` of a YAML file."""
        yaml_file, cluster = self._yaml_arguments(yaml_file, default_cluster_name)
        what = f"task template '{self.template_name}'"
        self.default_resource_scales[cluster] = read_scales_yaml(
            yaml_file, ("task_template_scales", self.template_name, cluster), what
        )

    def _yaml_arguments(self, yaml_file: str, cluster_name: str | None) -> tuple[str, str]:
        import os

        if cluster_name and not os.path.isfile(yaml_file) and os.path.isfile(cluster_name):
            yaml_file, cluster_name = cluster_name, yaml_file
        what = f"task template '{self.template_name}'"
        cluster = cluster_name or self.default_cluster_name
        if not cluster:
            raise WorkflowDefinitionError(
                f"{what}: resources from '{yaml_file}' need a cluster; pass "
                "default_cluster_name or call set_default_cluster_name first"
            )
        return yaml_file, check_name(cluster, f"{what} cluster")

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = check_max_attempts(
            value, f"task template '{self.template_name}'"
        )

    def resource_usage(
        self,
        workflows: Iterable[int] | None = None,
        node_args: Mapping[str, Any] | None = None,
        ci: float | None = None,
        workflow_ids: Iterable[int] | None = None,
    ) -> dict[str, Any]:
        """What this template's finished attempts used (in every workflow of the tool, or
        only in ``workflows``): Jobmon's keys ``num_tasks``, ``min_mem``, ``max_mem``,
        ``median_mem`` (bytes), ``min_runtime``, ``max_runtime``, ``median_runtime``
        (seconds), and a suggestion. ``node_args`` keeps the tasks whose node args have
        one of the values given (``{"location_id": [1, 2]}``, or one value). Jobmon's ``ci``
        (a confidence interval) is not supported: it raises."""
        if ci is not None:
            raise WorkflowDefinitionError(
                f"task template '{self.template_name}': resource_usage(ci=) is not supported; "
                "the medians and maxima are of every finished attempt"
            )
        wanted = None
        if node_args is not None:
            unknown = sorted(set(node_args) - set(self.node_args))
            if unknown:
                raise TemplateArgumentError(
                    f"task template '{self.template_name}': resource_usage(node_args=) names "
                    f"{', '.join(unknown)}, which are not its node args {self.node_args}"
                )
            wanted = {
                arg: [str(v) for v in (vals if _is_expandable(vals) else [vals])]
                for arg, vals in node_args.items()
            }
        chosen = workflows if workflows is not None else workflow_ids
        return self.tool.template_resource_usage(
            self.template_name, None if chosen is None else list(chosen), wanted
        )

    def create_task(
        self,
        name: str | None = None,
        upstream_tasks: Iterable[Task] | None = (),
        task_attributes: Mapping[str, Any] | Sequence[str] | None = None,
        max_attempts: int | None = None,
        compute_resources: Mapping[str, Any] | Callable[..., Mapping[str, Any]] | None = None,
        compute_resources_callable: Callable[..., Mapping[str, Any]] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        cluster_name: str | None = None,
        fallback_queues: Iterable[str] | None = None,
        **args: Any,
    ) -> Task:
        """Make one task; ``args`` gives a value to every node, task and op arg.

        The keyword arguments are Jobmon's, in its order. ``resource_scales`` and
        ``fallback_queues`` say how a retry after running out of memory or runtime asks
        for more, and where it may go (see ``retry_policy``). ``compute_resources`` may be
        a function returning a dict (or give it as ``compute_resources_callable``): it is
        called once, without arguments, when the workflow is bound, and what it returns
        is merged over the other resources. ``task_attributes`` are stored with the task.
        """
        what = f"task {name or self._describe(args)} of template '{self.template_name}'"
        self._check_arg_names(args, what)
        if not name:
            name = self._default_name({arg: str(args[arg]) for arg in self.node_args})
        else:
            check_name(name, what)
        options = TaskOptions.checked(
            f"task '{name}' of template '{self.template_name}'",
            cluster_name,
            compute_resources,
            max_attempts,
            resource_scales,
            fallback_queues,
            compute_resources_callable,
            task_attributes,
        )
        return self._make_task(name, args, options, upstream_tasks or ())

    def create_tasks(
        self,
        max_attempts: int | None = None,
        upstream_tasks: Iterable[Task] | None = (),
        max_concurrently_running: int | None = None,
        compute_resources: Mapping[str, Any] | Callable[..., Mapping[str, Any]] | None = None,
        compute_resources_callable: Callable[..., Mapping[str, Any]] | None = None,
        resource_scales: Mapping[str, Any] | None = None,
        cluster_name: str | None = None,
        name: str | None = None,
        fallback_queues: Iterable[str] | None = None,
        task_attributes: Mapping[str, Any] | Sequence[str] | None = None,
        **args: Any,
    ) -> list[Task]:
        """Make one task per combination of the node args given as iterables.

        A node arg given as a list, range or other iterable (but not a str) is expanded; the
        tasks are the cross product of the expanded node args; a template without node args
        makes one task. Everything else is the same for every task. The keyword arguments
        are Jobmon's, in its order: ``max_concurrently_running`` limits how many tasks of
        this template run at once in the workflow; ``name`` (Jobmon's array name) is
        accepted, and the tasks keep their default names.
        """
        what = f"tasks {self._describe(args)} of template '{self.template_name}'"
        self._check_arg_names(args, what)
        options = TaskOptions.checked(
            what,
            cluster_name,
            compute_resources,
            max_attempts,
            resource_scales,
            fallback_queues,
            compute_resources_callable,
            task_attributes,
        )
        if max_concurrently_running is not None:
            if (
                not isinstance(max_concurrently_running, int)
                or isinstance(max_concurrently_running, bool)
                or max_concurrently_running < 1
            ):
                raise WorkflowDefinitionError(
                    f"{what}: max_concurrently_running must be a positive int, got "
                    f"{max_concurrently_running!r}"
                )
            self.max_concurrently_running = max_concurrently_running
        upstream = list(upstream_tasks or ())
        expanded = {
            arg: list(value)
            for arg, value in args.items()
            if arg in self.node_args and _is_expandable(value)
        }
        names = list(expanded)
        tasks = []
        with gc_paused():
            for combination in itertools.product(*expanded.values()):
                args.update(zip(names, combination, strict=True))
                tasks.append(self._make_task(None, args, options, upstream))
        return tasks

    def _check_arg_names(self, args: Mapping[str, Any], what: str) -> None:
        unknown = [arg for arg in args if arg not in self._arg_names]
        if unknown:
            raise TemplateArgumentError(
                f"{what}: unknown arg(s) {', '.join(repr(a) for a in unknown)}; the template "
                f"takes node_args {self.node_args}, task_args {self.task_args} and op_args "
                f"{self.op_args}"
            )
        if len(args) != len(self._arg_names):
            missing = sorted(arg for arg in self._arg_names if arg not in args)
            raise TemplateArgumentError(
                f"{what}: missing arg(s) {', '.join(repr(a) for a in missing)}; "
                "pass a value for each"
            )

    def _make_task(
        self,
        name: str | None,
        args: Mapping[str, Any],
        options: TaskOptions,
        upstream_tasks: Iterable[Task],
    ) -> Task:
        node_args = {arg: str(args[arg]) for arg in self.node_args}
        if name is None:
            name = self._default_name(node_args)
        try:
            command = self.command_template.format_map(args)
        except (ValueError, TypeError) as exc:
            raise TemplateArgumentError(
                f"task '{name}': cannot fill the command template of '{self.template_name}' ({exc})"
            ) from None
        task = Task(
            template=self,
            name=name,
            command=check_command(command, f"task '{name}'"),
            node_args=node_args,
            task_args={arg: str(args[arg]) for arg in self.task_args},
            node_key=self._version_prefix + canonical(node_args),
            cluster_name=options.cluster_name,
            compute_resources=options.compute_resources,
            max_attempts=options.max_attempts,
            retry_policy=options.retry_policy,
            task_attributes=dict(options.task_attributes) if options.task_attributes else None,
            compute_resources_callable=options.compute_resources_callable,
        )
        task.add_upstreams(upstream_tasks)
        return task

    def _default_name(self, node_args: dict[str, str]) -> str:
        """Jobmon's default name: ``template_arg-value_arg-value`` with ``/\\'" `` and
        control characters as ``_``, cut at 249 characters."""
        name = self.template_name + "_" + "_".join([f"{k}-{v}" for k, v in node_args.items()])
        name = _NAME_SPECIAL_CHARACTERS.sub("_", name)
        return name if len(name) < MAX_DEFAULT_NAME + 1 else name[:MAX_DEFAULT_NAME]

    def _describe(self, args: Mapping[str, Any]) -> str:
        node_args = {arg: args[arg] for arg in self.node_args if arg in args}
        return f"with node args {node_args}" if node_args else "(no node args)"

    def __repr__(self) -> str:
        return f"TaskTemplate(template_name={self.template_name!r})"
