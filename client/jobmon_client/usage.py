"""What tasks used: ``Task.resource_usage()`` and ``TaskTemplate.resource_usage()``."""

from __future__ import annotations

import itertools
from typing import Any

from jobmon_client.run import ERROR_PAGE_SIZE, iter_errors
from jobmon_client.statuses import TaskInstanceStatus
from jobmon_client.transport import GraphQLClient, unwrap

_USAGE = """
    numInstances
    memoryBytes { min median max }
    runtimeSeconds { min median max }
    suggested
"""
TASK_USAGE = f"""
query TaskUsage($id: Int!) {{
  task(id: $id) {{
    __typename
    ... on Task {{
      numAttempts
      resourceUsage {{ {_USAGE} }}
      instances(first: 1000) {{ items {{ status hostname wallclockSeconds maxRssBytes }} }}
    }}
    ... on Error {{ message }}
  }}
}}
"""
TASK_ERRORS = """
query TaskErrors($id: Int!) {
  task(id: $id) {
    __typename
    ... on Task { instances(first: 1000) { items { id status errorMessage finished } } }
    ... on Error { message }
  }
}
"""
FAILED_INSTANCE_STATUSES = frozenset(
    s.name
    for s in (
        TaskInstanceStatus.ERROR,
        TaskInstanceStatus.RESOURCE_ERROR,
        TaskInstanceStatus.UNKNOWN_ERROR,
        TaskInstanceStatus.NO_HEARTBEAT,
        TaskInstanceStatus.NO_DISTRIBUTOR_ID,
        TaskInstanceStatus.ERROR_FATAL,
    )
)
TEMPLATE_USAGE = f"""
query TemplateUsage(
  $tool: String!, $template: String!, $workflowIds: [Int!], $nodeArgs: JSON
) {{
  templateResourceUsage(
    toolName: $tool, templateName: $template, workflowIds: $workflowIds, nodeArgs: $nodeArgs
  ) {{
    {_USAGE}
  }}
}}
"""


def as_dict(usage: dict[str, Any]) -> dict[str, Any]:
    """Jobmon's shape: counts, then memory (bytes) and runtime (seconds) ranges."""
    memory, runtime = usage["memoryBytes"], usage["runtimeSeconds"]
    return {
        "num_tasks": usage["numInstances"],
        "num_instances": usage["numInstances"],
        "min_mem": memory["min"],
        "median_mem": memory["median"],
        "max_mem": memory["max"],
        "min_runtime": runtime["min"],
        "median_runtime": runtime["median"],
        "max_runtime": runtime["max"],
        "suggested": usage["suggested"],
    }


def task_usage(client: GraphQLClient, task_id: int) -> dict[str, Any]:
    """Jobmon's keys (``num_attempts``, ``nodename``, ``runtime``, ``memory``: those of the
    latest attempt that finished DONE), then this client's ranges."""
    task = unwrap(client.execute(TASK_USAGE, {"id": task_id}), "task")
    done = [i for i in task["instances"]["items"] if i["status"] == TaskInstanceStatus.DONE.name]
    latest = done[-1] if done else {}
    return {
        "num_attempts": task["numAttempts"],
        "nodename": latest.get("hostname"),
        "runtime": latest.get("wallclockSeconds"),
        "memory": latest.get("maxRssBytes"),
        **as_dict(task["resourceUsage"]),
    }


def task_errors(client: GraphQLClient, task_id: int) -> dict[str, Any] | None:
    """The errors of a task's latest failed attempt, in Jobmon's shape."""
    task = unwrap(client.execute(TASK_ERRORS, {"id": task_id}), "task")
    failed = [i for i in task["instances"]["items"] if i["status"] in FAILED_INSTANCE_STATUSES]
    if not failed:
        return None
    latest = failed[-1]
    return {
        "task_instance_id": latest["id"],
        "error_log": [
            {
                "task_instance_error_log_id": latest["id"],
                "error_time": latest["finished"],
                "description": latest["errorMessage"] or "",
            }
        ],
    }


def template_usage(
    client: GraphQLClient,
    tool_name: str,
    template_name: str,
    workflow_ids: list[int] | None,
    node_args: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    variables = {
        "tool": tool_name,
        "template": template_name,
        "workflowIds": workflow_ids,
        "nodeArgs": node_args,
    }
    return as_dict(client.execute(TEMPLATE_USAGE, variables)["templateResourceUsage"])


def workflow_errors(
    client: GraphQLClient, workflow_id: int, limit: int
) -> dict[int, dict[str, Any]]:
    """``Workflow.get_errors``: the errors of up to ``limit`` task instances, by task id."""
    errors: dict[int, dict[str, Any]] = {}
    page_size = max(1, min(limit, ERROR_PAGE_SIZE))
    for error in itertools.islice(iter_errors(client, workflow_id, page_size), limit):
        entry = errors.setdefault(
            int(error["taskId"]), {"task_name": error["taskName"], "errors": []}
        )
        entry["errors"].append(
            {
                "description": error["description"],
                "time": error["time"],
                "exit_code": error["exitCode"],
                "task_instance_id": error["taskInstanceId"],
            }
        )
    for entry in errors.values():
        latest = max(entry["errors"], key=lambda e: (e["task_instance_id"], e["time"]))
        same = [e for e in entry["errors"] if e["task_instance_id"] == latest["task_instance_id"]]
        entry["task_instance_id"] = latest["task_instance_id"]
        entry["error_log"] = [
            {
                "task_instance_error_log_id": e["task_instance_id"],
                "error_time": e["time"],
                "description": e["description"],
            }
            for e in same
        ]
    return errors
