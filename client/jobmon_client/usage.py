"""What tasks used: ``Task.resource_usage()`` and ``TaskTemplate.resource_usage()``."""

from __future__ import annotations

from typing import Any

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
    ... on Task {{ resourceUsage {{ {_USAGE} }} }}
    ... on Error {{ message }}
  }}
}}
"""
TEMPLATE_USAGE = f"""
query TemplateUsage($tool: String!, $template: String!, $workflowIds: [Int!]) {{
  templateResourceUsage(toolName: $tool, templateName: $template, workflowIds: $workflowIds) {{
    {_USAGE}
  }}
}}
"""


def as_dict(usage: dict[str, Any]) -> dict[str, Any]:
    """Jobmon's shape: counts, then memory (bytes) and runtime (seconds) ranges."""
    memory, runtime = usage["memoryBytes"], usage["runtimeSeconds"]
    return {
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
    task = unwrap(client.execute(TASK_USAGE, {"id": task_id}), "task")
    return as_dict(task["resourceUsage"])


def template_usage(
    client: GraphQLClient, tool_name: str, template_name: str, workflow_ids: list[int] | None
) -> dict[str, Any]:
    variables = {"tool": tool_name, "template": template_name, "workflowIds": workflow_ids}
    return as_dict(client.execute(TEMPLATE_USAGE, variables)["templateResourceUsage"])
