"""A tool: the application a workflow belongs to, with its templates and defaults."""

from __future__ import annotations

import getpass
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from jobmon_client.resources import (
    Resources,
    check_max_attempts,
    check_resources,
    check_scales,
    read_resources_yaml,
    read_scales_yaml,
    yaml_has,
)
from jobmon_client.task_template import TaskTemplate
from jobmon_client.transport import GraphQLClient
from jobmon_client.usage import task_errors, task_usage, template_usage
from jobmon_client.validation import WorkflowDefinitionError, check_name
from jobmon_client.workflow import Workflow

# The Tool of each name created last (while in use), for task generators, which name
# their tool instead of holding it.
_LATEST: weakref.WeakValueDictionary[str, Tool] = weakref.WeakValueDictionary()


def latest_tool(name: str) -> Tool | None:
    """The ``Tool`` named ``name`` that this process created last, if it is still in use."""
    return _LATEST.get(name)


_DEFAULT_TOOL_NAME = f"unknown-{getpass.getuser()}"


class Tool:
    """Groups task templates and workflows; holds defaults for all of them.

    ``server_url`` overrides the configured server (see ``jobmon_client.config``).
    ``active_tool_version_id`` is accepted for Jobmon's scripts; a tool here has one
    version, made when a workflow is bound.
    """

    def __init__(
        self,
        name: str = _DEFAULT_TOOL_NAME,
        active_tool_version_id: str | int = "latest",
        server_url: str | None = None,
    ) -> None:
        self.name = check_name(name, "tool")
        self.server_url = server_url
        self.client = GraphQLClient(server_url)
        self.default_cluster_name: str | None = None
        self.default_compute_resources: dict[str, Resources] = {}
        self.default_resource_scales: dict[str, dict[str, Any]] = {}
        self.default_max_attempts: int | None = None
        self._templates: dict[tuple[object, ...], TaskTemplate] = {}
        _LATEST[self.name] = self

    @property
    def default_compute_resources_set(self) -> dict[str, Resources]:
        """Jobmon's name: default compute resources by cluster."""
        return self.default_compute_resources

    @property
    def default_resource_scales_set(self) -> dict[str, dict[str, Any]]:
        """Default resource scales by cluster."""
        return self.default_resource_scales

    @property
    def active_task_templates(self) -> dict[str, TaskTemplate]:
        """The tool's task templates by name (the latest definition of each name)."""
        return {t.template_name: t for t in self._templates.values()}

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = check_name(cluster_name, f"tool '{self.name}' default cluster")

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, compute_resources: Mapping[str, Any]
    ) -> None:
        """Default resources for every task of this tool that runs on ``cluster_name``.

        A task whose cluster is named nowhere runs on the one cluster that resources are
        given for (Jobmon's rule: it becomes the default cluster); see ``resources``.
        """
        what = f"tool '{self.name}'"
        self.default_compute_resources[check_name(cluster_name, f"{what} cluster")] = (
            check_resources(compute_resources, what)
        )

    def update_default_compute_resources(self, cluster_name: str, **kwargs: Any) -> None:
        """Change some default resources on ``cluster_name``, keeping the others; the
        cluster becomes the default one if there is none yet."""
        what = f"tool '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        merged = {**self.default_compute_resources.get(cluster, {}), **kwargs}
        self.default_compute_resources[cluster] = check_resources(merged, what)
        if self.default_cluster_name is None:
            self.default_cluster_name = cluster

    def set_default_resource_scales_from_dict(
        self, cluster_name: str, resource_scales: Mapping[str, Any]
    ) -> None:
        """Default resource scales (how retries ask for more) on ``cluster_name``."""
        what = f"tool '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        self.default_resource_scales[cluster] = check_scales(resource_scales, what)

    def update_default_resource_scales(self, cluster_name: str, **kwargs: Any) -> None:
        """Change some default resource scales on ``cluster_name``, keeping the others."""
        what = f"tool '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        merged = {**self.default_resource_scales.get(cluster, {}), **kwargs}
        self.default_resource_scales[cluster] = check_scales(merged, what)
        if self.default_cluster_name is None:
            self.default_cluster_name = cluster

    def set_default_compute_resources_from_yaml(
        self,
        default_cluster_name: str,
        yaml_file: str,
        set_task_templates: bool = False,
        ignore_missing_keys: bool = False,
    ) -> None:
        """Default resources on ``default_cluster_name`` (which becomes the default cluster)
        from ``tool_resources`` in a YAML file; with ``set_task_templates``, each of the
        tool's templates from ``task_template_resources`` too.

        The file is Jobmon's resources file::

            tool_resources:
              slurm: {cores: 1, memory: 1G, runtime: 1h, queue: all.q}
            task_template_resources:
              process_location:
                slurm: {memory: 2G}

        ``ignore_missing_keys`` skips what the file lacks instead of raising.
        """
        self._from_yaml(
            "tool_resources",
            default_cluster_name,
            yaml_file,
            set_task_templates,
            ignore_missing_keys,
        )

    def set_default_resource_scales_from_yaml(
        self,
        default_cluster_name: str,
        yaml_file: str,
        set_task_templates: bool = False,
        ignore_missing_keys: bool = False,
    ) -> None:
        """As ``set_default_compute_resources_from_yaml``, for resource scales: the
        file's ``tool_scales`` and ``task_template_scales``."""
        self._from_yaml(
            "tool_scales", default_cluster_name, yaml_file, set_task_templates, ignore_missing_keys
        )

    def _from_yaml(
        self, section: str, cluster_name: str, yaml_file: str, templates: bool, ignore: bool
    ) -> None:
        what = f"tool '{self.name}'"
        cluster = check_name(cluster_name, f"{what} cluster")
        scales = section == "tool_scales"
        read = read_scales_yaml if scales else read_resources_yaml
        target: dict[str, Any] = (
            self.default_resource_scales if scales else self.default_compute_resources
        )
        try:
            target[cluster] = read(yaml_file, (section, cluster), what)
        except WorkflowDefinitionError:
            if not ignore:
                raise
        self.default_cluster_name = cluster
        if not templates:
            return
        if not self._templates:
            raise WorkflowDefinitionError(
                f"{what} has no task templates yet; call get_task_template() before "
                "reading their resources with set_task_templates=True"
            )
        for template in self.active_task_templates.values():
            try:
                if scales:
                    template.set_default_resource_scales_from_yaml(yaml_file, cluster)
                else:
                    template.set_default_compute_resources_from_yaml(yaml_file, cluster)
            except WorkflowDefinitionError:
                if not ignore:
                    raise

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = check_max_attempts(value, f"tool '{self.name}'")

    def get_task_template(
        self,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] | None = None,
        task_args: Sequence[str] | None = None,
        op_args: Sequence[str] | None = None,
        default_cluster_name: str | None = None,
        default_compute_resources: Mapping[str, Any] | None = None,
        default_resource_scales: Mapping[str, Any] | None = None,
        yaml_file: str | None = None,
        max_attempts: int | None = None,
        default_max_attempts: int | None = None,
    ) -> TaskTemplate:
        """The template with this name and definition, created on first use.

        ``default_compute_resources`` and ``default_resource_scales`` apply on
        ``default_cluster_name`` if given, else on whichever cluster the template's tasks
        run. ``yaml_file`` sets the defaults on ``default_cluster_name`` (or the tool's
        default cluster) from the file's ``task_template_resources`` (and
        ``task_template_scales``), see ``set_default_compute_resources_from_yaml``.
        ``max_attempts`` (Jobmon's name) and ``default_max_attempts`` are the same.
        """
        key = (
            template_name,
            command_template,
            *(tuple(sorted(names or ())) for names in (node_args, task_args, op_args)),
        )
        template = self._templates.pop(key, None)
        if template is None:
            template = TaskTemplate(
                self,
                template_name,
                command_template,
                node_args or (),
                task_args or (),
                op_args or (),
            )
        self._templates[key] = template  # the latest definition of a name comes last
        cluster_name = default_cluster_name or None
        if cluster_name is not None:
            template.set_default_cluster_name(cluster_name)
        if default_compute_resources is not None:
            template.set_default_compute_resources_from_dict(
                cluster_name, default_compute_resources
            )
        if default_resource_scales is not None:
            template.set_default_resource_scales_from_dict(cluster_name, default_resource_scales)
        if yaml_file is not None:
            cluster = cluster_name or self.default_cluster_name
            if cluster is None:
                raise WorkflowDefinitionError(
                    f"task template '{template_name}': resources from '{yaml_file}' need a "
                    "cluster; pass default_cluster_name or call set_default_cluster_name first"
                )
            if default_compute_resources is None:
                template.set_default_compute_resources_from_yaml(yaml_file, cluster)
            if default_resource_scales is None and yaml_has(
                yaml_file, ("task_template_scales", template_name, cluster)
            ):
                template.set_default_resource_scales_from_yaml(yaml_file, cluster)
        attempts = default_max_attempts if default_max_attempts is not None else max_attempts
        if attempts is not None:
            template.set_default_max_attempts(attempts)
        return template

    def create_workflow(
        self,
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
    ) -> Workflow:
        """A new, empty workflow of this tool; the arguments in Jobmon's order.

        ``workflow_args`` (the first positional argument, as in Jobmon) makes its
        identity; ``name`` is what is shown (by default ``workflow_args``).
        ``default_compute_resources_set`` and ``default_resource_scales_set`` map cluster
        names to defaults for the workflow's tasks. ``chunk_size`` is accepted for
        Jobmon's scripts: binding here sends tasks in batches of its own size.
        """
        return Workflow(
            tool=self,
            workflow_args=workflow_args,
            name=name,
            description=description,
            workflow_attributes=workflow_attributes,
            max_concurrently_running=max_concurrently_running,
            chunk_size=chunk_size,
            default_cluster_name=default_cluster_name,
            default_compute_resources_set=default_compute_resources_set,
            default_resource_scales_set=default_resource_scales_set,
            default_max_attempts=default_max_attempts,
        )

    # The server side of Task.resource_usage, Task.get_errors and TaskTemplate.resource_usage:
    # the tool holds the connection, so tasks and templates stay plain definitions.
    def task_resource_usage(self, task_id: int) -> dict[str, Any]:
        """What the finished attempts of the bound task ``task_id`` used."""
        return task_usage(self.client, task_id)

    def task_errors(self, task_id: int) -> dict[str, Any] | None:
        """The errors of the latest failed attempt of the bound task ``task_id``."""
        return task_errors(self.client, task_id)

    def template_resource_usage(
        self,
        template_name: str,
        workflow_ids: list[int] | None = None,
        node_args: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """What the finished attempts of this tool's template ``template_name`` used."""
        return template_usage(self.client, self.name, template_name, workflow_ids, node_args)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"
