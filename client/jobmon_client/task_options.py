"""The settings a task may give for itself, checked when the task is made."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jobmon_client.resources import Resources, check_max_attempts, check_resources
from jobmon_client.retry_policy import RetryPolicy
from jobmon_client.validation import WorkflowDefinitionError, check_attributes, check_name


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """Per-task settings that override the template's, the workflow's and the tool's."""

    cluster_name: str | None
    compute_resources: Resources | None
    max_attempts: int | None
    retry_policy: RetryPolicy | None = None
    compute_resources_callable: Callable[..., Mapping[str, Any]] | None = None
    task_attributes: dict[str, str | None] | None = None

    @classmethod
    def checked(
        cls,
        what: str,
        cluster_name: str | None,
        compute_resources: Mapping[str, Any] | Callable[..., Mapping[str, Any]] | None,
        max_attempts: int | None,
        resource_scales: Mapping[str, Any] | None = None,
        fallback_queues: Iterable[str] | None = None,
        compute_resources_callable: Callable[..., Mapping[str, Any]] | None = None,
        task_attributes: Mapping[str, Any] | Sequence[str] | None = None,
    ) -> TaskOptions:
        if compute_resources is not None and callable(compute_resources):
            # Jobmon's dynamic resources given as compute_resources
            if compute_resources_callable is not None:
                raise WorkflowDefinitionError(
                    f"{what}: compute_resources and compute_resources_callable are both "
                    "functions; give one"
                )
            compute_resources, compute_resources_callable = None, compute_resources
        if compute_resources_callable is not None and not callable(compute_resources_callable):
            raise WorkflowDefinitionError(
                f"{what}: compute_resources_callable must be a function returning a dict, got "
                f"{compute_resources_callable!r}"
            )
        return cls(
            cluster_name=check_name(cluster_name, what) if cluster_name else None,
            compute_resources=(
                None if compute_resources is None else check_resources(compute_resources, what)
            ),
            max_attempts=None if max_attempts is None else check_max_attempts(max_attempts, what),
            retry_policy=RetryPolicy.checked(resource_scales, fallback_queues, what),
            compute_resources_callable=compute_resources_callable,
            task_attributes=(
                None
                if task_attributes is None
                else check_attributes(task_attributes, f"{what} task_attributes") or None
            ),
        )
