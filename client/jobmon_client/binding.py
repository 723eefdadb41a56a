"""The bind protocol: a few large idempotent mutations that store a workflow.

1. ``bindTool`` gives the tool version; 2. ``bindTaskTemplates`` the template versions;
3. ``bindWorkflow`` with the digest of all the workflow holds finds the workflow bound
before with exactly this (a resume of an unchanged workflow): it answers ``upToDate``,
nothing more is sent, and the tasks' ids are read only when asked. Otherwise 4. the task
and DAG hashes are computed (see ``hashing``) and ``bindWorkflow`` creates the workflow or
finds the one with the same identity; 5. ``bindTasks`` upserts the tasks in columnar
chunks and answers their ids; 6. ``bindEdges`` stores the dependencies as id pairs;
7. ``completeBind`` checks the count and marks it bound, with the digest.
Every step may be resent, so a bind interrupted at any point is completed by binding again.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobmon_client import hashing
from jobmon_client.dag import TaskGraph
from jobmon_client.pipelining import execute_pipelined
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
    ... on BoundWorkflow {
      created boundTasks upToDate workflow { id status maxConcurrentlyRunning }
    }
    ... on Error { message }
  }
}
"""

BIND_TASKS = """
mutation BindTasks($workflowId: Int!, $tasks: JSON!) {
  bindTasks(workflowId: $workflowId, tasks: $tasks) {
    __typename
    ... on BoundTasks { taskIds }
    ... on Error { message }
  }
}
"""

BIND_EDGES = """
mutation BindEdges($workflowId: Int!, $upstreamTaskIds: JSON!, $downstreamTaskIds: JSON!) {
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

TASK_NODES = """
query TaskNodes($id: Int!, $first: Int!, $after: String) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      taskNodes(first: $first, after: $after) {
        items { id templateVersionId nodeArgsHash } endCursor hasNextPage
      }
    }
    ... on Error { message }
  }
}
"""
TASK_NODE_PAGE = 50_000

STOP_RUNNING = """
mutation StopRunning($workflowId: Int!, $user: String!) {
  stopWorkflow(workflowId: $workflowId, user: $user) {
    __typename
    ... on WorkflowRun { id status }
    ... on Error { message }
  }
}
"""

COMPLETE_BIND = """
mutation CompleteBind($workflowId: Int!, $totalTasks: Int!, $bindDigest: String) {
  completeBind(workflowId: $workflowId, totalTasks: $totalTasks, bindDigest: $bindDigest) {
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
    attributes: dict[str, str | None] | None = None


@dataclass(frozen=True, slots=True)
class BoundWorkflow:
    workflow_id: int
    created: bool
    status: str
    max_concurrently_running: int
    up_to_date: bool = False


class RunningWorkflow(Exception):
    """The workflow has a run that is still RUNNING and its tasks differ from what it was
    bound with: they can change only once that run has stopped."""

    def __init__(self, workflow_id: int) -> None:
        super().__init__(workflow_id)
        self.workflow_id = workflow_id


def bind(
    client: GraphQLClient,
    tool_name: str,
    fields: WorkflowFields,
    graph: TaskGraph,
    settings: Sequence[TaskSettings],
    *,
    stop_running: bool = False,
) -> BoundWorkflow:
    """Store the workflow and its tasks; set every task's ``task_id``.

    A workflow stored before with exactly these tasks is not sent again: the tasks learn
    their ids when first asked. If its tasks differ while a run of it is RUNNING, that run
    is stopped first when ``stop_running``, else ``RunningWorkflow`` is raised.
    """
    tasks = graph.tasks
    tool_version_id = bind_tool(client, tool_name)
    template_ids = bind_task_templates(
        client, tool_version_id, list(dict.fromkeys(t.template for t in tasks))
    )
    digest = bind_digest(graph, settings)
    workflow_input = {
        "toolVersionId": tool_version_id,
        "name": fields.name,
        "description": fields.description,
        "workflowArgs": fields.workflow_args,
        "user": fields.user,
        "maxConcurrentlyRunning": fields.max_concurrently_running,
        "bindDigest": digest,
        **({"attributes": fields.attributes} if fields.attributes else {}),
    }
    all_tasks = list(tasks) + [alias for alias, _ in graph.aliases]
    bound = bind_workflow(client, workflow_input)  # found by the digest alone, or None
    if bound is not None and bound.up_to_date:
        ids = LazyTaskIds(client, bound.workflow_id, template_ids)
        for task in all_tasks:
            task.bind_ids(ids)
        return bound
    keys = task_keys(tasks)
    identity = {
        "taskHash": hashing.task_hash(keys),
        "dagHash": hashing.dag_hash((keys[up], keys[down]) for up, down in graph.edges()),
    }
    bound = bind_workflow(client, {**workflow_input, **identity})
    assert bound is not None  # with its identity, a workflow is found or created
    if bound.status == "RUNNING":
        if not stop_running:
            raise RunningWorkflow(bound.workflow_id)
        unwrap(
            client.execute(STOP_RUNNING, {"workflowId": bound.workflow_id, "user": fields.user}),
            "stopWorkflow",
        )
    task_ids = bind_tasks(client, bound.workflow_id, graph, template_ids, settings)
    for task, task_id in zip(tasks, task_ids, strict=True):
        task.task_id = task_id
    for alias, index in graph.aliases:
        alias.task_id = task_ids[index]
    bind_edges(
        client,
        bound.workflow_id,
        list(map(task_ids.__getitem__, graph.upstream_ids)),
        list(map(task_ids.__getitem__, graph.downstream_ids())),
    )
    complete_bind(client, bound.workflow_id, len(tasks), digest)
    return bound


def task_keys(tasks: Sequence[Any]) -> list[str]:
    """``hashing.task_key`` of each task, the template's part of the hash computed once."""
    by_template: dict[TaskTemplate, Any] = {}
    keys = []
    canonical = hashing.canonical
    for task in tasks:
        key = by_template.get(task.template)
        if key is None:
            template = task.template
            key = by_template[template] = hashing.template_task_key(
                template.template_name, template.command_template
            )
        keys.append(
            key(task.canonical_node_args, canonical(task.task_args) if task.task_args else "")
        )
    return keys


def bind_digest(graph: TaskGraph, settings: Sequence[TaskSettings]) -> str:
    """What the workflow is bound with: every task's template version, args, name,
    command, attempts and resources, and every edge, whatever the order they were added in.

    A sum of one hash per task and of one product per edge of its two tasks' hashes (one
    as it is, one masked, so that an edge's direction counts) needs no sort of a million
    keys, and no identity hash: a resume of an unchanged workflow computes only this.
    """
    extras: dict[int, str] = {}

    def extra_of(setting: TaskSettings) -> str:
        extra = extras[id(setting)] = json.dumps(
            [setting.key, setting.max_attempts, setting.resource_scales, setting.fallback_queues],
            sort_keys=True,
            default=str,
        )
        return extra

    canonical = hashing.canonical
    lines = (
        f"{task.node_key}\x1f{canonical(task.task_args) if task.task_args else ''}"
        f"\x1f{task.name}\x1f{task.command}\x1f{extras.get(id(setting)) or extra_of(setting)}"
        + (
            "\x1f"
            + json.dumps(
                [task._attributes or {}, task.compute_resources_callable is not None],
                sort_keys=True,
            )
            if task._attributes or task.compute_resources_callable is not None
            else ""
        )
        for task, setting in zip(graph.tasks, settings, strict=True)
    )
    # map() all the way: a million calls without a Python frame each
    hashes = list(
        map(
            int.from_bytes,
            map(_DIGEST, map(hashlib.sha1, map(str.encode, lines))),
        )
    )
    masked = [h ^ _EDGE_MASK for h in hashes]
    edges = sum(
        map(
            operator.mul,
            map(hashes.__getitem__, graph.upstream_ids),
            map(masked.__getitem__, graph.downstream_ids()),
        )
    )
    return hashing.sha1_hex(f"bind:{len(hashes)}:{sum(hashes):x}:{graph.edge_count}:{edges:x}")


_EDGE_MASK = (1 << 160) - 1  # a downstream task's hash enters its edges inverted
_DIGEST = operator.methodcaller("digest")


class LazyTaskIds:
    """The ids of a workflow's tasks, read from the server (a page of 50,000 at a time)
    the first time one is asked for."""

    def __init__(
        self, client: GraphQLClient, workflow_id: int, template_ids: dict[TaskTemplate, int]
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.template_ids = template_ids
        self._ids: dict[tuple[int, str], int] | None = None

    def id_of(self, task: Any) -> int:
        if self._ids is None:
            self._ids = self._read()
        key = (self.template_ids[task.template], hashing.node_args_hash(task.node_args))
        try:
            return self._ids[key]
        except KeyError:
            raise ServerError(
                f"workflow {self.workflow_id} has no task '{task.name}'; bind it again"
            ) from None

    def _read(self) -> dict[tuple[int, str], int]:
        ids: dict[tuple[int, str], int] = {}
        after: str | None = None
        while True:
            workflow = unwrap(
                self.client.execute(
                    TASK_NODES, {"id": self.workflow_id, "first": TASK_NODE_PAGE, "after": after}
                ),
                "workflow",
            )
            page = workflow["taskNodes"]
            for item in page["items"]:
                ids[(int(item["templateVersionId"]), item["nodeArgsHash"])] = int(item["id"])
            if not page["hasNextPage"]:
                return ids
            after = page["endCursor"]


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


def bind_workflow(client: GraphQLClient, workflow_input: dict[str, Any]) -> BoundWorkflow | None:
    """The workflow bound or found; None when the input has no identity hashes and no
    workflow is bound with its digest."""
    answer = client.execute(BIND_WORKFLOW, {"input": workflow_input})
    if answer["bindWorkflow"]["__typename"] == "NotFound" and "taskHash" not in workflow_input:
        return None
    result = unwrap(answer, "bindWorkflow")
    workflow = result["workflow"]
    return BoundWorkflow(
        workflow_id=int(workflow["id"]),
        created=bool(result["created"]),
        status=str(workflow["status"]),
        max_concurrently_running=int(workflow["maxConcurrentlyRunning"]),
        up_to_date=bool(result.get("upToDate")),
    )


def bind_tasks(
    client: GraphQLClient,
    workflow_id: int,
    graph: TaskGraph,
    template_ids: dict[TaskTemplate, int],
    settings: Sequence[TaskSettings],
) -> list[int]:
    """Upsert the tasks in chunks; answer their ids, aligned with ``graph.tasks``."""
    starts = range(0, len(graph.tasks), TASK_CHUNK_SIZE)
    answers = execute_pipelined(
        client,
        BIND_TASKS,
        "bindTasks",
        (
            {
                "workflowId": workflow_id,
                "tasks": task_batch(
                    graph.tasks[start : start + TASK_CHUNK_SIZE],
                    settings[start : start + TASK_CHUNK_SIZE],
                    template_ids,
                ),
            }
            for start in starts
        ),
    )
    task_ids: list[int] = []
    for start, answer in zip(starts, answers, strict=True):
        sent = min(TASK_CHUNK_SIZE, len(graph.tasks) - start)
        _check_aligned("bindTasks", sent, len(answer["taskIds"]))
        task_ids.extend(answer["taskIds"])
    return task_ids


def task_batch(
    tasks: Sequence[Any], settings: Sequence[TaskSettings], template_ids: dict[TaskTemplate, int]
) -> dict[str, list[Any]]:
    """One task batch for ``bindTasks``: a column per field; identical resources sent once."""
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
    batch: dict[str, list[Any]] = {
        "templateVersionIds": [template_ids[t.template] for t in tasks],
        "names": [t.name for t in tasks],
        "commands": [t.command for t in tasks],
        "nodeArgs": [t.node_args for t in tasks],
        "taskArgs": [t.task_args for t in tasks],
        "maxAttempts": [s.max_attempts for s in settings],
        "resourceIndexes": indexes,
        "resources": resources,
    }
    if any(t._attributes for t in tasks):
        batch["attributes"] = [t._attributes for t in tasks]
    if any(t.compute_resources_callable is not None for t in tasks):
        batch["dynamicResources"] = [t.compute_resources_callable is not None for t in tasks]
    return batch


def bind_edges(
    client: GraphQLClient, workflow_id: int, upstream_ids: list[int], downstream_ids: list[int]
) -> None:
    execute_pipelined(
        client,
        BIND_EDGES,
        "bindEdges",
        (
            {
                "workflowId": workflow_id,
                "upstreamTaskIds": upstream_ids[start : start + EDGE_CHUNK_SIZE],
                "downstreamTaskIds": downstream_ids[start : start + EDGE_CHUNK_SIZE],
            }
            for start in range(0, len(upstream_ids), EDGE_CHUNK_SIZE)
        ),
    )


def complete_bind(
    client: GraphQLClient, workflow_id: int, total_tasks: int, digest: str | None = None
) -> None:
    unwrap(
        client.execute(
            COMPLETE_BIND,
            {"workflowId": workflow_id, "totalTasks": total_tasks, "bindDigest": digest},
        ),
        "completeBind",
    )


def _check_aligned(mutation: str, sent: int, received: int) -> None:
    if sent != received:
        raise ServerError(f"{mutation} answered {received} ids for {sent} inputs")
