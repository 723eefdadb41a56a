"""Large batches, sent as one JSON value and checked here: a bind's tasks and edges, and a
worker's reports.

A batch of 10,000 tasks as typed GraphQL lists costs more to coerce, value by value and on
the server's event loop, than it costs to store. So ``bindTasks`` and ``bindEdges`` take
their columns as JSON, and this module checks them with the same care: every refusal names
the column, the entry and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jobmon_server.binding import ResourceSpec, TaskBatch
from jobmon_server.errors import ValidationFailed
from jobmon_server.statuses import TaskInstanceStatus
from jobmon_server.workers import Report

MAX_INT = 2**53  # larger ids or counts are not ours: refuse before the database does
MAX_TASKS = 10_000  # tasks a bindTasks request (the clients send 10,000 at most)
MAX_EDGES = 50_000  # edges a bindEdges request (the clients send 50,000 at most)


def task_batch(value: Any) -> TaskBatch:
    """A ``TaskBatch`` from the JSON columns of ``bindTasks``."""
    batch = _object(value, "tasks")
    resources = [_resource(r, i) for i, r in enumerate(_list(batch, "resources", _any))]
    return TaskBatch(
        template_version_ids=_list(batch, "templateVersionIds", _int),
        names=_list(batch, "names", _str),
        commands=_list(batch, "commands", _str),
        node_args=_list(batch, "nodeArgs", _args),
        task_args=_list(batch, "taskArgs", _args),
        max_attempts=_list(batch, "maxAttempts", _int),
        resource_indexes=_list(batch, "resourceIndexes", _int),
        resources=resources,
        attributes=_list(batch, "attributes", _attributes) if "attributes" in batch else None,
        dynamic_resources=(
            _list(batch, "dynamicResources", _bool) if "dynamicResources" in batch else None
        ),
    )


def id_list(value: Any, name: str) -> list[int]:
    """A list of ids (``bindEdges``'s columns)."""
    if not isinstance(value, list):
        raise ValidationFailed(f"{name} must be a list of task ids", name)
    if len(value) > MAX_EDGES:
        raise ValidationFailed(
            f"at most {MAX_EDGES:,} edges a request, not {len(value):,}; send them in batches",
            name,
        )
    return [_int(v, name, i) for i, v in enumerate(value)]


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(
            f"{name} must be an object of columns (templateVersionIds, names, commands, "
            "nodeArgs, taskArgs, maxAttempts, resourceIndexes, resources)",
            name,
        )
    return value


def _list(batch: Mapping[str, Any], key: str, item: Callable[[Any, str, int], Any]) -> list[Any]:
    if key not in batch:
        raise ValidationFailed(f"the task batch has no column {key}", key)
    column = batch[key]
    if not isinstance(column, list):
        raise ValidationFailed(f"column {key} of the task batch must be a list", key)
    if len(column) > MAX_TASKS:
        raise ValidationFailed(
            f"at most {MAX_TASKS:,} tasks a request, not {len(column):,} in column {key}; "
            "send them in batches",
            key,
        )
    return [item(v, key, i) for i, v in enumerate(column)]


def _any(value: Any, key: str, index: int) -> Any:
    return value


def _int(value: Any, key: str, index: int) -> int:
    return _whole(value, f"{key}[{index}]", key)


def _whole(value: Any, label: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_INT < value < MAX_INT:
        raise ValidationFailed(f"{label} must be a whole number, not {value!r:.40}", field)
    return value


def _str(value: Any, key: str, index: int) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{key}[{index}] must be a string, not {value!r:.40}", key)
    return value


def _attributes(value: Any, key: str, index: int) -> dict[str, Any] | None:
    """A task's attributes: an object (checked further by ``attributes.checked``) or null."""
    if value is not None and not isinstance(value, dict):
        raise ValidationFailed(f"{key}[{index}] must be an object of attributes or null", key)
    return value


def _bool(value: Any, key: str, index: int) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{key}[{index}] must be true or false, not {value!r:.60}", key)
    return value


def _args(value: Any, key: str, index: int) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        raise ValidationFailed(
            f"{key}[{index}] must map arg names to strings or numbers, not {value!r:.60}", key
        )
    return value


def _resource(value: Any, index: int) -> ResourceSpec:
    where = f"resources[{index}]"
    if not isinstance(value, dict):
        raise ValidationFailed(f"{where} must be an object with clusterName and resources", where)
    cluster = value.get("clusterName")
    requested = value.get("resources", {})
    scales = value.get("resourceScales")
    fallback = value.get("fallbackQueues")
    if not isinstance(cluster, str) or not cluster:
        raise ValidationFailed(f"{where}.clusterName must be a cluster's name", "clusterName")
    if not isinstance(requested, dict):
        raise ValidationFailed(f"{where}.resources must be an object", "resources")
    if scales is not None and not isinstance(scales, dict):
        raise ValidationFailed(f"{where}.resourceScales must be an object", "resourceScales")
    if fallback is not None and not (
        isinstance(fallback, list) and all(isinstance(q, str) for q in fallback)
    ):
        raise ValidationFailed(
            f"{where}.fallbackQueues must be a list of queue names", "fallbackQueues"
        )
    return ResourceSpec(cluster, requested, scales, fallback)


# What a report may say beyond its instance and status, by its camelCase name.
_REPORT_DETAILS = {
    "distributorId": ("distributor_id", str, 120),
    "hostname": ("hostname", str, 255),
    "stdoutPath": ("stdout_path", str, 4096),
    "stderrPath": ("stderr_path", str, 4096),
    "exitCode": ("exit_code", int, None),
    "maxRssBytes": ("max_rss_bytes", float, None),
    "cpuSeconds": ("cpu_seconds", float, None),
    "wallclockSeconds": ("wallclock_seconds", float, None),
}
MAX_REPORTS = 10_000


def reports(value: Any) -> list[Report]:
    """Reports from the JSON list of ``workerSync``: each {taskInstanceId, status, ...}."""
    if not isinstance(value, list):
        raise ValidationFailed("reports must be a list of report objects", "reports")
    if len(value) > MAX_REPORTS:
        raise ValidationFailed(
            f"at most {MAX_REPORTS} reports a request, not {len(value)}; send them in batches",
            "reports",
        )
    return [_report(item, i) for i, item in enumerate(value)]


def _report(item: Any, index: int) -> Report:
    where = f"reports[{index}]"
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where} must be an object", "reports")
    instance_id = _whole(item.get("taskInstanceId"), f"{where}.taskInstanceId", "taskInstanceId")
    status = item.get("status")
    if status not in TaskInstanceStatus.__members__:
        raise ValidationFailed(
            f"{where}.status {status!r:.40} is not a task instance status", "status"
        )
    details: dict[str, Any] = {}
    for key, (column, kind, longest) in _REPORT_DETAILS.items():
        value = item.get(key)
        if value is None:
            continue
        if kind is str:
            if not isinstance(value, str) or len(value) > (longest or 0):
                raise ValidationFailed(
                    f"{where}.{key} must be a string of at most {longest} characters", key
                )
        elif kind is int:
            value = _whole(value, f"{where}.{key}", key)
        else:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0 <= value < 1e18)
            ):
                raise ValidationFailed(f"{where}.{key} must be a number from 0 up", key)
            value = int(value) if column == "max_rss_bytes" else float(value)
        details[column] = value
    message = item.get("errorMessage")
    if message is not None and not isinstance(message, str):
        raise ValidationFailed(f"{where}.errorMessage must be a string", "errorMessage")
    resource_kind = item.get("resourceKind")
    if resource_kind is not None and not isinstance(resource_kind, str):
        raise ValidationFailed(f"{where}.resourceKind must be a string", "resourceKind")
    return Report(instance_id, str(status), details, message, resource_kind)
