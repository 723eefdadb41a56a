"""Where a task runs, with what resources and how many attempts.

Precedence, first set wins: task, then template, then workflow, then tool. Compute
resources are merged key by key for the task's cluster: the tool's defaults for that
cluster, then the template's defaults for any cluster, then the template's defaults for
that cluster, then the task's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobmon_client.validation import WorkflowDefinitionError

if TYPE_CHECKING:
    from jobmon_client.task import Task
    from jobmon_client.task_template import TaskTemplate

DEFAULT_CLUSTER_NAME = "multiprocess"
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


def check_resources(value: object, what: str) -> Resources:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise WorkflowDefinitionError(
            f"{what}: compute resources must be a dict with str keys, such as "
            f'{{"cores": 1, "memory": "1G", "runtime": "10m"}}; got {value!r}'
        )
    return dict(value)


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """What one task is bound with. ``key`` identifies the cluster and resources by value."""

    cluster_name: str
    resources: Resources
    max_attempts: int
    key: str


class SettingsResolver:
    """Resolves each task's settings; tasks that resolve alike share one object.

    Use one resolver for one bind: it caches by the identity of the task's own resources.
    """

    def __init__(self, workflow_cluster_name: str | None, workflow_max_attempts: int | None):
        self.workflow_cluster_name = workflow_cluster_name
        self.workflow_max_attempts = workflow_max_attempts
        self._cache: dict[tuple[int, str | None, int, int | None], TaskSettings] = {}

    def resolve(self, task: Task) -> TaskSettings:
        key = (id(task.template), task.cluster_name, id(task.compute_resources), task.max_attempts)
        settings = self._cache.get(key)
        if settings is None:
            settings = self._cache[key] = self._settings(task)
        return settings

    def _settings(self, task: Task) -> TaskSettings:
        template: TaskTemplate = task.template
        tool = template.tool
        cluster = (
            task.cluster_name
            or template.default_cluster_name
            or self.workflow_cluster_name
            or tool.default_cluster_name
            or DEFAULT_CLUSTER_NAME
        )
        merged = merge_resources(
            tool.default_compute_resources.get(cluster),
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
        try:
            key = cluster + "\x1f" + json.dumps(merged, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise WorkflowDefinitionError(
                f"task '{task.name}': its compute resources on cluster '{cluster}' cannot be "
                f"sent as JSON ({exc}); use numbers and strings only: {merged!r}"
            ) from None
        return TaskSettings(cluster, merged, attempts, key)
