"""Workflows, their runs, and the views over them: counts, templates, error groups."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import dynamic, error_groups, reads, usage
from jobmon_server.db import models
from jobmon_server.graphql.types.enums import TaskStatus, WorkflowRunStatus, WorkflowStatus
from jobmon_server.graphql.types.helpers import aware, loaders, services
from jobmon_server.graphql.types.pages import Page, page_size
from jobmon_server.graphql.types.resources import RequestedResources, ResourceUsage
from jobmon_server.graphql.types.tasks import (
    EdgePage,
    Task,
    TaskEdge,
    TaskInstance,
    TaskInstanceError,
    TaskNode,
    TemplateEdge,
)


@strawberry.type
class StatusCount:
    status: TaskStatus
    count: int


@strawberry.type
class WorkflowRun:
    id: int
    workflow_id: int
    status: WorkflowRunStatus
    user: str
    fail_fast: bool
    deadline: datetime | None
    created: datetime
    status_date: datetime
    waiting_for: str | None = strawberry.field(
        default=None,
        description=(
            "Set while ready tasks of this run wait on a cluster that no live worker serves: "
            "which, how many, and the command that would serve it."
        ),
    )

    @strawberry.field
    async def workflow(self, info: Info) -> Workflow:
        return Workflow.from_row(await services(info).read(reads.workflow, self.workflow_id))

    @classmethod
    def from_row(cls, run: models.WorkflowRun) -> WorkflowRun:
        return cls(
            id=run.id,
            workflow_id=run.workflow_id,
            status=WorkflowRunStatus(run.status),
            user=run.user,
            fail_fast=run.fail_fast,
            deadline=aware(run.deadline),
            created=aware(run.created),
            status_date=aware(run.status_date),
            waiting_for=run.waiting_for,
        )  # type: ignore[arg-type]


@strawberry.type
class Workflow:
    id: int
    name: str
    description: str
    user: str
    workflow_args: str
    status: WorkflowStatus
    max_concurrently_running: int
    total_tasks: int
    created: datetime
    status_date: datetime
    attributes: JSON | None = strawberry.field(
        default=None, description="Metadata stored with the workflow: name to string or null."
    )

    @strawberry.field(description="Tasks per status, kept current as tasks change.")
    async def task_counts(self, info: Info) -> list[StatusCount]:
        rows = await loaders(info).task_counts.load(self.id)
        return [StatusCount(status=TaskStatus(s), count=n) for s, n in rows]

    @strawberry.field
    async def latest_run(self, info: Info) -> WorkflowRun | None:
        run = await loaders(info).latest_run.load(self.id)
        return WorkflowRun.from_row(run) if run else None

    @strawberry.field(description="The name of the tool the workflow belongs to.")
    async def tool_name(self, info: Info) -> str:
        return await loaders(info).tool_name.load(self.id)  # type: ignore[no-any-return]

    @strawberry.field
    async def runs(
        self, info: Info, first: int = 100, after: str | None = None
    ) -> Page[WorkflowRun]:
        page = await services(info).read(reads.runs_page, self.id, page_size(info, first), after)
        return Page.of(page, lambda r: WorkflowRun.from_row(r[0]))

    @strawberry.field(
        description=(
            "Tasks in id order, optionally only those in some statuses, of a template, or "
            "whose name contains a text."
        )
    )
    async def tasks(
        self,
        info: Info,
        statuses: list[TaskStatus] | None = None,
        template_name: str | None = None,
        name_contains: str | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Page[Task]:
        page = await services(info).read(
            reads.tasks_page,
            self.id,
            [s.value for s in statuses or []],
            template_name,
            page_size(info, first),
            after,
            name_contains,
        )
        return Page.of(page, Task.from_row)

    @strawberry.field(
        description=(
            "The workflow's tasks as node identities (template version and hash of the node "
            "args), in id order, up to 50,000 a page: how a client learns its tasks' ids "
            "without binding them again."
        )
    )
    async def task_nodes(
        self, info: Info, first: int = 10_000, after: str | None = None
    ) -> Page[TaskNode]:
        page = await services(info).read(reads.task_nodes, self.id, first, after)
        return Page.of(
            page,
            lambda r: TaskNode(id=r[0], template_version_id=r[1], node_args_hash=r[2]),
        )

    @strawberry.field(
        description=(
            "Tasks of the running run waiting for their client to give their dynamic "
            "resources (their upstream tasks are done), in id order."
        )
    )
    async def tasks_awaiting_resources(self, info: Info, first: int = 1000) -> list[int]:
        return await services(info).read(  # type: ignore[no-any-return]
            dynamic.tasks_awaiting_resources, self.id, page_size(info, first)
        )

    @strawberry.field(
        description=(
            "Edges between the templates of the workflow's tasks, each with the number of "
            "task edges it stands for."
        )
    )
    async def template_edges(self, info: Info) -> list[TemplateEdge]:
        rows = await services(info).read(reads.template_edges, self.id)
        return [TemplateEdge(upstream=u, downstream=d, count=n) for u, d, n in rows]

    @strawberry.field(description="The workflow's task edges, by upstream then downstream id.")
    async def edges(self, info: Info, first: int = 1000, after: str | None = None) -> EdgePage:
        page = await services(info).read(reads.edges_page, self.id, page_size(info, first), after)
        return EdgePage.of(page, lambda r: TaskEdge(upstream_id=r[0], downstream_id=r[1]))

    @strawberry.field(
        description="Attempts of the workflow's tasks, oldest first (or newest first)."
    )
    async def task_instances(
        self,
        info: Info,
        template_name: str | None = None,
        first: int = 100,
        after: str | None = None,
        newest_first: bool = False,
    ) -> Page[TaskInstance]:
        page = await services(info).read(
            reads.workflow_instances_page,
            self.id,
            template_name,
            page_size(info, first),
            after,
            newest_first,
        )
        return Page.of(page, TaskInstance.from_row)

    @strawberry.field(description="The templates of the workflow's tasks, with counts by status.")
    async def templates(self, info: Info) -> list[WorkflowTemplate]:
        rows = await services(info).read(usage.workflow_templates, self.id)
        return [WorkflowTemplate.from_row(r) for r in rows]

    @strawberry.field(
        description=(
            "Errors grouped by similar message (numbers and quoted values blanked): groups with "
            "tasks that failed for good first, then the largest."
        )
    )
    async def error_groups(self, info: Info, first: int = 20) -> list[ErrorGroup]:
        groups = await services(info).read(
            error_groups.error_groups, self.id, page_size(info, first)
        )
        return [ErrorGroup.from_row(g) for g in groups]

    @strawberry.field(
        description="Errors of the workflow's task instances, oldest first; or one group's."
    )
    async def errors(
        self,
        info: Info,
        signature: str | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Page[TaskInstanceError]:
        page = await services(info).read(
            reads.errors_page, self.id, signature, page_size(info, first), after
        )
        return Page.of(page, TaskInstanceError.from_row)

    @classmethod
    def from_row(cls, wf: models.Workflow) -> Workflow:
        return cls(
            id=wf.id,
            name=wf.name,
            description=wf.description,
            user=wf.user,
            workflow_args=wf.workflow_args,
            status=WorkflowStatus(wf.status),
            max_concurrently_running=wf.max_concurrently_running,
            total_tasks=wf.total_tasks,
            created=aware(wf.created),  # type: ignore[arg-type]
            status_date=aware(wf.status_date),
            attributes=wf.attributes,  # type: ignore[arg-type]
        )  # type: ignore[arg-type]


@strawberry.type(description="The tasks of one template within a workflow (a job array).")
class WorkflowTemplate:
    array_id: int
    template_name: str
    template_version_id: int
    max_concurrently_running: int | None
    task_counts: list[StatusCount]
    cluster_name: str

    @strawberry.field
    async def resource_usage(self, info: Info) -> ResourceUsage:
        return ResourceUsage.from_row(await services(info).read(usage.array_usage, self.array_id))

    @strawberry.field(description="What the template's tasks ask for, to compare with their usage.")
    async def requested(self, info: Info) -> RequestedResources:
        return RequestedResources.from_row(
            await services(info).read(usage.array_requested, self.array_id)
        )

    @classmethod
    def from_row(cls, t: usage.WorkflowTemplate) -> WorkflowTemplate:
        return cls(
            array_id=t.array_id,
            template_name=t.template_name,
            template_version_id=t.template_version_id,
            max_concurrently_running=t.max_concurrently_running,
            cluster_name=t.cluster_name,
            task_counts=[StatusCount(status=TaskStatus(s), count=n) for s, n in t.counts.items()],
        )


@strawberry.type(description="Errors with similar messages.")
class ErrorGroup:
    signature: str = strawberry.field(description="Pass to Workflow.errors to list the group.")
    pattern: str
    example: str = strawberry.field(description="The group's latest message, as it was.")
    count: int
    task_count: int
    example_task_ids: list[int]
    latest: datetime
    fatal_task_count: int = strawberry.field(
        description="Of the group's tasks, how many failed for good (ERROR_FATAL now)."
    )
    recovered_task_count: int = strawberry.field(
        description="Of the group's tasks, how many were retried and are DONE now."
    )
    latest_run_id: int | None = strawberry.field(description="The run of the latest error.")

    @classmethod
    def from_row(cls, g: error_groups.ErrorGroup) -> ErrorGroup:
        return cls(
            signature=g.signature,
            pattern=g.pattern,
            example=g.example,
            count=g.count,
            task_count=g.task_count,
            example_task_ids=g.example_task_ids,
            latest=aware(g.latest),  # type: ignore[arg-type]
            fatal_task_count=g.fatal_task_count,
            recovered_task_count=g.recovered_task_count,
            latest_run_id=g.latest_run_id,
        )
