"""The bind protocol: a few large idempotent mutations that store a workflow.

1. ``bindTool`` gives the tool version; 2. ``bindTaskTemplates`` the template versions;
3. the task and DAG hashes are computed locally (see ``hashing``); 4. ``bindWorkflow``
creates the workflow or finds the one with the same identity; 5. ``bindTasks`` upserts
the tasks in columnar chunks and answers their ids; 6. ``bindEdges`` stores the
dependencies as id pairs; 7. ``completeBind`` checks the count and marks it bound.
Every step may be resent, so a bind interrupted at any point is completed by binding again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobmon_client import hashing
from jobmon_client.dag import TaskGraph
from jobmon_client.resources import TaskSettings
from jobmon_client.task_template import TaskTemplate
from jobmon_client.transport import GraphQLClient, ServerError, unwrap

TASK_CHUNK_SIZE = 10_000
EDGE_CHUNK_SIZE = 50_000

BIND_TOOL = """
mutation BindTool($name: String!) {
  bindTool(name: $name) {
    __typename
    ... on ToolVersion { id }
    ... on Error { message }
  }
}
"""

BIND_TASK_TEMPLATES = """
mutation BindTaskTemplates($toolVersionId: Int!, $templates: [TaskTemplateInput!]!) {
  bindTaskTemplates(toolVersionId: $toolVersionId, templates: $templates) {
    __typename
    ... on TaskTemplateVersionList { items { id } }
    ... on Error { message }
  }
}
"""

BIND_WORKFLOW = """
mutation BindWorkflow($input: WorkflowInput!) {
  bindWorkflow(input: $input) {
    __typename
    ... on BoundWorkflow { created boundTasks workflow { id status maxConcurrentlyRunning } }
    ... on Error { message }
  }
}
"""

BIND_TASKS = """
mutation BindTasks($workflowId: Int!, $tasks: TaskBatchInput!) {
  bindTasks(workflowId: $workflowId, tasks: $tasks) {
    __typename
    ... on BoundTasks { taskIds }
    ... on Error { message }
  }
}
"""

BIND_EDGES = """
mutation BindEdges($workflowId: Int!, $upstreamTaskIds: [Int!]!, $downstreamTaskIds: [Int!]!) {
  bindEdges(
    workflowId: $workflowId,
    upstreamTaskIds: $upstreamTaskIds,
    downstreamTaskIds: $downstreamTaskIds
  ) {
    __typename
    ... on BoundEdges { count }
    ... on Error { message }
  }
}
"""

COMPLETE_BIND = """
mutation CompleteBind($workflowId: Int!, $totalTasks: Int!) {
  completeBind(workflowId: $workflowId, totalTasks: $totalTasks) {
    __typename
    ... on Workflow { id status totalTasks }
    ... on Error { message }
  }
}
"""


@dataclass(frozen=True, slots=True)
class WorkflowFields:
    """What the user wrote about the workflow itself."""

    name: str
    description: str
    workflow_args: str
    user: str
    max_concurrently_running: int


@dataclass(frozen=True, slots=True)
class BoundWorkflow:
    workflow_id: int
    created: bool
    status: str
    max_concurrently_running: int


def bind(
    client: GraphQLClient,
    tool_name: str,
    fields: WorkflowFields,
    graph: TaskGraph,
    settings: Sequence[TaskSettings],
) -> BoundWorkflow:
    """Store the workflow and its tasks; set every task's ``task_id``."""
    tasks = graph.tasks
    keys = [
        hashing.task_key(
            t.template.template_name, t.template.command_template, t.node_args, t.task_args
        )
        for t in tasks
    ]
    tool_version_id = bind_tool(client, tool_name)
    template_ids = bind_task_templates(
        client, tool_version_id, list(dict.fromkeys(t.template for t in tasks))
    )
    bound = bind_workflow(
        client,
        {
            "toolVersionId": tool_version_id,
            "name": fields.name,
            "description": fields.description,
            "workflowArgs": fields.workflow_args,
            "taskHash": hashing.task_hash(keys),
            "dagHash": hashing.dag_hash((keys[up], keys[down]) for up, down in graph.edges()),
            "user": fields.user,
            "maxConcurrentlyRunning": fields.max_concurrently_running,
        },
    )
    task_ids = bind_tasks(client, bound.workflow_id, graph, template_ids, settings)
    for task, task_id in zip(tasks, task_ids, strict=True):
        task.task_id = task_id
    for alias, index in graph.aliases:
        alias.task_id = task_ids[index]
    edges = list(graph.edges())
    bind_edges(
        client,
        bound.workflow_id,
        [task_ids[up] for up, _ in edges],
        [task_ids[down] for _, down in edges],
    )
    complete_bind(client, bound.workflow_id, len(tasks))
    return bound


def bind_tool(client: GraphQLClient, name: str) -> int:
    return int(unwrap(client.execute(BIND_TOOL, {"name": name}), "bindTool")["id"])


def bind_task_templates(
    client: GraphQLClient, tool_version_id: int, templates: list[TaskTemplate]
) -> dict[TaskTemplate, int]:
    payload = [
        {
            "name": t.template_name,
            "commandTemplate": t.command_template,
            "nodeArgs": t.node_args,
            "taskArgs": t.task_args,
            "opArgs": t.op_args,
        }
        for t in templates
    ]
    result = unwrap(
        client.execute(
            BIND_TASK_TEMPLATES, {"toolVersionId": tool_version_id, "templates": payload}
        ),
        "bindTaskTemplates",
    )
    ids = [int(item["id"]) for item in result["items"]]
    _check_aligned("bindTaskTemplates", len(templates), len(ids))
    return dict(zip(templates, ids, strict=True))


def bind_workflow(client: GraphQLClient, workflow_input: dict[str, Any]) -> BoundWorkflow:
    result = unwrap(client.execute(BIND_WORKFLOW, {"input": workflow_input}), "bindWorkflow")
    workflow = result["workflow"]
    return BoundWorkflow(
        workflow_id=int(workflow["id"]),
        created=bool(result["created"]),
        status=str(workflow["status"]),
        max_concurrently_running=int(workflow["maxConcurrentlyRunning"]),
    )


def bind_tasks(
    client: GraphQLClient,
    workflow_id: int,
    graph: TaskGraph,
    template_ids: dict[TaskTemplate, int],
    settings: Sequence[TaskSettings],
) -> list[int]:
    """Upsert the tasks in chunks; answer their ids, aligned with ``graph.tasks``."""
    task_ids: list[int] = []
    for start in range(0, len(graph.tasks), TASK_CHUNK_SIZE):
        batch = task_batch(
            graph.tasks[start : start + TASK_CHUNK_SIZE],
            settings[start : start + TASK_CHUNK_SIZE],
            template_ids,
        )
        result = unwrap(
            client.execute(BIND_TASKS, {"workflowId": workflow_id, "tasks": batch}), "bindTasks"
        )
        _check_aligned("bindTasks", len(batch["names"]), len(result["taskIds"]))
        task_ids.extend(result["taskIds"])
    return task_ids


def task_batch(
    tasks: Sequence[Any], settings: Sequence[TaskSettings], template_ids: dict[TaskTemplate, int]
) -> dict[str, list[Any]]:
    """One ``TaskBatchInput``: a column per field; identical resources sent once."""
    resource_indexes: dict[str, int] = {}
    resources: list[dict[str, Any]] = []
    indexes = []
    for setting in settings:
        index = resource_indexes.get(setting.key)
        if index is None:
            index = resource_indexes[setting.key] = len(resources)
            spec: dict[str, Any] = {
                "clusterName": setting.cluster_name,
                "resources": setting.resources,
            }
            if setting.resource_scales is not None:
                spec["resourceScales"] = setting.resource_scales
            if setting.fallback_queues is not None:
                spec["fallbackQueues"] = setting.fallback_queues
            resources.append(spec)
        indexes.append(index)
    return {
        "templateVersionIds": [template_ids[t.template] for t in tasks],
        "names": [t.name for t in tasks],
        "commands": [t.command for t in tasks],
        "nodeArgs": [t.node_args for t in tasks],
        "taskArgs": [t.task_args for t in tasks],
        "maxAttempts": [s.max_attempts for s in settings],
        "resourceIndexes": indexes,
        "resources": resources,
    }


def bind_edges(
    client: GraphQLClient, workflow_id: int, upstream_ids: list[int], downstream_ids: list[int]
) -> None:
    for start in range(0, len(upstream_ids), EDGE_CHUNK_SIZE):
        end = start + EDGE_CHUNK_SIZE
        unwrap(
            client.execute(
                BIND_EDGES,
                {
                    "workflowId": workflow_id,
                    "upstreamTaskIds": upstream_ids[start:end],
                    "downstreamTaskIds": downstream_ids[start:end],
                },
            ),
            "bindEdges",
        )


def complete_bind(client: GraphQLClient, workflow_id: int, total_tasks: int) -> None:
    unwrap(
        client.execute(COMPLETE_BIND, {"workflowId": workflow_id, "totalTasks": total_tasks}),
        "completeBind",
    )


def _check_aligned(mutation: str, sent: int, received: int) -> None:
    if sent != received:
        raise ServerError(f"{mutation} answered {received} ids for {sent} inputs")
