"""The queries: what a client, the CLI and the dashboard read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from anyio import to_thread
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import (
    attempt_logs,
    clusters,
    reads,
    usage,
)
from jobmon_server.events import last_event_id
from jobmon_server.graphql import log_types
from jobmon_server.graphql import types as t
from jobmon_server.graphql.results import (
    TaskResult,
    WorkflowResult,
    WorkflowRunResult,
    capture_errors,
    expected,
)
from jobmon_server.graphql.types import services

MAX_NODE_ARG_VALUES = 10_000


@strawberry.type
class Query:
    @strawberry.field(description="A workflow by id.")
    @capture_errors
    async def workflow(self, info: Info, id: int) -> WorkflowResult:
        return t.Workflow.from_row(await services(info).read(reads.workflow, id))

    @strawberry.field(
        description=(
            "Workflows, newest first; filtered by owner, id, status, part of the name, tool and "
            "creation time (createdAfter inclusive, createdBefore exclusive; a time without an "
            "offset is taken as UTC) when given."
        )
    )
    async def workflows(
        self,
        info: Info,
        users: list[str] | None = None,
        ids: list[int] | None = None,
        statuses: list[t.WorkflowStatus] | None = None,
        name_contains: str | None = None,
        tools: list[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> t.Page[t.Workflow]:
        first = reads.check_page_size(first, services(info).settings.max_page_size)
        which = reads.WorkflowFilter(
            users=list(users or []),
            ids=list(ids or []),
            statuses=[s.value for s in statuses or []],
            name_contains=name_contains,
            tools=list(tools or []),
            created_after=created_after,
            created_before=created_before,
        )
        page = await services(info).read(reads.workflows_page, which, first, after)
        return t.Page.of(page, lambda r: t.Workflow.from_row(r[0]))

    @strawberry.field(
        description=(
            "What a tool's template used across its finished attempts (all versions), or only "
            "within some workflows; with a suggestion for the resources to ask for."
        )
    )
    async def template_resource_usage(
        self,
        info: Info,
        tool_name: str,
        template_name: str,
        workflow_ids: list[int] | None = None,
        node_args: Annotated[
            JSON | None,
            strawberry.argument(
                description='Only tasks with these node arg values: {"location_id": ["1", "2"]}.'
            ),
        ] = None,
    ) -> t.ResourceUsage:
        wanted = None
        if node_args is not None:
            if not isinstance(node_args, dict):
                raise GraphQLError('nodeArgs must be an object such as {"location_id": ["1"]}')
            values = sum(len(v) if isinstance(v, list) else 1 for v in node_args.values())
            if values > MAX_NODE_ARG_VALUES:
                raise GraphQLError(
                    f"nodeArgs holds {values:,} values, over the limit of "
                    f"{MAX_NODE_ARG_VALUES:,}; ask about fewer"
                )
            wanted = {
                str(arg): [str(v) for v in (vals if isinstance(vals, list) else [vals])]
                for arg, vals in node_args.items()
            }
        found = await services(info).read(
            usage.template_usage, tool_name, template_name, list(workflow_ids or []), wanted
        )
        return t.ResourceUsage.from_row(found)

    @strawberry.field(
        description="The newest event's cursor: subscribe with it as `after` to get what follows."
    )
    async def last_event_cursor(self, info: Info) -> str:
        return str(await services(info).read(last_event_id))

    @strawberry.field(description="The clusters tasks can run on, with their queues' limits.")
    async def clusters(self, info: Info) -> list[t.Cluster]:
        rows = await services(info).read(clusters.all_clusters)
        return [t.Cluster.from_row(c, q) for c, q in rows]

    @strawberry.field(description="A workflow run by id.")
    @capture_errors
    async def workflow_run(self, info: Info, id: int) -> WorkflowRunResult:
        return t.WorkflowRun.from_row(await services(info).read(reads.workflow_run, id))

    @strawberry.field(description="A task by id, with its attempts.")
    @capture_errors
    async def task(self, info: Info, id: int) -> TaskResult:
        return t.Task.from_row(await services(info).read(reads.task, id))

    @strawberry.field(
        description=(
            "Part of an attempt's stdout or stderr, read by the server from the file its "
            "worker reported, tail first: the last maxBytes, or with before the maxBytes "
            "before that offset (a chunk's start). LogUnavailable says why a file cannot be "
            "read (missing, not permitted, written on another host)."
        )
    )
    async def task_instance_log(
        self,
        info: Info,
        task_instance_id: int,
        stream: log_types.LogStream = log_types.LogStream.STDERR,
        before: int | None = None,
        max_bytes: int = 65536,
    ) -> log_types.TaskInstanceLogResult:
        # A bad window is a GraphQL error: the union has no ValidationError member.
        attempt_logs.check_window(before, max_bytes)
        return await expected(_log_chunk(info, task_instance_id, stream, before, max_bytes))


async def _log_chunk(
    info: Info,
    task_instance_id: int,
    stream: log_types.LogStream,
    before: int | None,
    max_bytes: int,
) -> log_types.TaskInstanceLogResult:
    settings = services(info).settings
    source = await services(info).read(attempt_logs.log_source, task_instance_id, stream)
    found = await to_thread.run_sync(
        attempt_logs.read_log,
        source,
        before,
        max_bytes,
        settings.log_roots,
        settings.auth != "token",
    )
    return log_types.result_of(found)
