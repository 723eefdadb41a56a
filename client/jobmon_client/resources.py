"""Where a task runs, with what resources and how many attempts.

Precedence, first set wins: task, then template, then workflow, then tool. A task whose
cluster is named at none of these levels runs on the one cluster its template, workflow
or tool has default resources for (Jobmon makes that cluster the default); when there is
no such cluster, or several, the task is refused at bind, since it must never run
somewhere its author did not ask for. Compute resources are merged key by key for the
task's cluster: the tool's defaults for that cluster, then the workflow's, then the
template's defaults for any cluster, then the template's defaults for that cluster, then
the task's own. Resource scales come from the task, else the template, the workflow or
the tool, for the task's cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobmon_client.sbatch_options import extra_sbatch_args
from jobmon_client.units import memory_mb, runtime_seconds
from jobmon_client.validation import WorkflowDefinitionError

if TYPE_CHECKING:
    from jobmon_client.task import Task
    from jobmon_client.task_template import TaskTemplate

DEFAULT_MAX_ATTEMPTS = 3

Resources = dict[str, Any]


def merge_resources(*layers: Mapping[str, Any] | None) -> Resources:
    """Merge resource dicts key by key; later layers win."""
    merged: Resources = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    return merged


def check_max_attempts(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise WorkflowDefinitionError(f"{what}: max_attempts must be a positive int, got {value!r}")
    return value


# Jobmon's older names of compute resources, taken as today's.
LEGACY_NAMES = {"num_cores": "cores", "m_mem_free": "memory", "max_runtime_seconds": "runtime"}


def check_resources(value: object, what: str) -> Resources:
    """Return ``value`` as a dict if every key is known and every value usable, else raise.

    Jobmon's legacy names (``num_cores``, ``m_mem_free``, ``max_runtime_seconds``) become
    today's (``cores``, ``memory``, ``runtime``). Checked where resources are given, so
    that the error names the task, template or tool.
    """
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise WorkflowDefinitionError(
            f"{what}: compute resources must be a dict with str keys, such as "
            f'{{"cores": 1, "memory": "1G", "runtime": "10m"}}; got {value!r}'
        )
    resources: Resources = {}
    for given, item in value.items():
        key = str(LEGACY_NAMES.get(given, given))
        if key in resources:
            raise WorkflowDefinitionError(
                f"{what}: compute resources give '{key}' twice ('{given}' is Jobmon's older "
                f"name for '{key}'); keep one"
            )
        check = _CHECKS.get(key)
        if check is None:
            raise WorkflowDefinitionError(
                f"{what}: unknown compute resource {given!r}; the known ones are "
                f'{", ".join(RESOURCE_KEYS)}. Give other sbatch options under "sbatch", '
                f'such as {{"sbatch": {{{json.dumps(given)}: ...}}}}'
            )
        problem = check(item)
        if problem:
            raise WorkflowDefinitionError(f"{what}: compute resource '{given}': {problem}")
        resources[key] = item
    return resources


def _positive_int(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"must be a whole number of at least 1, got {value!r}"
    return None


def _non_negative_int(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"must be a whole number of at least 0, got {value!r}"
    return None


def _non_empty_str(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty string, got {value!r}"
    return None


def _parses_with(parse: Callable[[object], object]) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        try:
            parse(value)
        except ValueError as exc:
            return str(exc)
        return None

    return check


_CHECKS: dict[str, Callable[[object], str | None]] = {
    "cores": _positive_int,
    "memory": _parses_with(memory_mb),
    "runtime": _parses_with(runtime_seconds),
    "queue": _non_empty_str,
    "project": _non_empty_str,
    "constraints": _non_empty_str,
    "gpus": _non_negative_int,
    "sbatch": _parses_with(extra_sbatch_args),
    # directories for the task's stdout and stderr files (default: ~/.jobmon/logs/<workflow>)
    "stdout": _non_empty_str,
    "stderr": _non_empty_str,
}
RESOURCE_KEYS = tuple(_CHECKS)


def read_resources_yaml(yaml_file: str, path: Sequence[str], what: str) -> Resources:
    """The compute resources at ``path`` (a list of keys) in a YAML file, checked.

    The file's layout is Jobmon's: ``tool_resources: {CLUSTER: {...}}`` and
    ``task_template_resources: {TEMPLATE: {CLUSTER: {...}}}``.
    """
    return check_resources(_yaml_node(yaml_file, path, what), f"{what} (from '{yaml_file}')")


def read_scales_yaml(yaml_file: str, path: Sequence[str], what: str) -> dict[str, Any]:
    """Resource scales at ``path`` in a YAML file (Jobmon's ``tool_scales`` and
    ``task_template_scales`` sections), checked."""
    return check_scales(_yaml_node(yaml_file, path, what), f"{what} (from '{yaml_file}')")


def check_scales(value: object, what: str) -> dict[str, Any]:
    """Resource scales as ``resource_scales`` takes them, checked."""
    from jobmon_client.retry_policy import RetryPolicy

    policy = RetryPolicy.checked(value, None, what)  # type: ignore[arg-type]
    return dict(policy.resource_scales or {}) if policy else {}


def yaml_has(yaml_file: str, path: Sequence[str]) -> bool:
    try:
        _yaml_node(yaml_file, path, "")
    except WorkflowDefinitionError:
        return False
    return True


def _yaml_node(yaml_file: str, path: Sequence[str], what: str) -> object:
    import yaml  # here: most programs never read a resources file

    try:
        with open(yaml_file, encoding="utf-8") as stream:
            node: object = yaml.safe_load(stream)
    except OSError as exc:
        raise WorkflowDefinitionError(
            f"{what}: cannot read compute resources from '{yaml_file}': {exc.strerror or exc}"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WorkflowDefinitionError(
            f"{what}: '{yaml_file}' is not valid YAML: {exc}".rstrip()
        ) from None
    for depth, key in enumerate(path):
        if not isinstance(node, Mapping) or key not in node:
            where = "".join(f"[{k!r}]" for k in path[:depth]) or "the top level"
            raise WorkflowDefinitionError(
                f"{what}: '{yaml_file}' has no key {key!r} under {where}; expected "
                + ": ".join(path)
                + ": {cores: 1, memory: 1G, ...}"
            )
        node = node[key]
    return node


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """What one task is bound with. ``key`` identifies the cluster and resources by value."""

    cluster_name: str
    resources: Resources
    max_attempts: int
    key: str
    resource_scales: dict[str, Any] | None = None
    fallback_queues: list[str] | None = None


class ClusterUndecided(WorkflowDefinitionError):
    """No cluster is named for a task, and its resources do not name exactly one."""


class SettingsResolver:
    """Resolves each task's settings; tasks that resolve alike share one object.

    Use one resolver for one bind: it caches by the identity of the task's own resources.
    """

    def __init__(
        self,
        workflow_cluster_name: str | None,
        workflow_max_attempts: int | None,
        workflow_resources: Mapping[str, Resources] | None = None,
        workflow_scales: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self.workflow_cluster_name = workflow_cluster_name
        self.workflow_max_attempts = workflow_max_attempts
        self.workflow_resources = workflow_resources or {}
        self.workflow_scales = workflow_scales or {}
        self._cache: dict[tuple[int, str | None, int, int | None, int, int], TaskSettings] = {}

    def resolve(self, task: Task) -> TaskSettings:
        key = (
            id(task.template),
            task.cluster_name,
            id(task.compute_resources),
            task.max_attempts,
            id(task.retry_policy),
            id(task.compute_resources_callable),
        )
        settings = self._cache.get(key)
        if settings is None:
            settings = self._cache[key] = self._settings(task)
        return settings

    def cluster_of(self, task: Task) -> str:
        """The task's cluster: named at some level, else the one its defaults are for."""
        template: TaskTemplate = task.template
        tool = template.tool
        named = (
            task.cluster_name
            or template.default_cluster_name
            or self.workflow_cluster_name
            or tool.default_cluster_name
        )
        if named:
            return named
        candidates = sorted(
            {
                *(c for c in template.default_compute_resources if c is not None),
                *(c for c in template.default_resource_scales if c is not None),
                *self.workflow_resources,
                *tool.default_compute_resources,
            }
        )
        if len(candidates) == 1:
            return candidates[0]
        found = (
            f"default resources name the clusters {', '.join(candidates)}"
            if candidates
            else "no cluster is named for it"
        )
        raise ClusterUndecided(
            f"task '{task.name}' (template '{template.template_name}'): {found}, so where it "
            f'should run is not decided; call tool.set_default_cluster_name("slurm") (or '
            "the cluster you mean), or pass cluster_name= to create_task, "
            "default_cluster_name= to get_task_template or create_workflow"
        )

    def _settings(self, task: Task) -> TaskSettings:
        template: TaskTemplate = task.template
        tool = template.tool
        cluster = self.cluster_of(task)
        merged = merge_resources(
            tool.default_compute_resources.get(cluster),
            self.workflow_resources.get(cluster),
            template.default_compute_resources.get(None),
            template.default_compute_resources.get(cluster),
            task.compute_resources,
        )
        attempts = next(
            (
                value
                for value in (
                    task.max_attempts,
                    template.default_max_attempts,
                    self.workflow_max_attempts,
                    tool.default_max_attempts,
                )
                if value is not None
            ),
            DEFAULT_MAX_ATTEMPTS,
        )
        policy = task.retry_policy
        if policy is None or policy.resource_scales is None:
            default_scales = (
                template.default_resource_scales.get(cluster)
                or template.default_resource_scales.get(None)
                or self.workflow_scales.get(cluster)
                or tool.default_resource_scales.get(cluster)
            )
            if default_scales:
                from jobmon_client.retry_policy import RetryPolicy

                queues = policy.fallback_queues if policy else None
                policy = RetryPolicy(dict(default_scales), queues)
        scales = policy.wire_scales(merged, attempts) if policy else None
        fallback = list(policy.fallback_queues) if policy and policy.fallback_queues else None
        try:
            key = cluster + "\x1f" + json.dumps([merged, scales, fallback], sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise WorkflowDefinitionError(
                f"task '{task.name}': its compute resources on cluster '{cluster}' cannot be "
                f"sent as JSON ({exc}); use numbers and strings only: {merged!r}"
            ) from None
        return TaskSettings(cluster, merged, attempts, key, scales, fallback)
