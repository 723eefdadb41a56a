"""A tool: the application a workflow belongs to, with its templates and defaults."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from jobmon_client.resources import (
    Resources,
    check_max_attempts,
    check_resources,
    read_resources_yaml,
)
from jobmon_client.task_template import TaskTemplate
from jobmon_client.transport import GraphQLClient
from jobmon_client.validation import WorkflowDefinitionError, check_name
from jobmon_client.workflow import Workflow

# The Tool of each name created last (while in use), for task generators, which name
# their tool instead of holding it.
_LATEST: weakref.WeakValueDictionary[str, Tool] = weakref.WeakValueDictionary()


def latest_tool(name: str) -> Tool | None:
    """The ``Tool`` named ``name`` that this process created last, if it is still in use."""
    return _LATEST.get(name)


class Tool:
    """Groups task templates and workflows; holds defaults for all of them.

    ``server_url`` overrides the configured server (see ``jobmon_client.config``).
    """

    def __init__(self, name: str, server_url: str | None = None) -> None:
        self.name = check_name(name, "tool")
        self.server_url = server_url
        self.client = GraphQLClient(server_url)
        self.default_cluster_name: str | None = None
        self.default_compute_resources: dict[str, Resources] = {}
        self.default_max_attempts: int | None = None
        self._templates: dict[tuple[object, ...], TaskTemplate] = {}
        _LATEST[self.name] = self

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = check_name(cluster_name, f"tool '{self.name}' default cluster")

    def set_default_compute_resources_from_dict(
        self, cluster_name: str, compute_resources: Mapping[str, Any]
    ) -> None:
        """Default resources for every task of this tool that runs on ``cluster_name``."""
        what = f"tool '{self.name}'"
        self.default_compute_resources[check_name(cluster_name, f"{what} cluster")] = (
            check_resources(compute_resources, what)
        )

    def set_default_compute_resources_from_yaml(
        self, default_cluster_name: str, yaml_file: str
    ) -> None:
        """Default resources on ``default_cluster_name`` from ``tool_resources`` in a YAML file.

        The file is Jobmon's resources file::

            tool_resources:
              slurm: {cores: 1, memory: 1G, runtime: 1h, queue: all.q}
            task_template_resources:
              process_location:
                slurm: {memory: 2G}
        """
        what = f"tool '{self.name}'"
        cluster_name = check_name(default_cluster_name, f"{what} cluster")
        self.default_compute_resources[cluster_name] = read_resources_yaml(
            yaml_file, ("tool_resources", cluster_name), what
        )

    def set_default_max_attempts(self, max_attempts: int) -> None:
        self.default_max_attempts = check_max_attempts(max_attempts, f"tool '{self.name}'")

    def get_task_template(
        self,
        template_name: str,
        command_template: str,
        node_args: Sequence[str] | None = None,
        task_args: Sequence[str] | None = None,
        op_args: Sequence[str] | None = None,
        default_cluster_name: str | None = None,
        default_compute_resources: Mapping[str, Any] | None = None,
        default_max_attempts: int | None = None,
        yaml_file: str | None = None,
    ) -> TaskTemplate:
        """The template with this name and definition, created on first use.

        ``default_compute_resources`` apply on ``default_cluster_name`` if given, else on
        whichever cluster the template's tasks run. ``yaml_file`` sets the defaults on
        ``default_cluster_name`` (or the tool's default cluster) from the file's
        ``task_template_resources``, see ``set_default_compute_resources_from_yaml``.
        """
        key = (
            template_name,
            command_template,
            *(tuple(sorted(names or ())) for names in (node_args, task_args, op_args)),
        )
        template = self._templates.get(key)
        if template is None:
            template = TaskTemplate(
                self,
                template_name,
                command_template,
                node_args or (),
                task_args or (),
                op_args or (),
            )
            self._templates[key] = template
        if default_cluster_name is not None:
            template.set_default_cluster_name(default_cluster_name)
        if default_compute_resources is not None:
            template.set_default_compute_resources_from_dict(
                default_cluster_name, default_compute_resources
            )
        if yaml_file is not None:
            cluster_name = default_cluster_name or self.default_cluster_name
            if cluster_name is None:
                raise WorkflowDefinitionError(
                    f"task template '{template_name}': resources from '{yaml_file}' need a "
                    "cluster; pass default_cluster_name or call set_default_cluster_name first"
                )
            template.set_default_compute_resources_from_yaml(cluster_name, yaml_file)
        if default_max_attempts is not None:
            template.set_default_max_attempts(default_max_attempts)
        return template

    def create_workflow(
        self,
        name: str | None = None,
        workflow_args: str | None = None,
        description: str = "",
        max_concurrently_running: int = 10_000,
        default_cluster_name: str | None = None,
        default_max_attempts: int | None = None,
    ) -> Workflow:
        """A new, empty workflow of this tool."""
        return Workflow(
            tool=self,
            name=name,
            workflow_args=workflow_args,
            description=description,
            max_concurrently_running=max_concurrently_running,
            default_cluster_name=default_cluster_name,
            default_max_attempts=default_max_attempts,
        )

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"
