"""GraphQL object types, enums and error types.

Types are thin: built from database rows by ``from_row``; anything that needs a query
lives in a plain function the resolver calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast, overload

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import dynamic, error_groups, presence, reads, statuses, usage
from jobmon_server.context import Services
from jobmon_server.db import models
from jobmon_server.graphql.loaders import Loaders
from jobmon_server.transitions import utcnow

# strawberry.enum marks the statuses' own Enum classes (and returns them), so the names
# below are those classes: types to mypy as well as to the schema.
strawberry.enum(statuses.TaskStatus, description="Status of a task.")
strawberry.enum(statuses.TaskInstanceStatus, description="Status of one attempt of a task.")
strawberry.enum(statuses.WorkflowRunStatus, description="Status of one execution of a workflow.")
strawberry.enum(statuses.WorkflowStatus, description="Status of a workflow.")
TaskStatus = statuses.TaskStatus
TaskInstanceStatus = statuses.TaskInstanceStatus
WorkflowRunStatus = statuses.WorkflowRunStatus
WorkflowStatus = statuses.WorkflowStatus


def services(info: Info) -> Services:
    return info.context["services"]  # type: ignore[no-any-return]


def loaders(info: Info) -> Loaders:
    return info.context["loaders"]  # type: ignore[no-any-return]


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """Database times are naive UTC; the API says so."""
    return value.replace(tzinfo=UTC) if value is not None else None


@strawberry.interface(description="An expected failure, with a message saying what to do.")
class Error:
    message: str


@strawberry.type
class NotFound(Error):
    pass


@strawberry.type
class ValidationError(Error):
    field: str | None = None


@strawberry.type
class PermissionDenied(Error):
    pass


@strawberry.type
class Conflict(Error):
    pass


@strawberry.type
class ToolVersion:
    id: int
    tool_id: int
    tool_name: str


@strawberry.type
class TaskTemplateVersion:
    id: int
    task_template_id: int
    name: str
    command_template: str
    node_args: list[str]
    task_args: list[str]
    op_args: list[str]


@strawberry.type
class TaskTemplateVersionList:
    items: list[TaskTemplateVersion]


@strawberry.type
class StatusCount:
    status: TaskStatus
    count: int


@strawberry.type
class TaskInstanceError:
    id: int
    task_instance_id: int
    task_id: int
    task_name: str
    description: str
    time: datetime
    status: TaskInstanceStatus
    exit_code: int | None

    @classmethod
    def from_row(cls, row: Any) -> TaskInstanceError:
        e, name, status, exit_code = row
        return cls(
            id=e.id,
            task_instance_id=e.task_instance_id,
            task_id=e.task_id,
            task_name=name,
            description=e.description,
            time=aware(e.time),  # type: ignore[arg-type]
            status=TaskInstanceStatus(status),
            exit_code=exit_code,
        )


@strawberry.type
class TaskInstance:
    id: int
    task_id: int
    workflow_run_id: int
    status: TaskInstanceStatus
    distributor_id: str | None
    worker_id: str | None
    hostname: str | None
    exit_code: int | None
    stdout_path: str | None
    stderr_path: str | None
    max_rss_bytes: float | None = strawberry.field(
        description="Peak memory in bytes (a Float: it may exceed 32 bits)."
    )
    cpu_seconds: float | None
    wallclock_seconds: float | None
    requested_resources: JSON
    created: datetime
    started: datetime | None
    finished: datetime | None
    status_date: datetime
    task_name: str
    error_message: str | None = strawberry.field(
        description="The latest error recorded for this attempt (the tail of its stderr)."
    )

    @classmethod
    def from_row(cls, row: Any) -> TaskInstance:
        ti, requested, task_name, error_message = row
        return cls(
            id=ti.id,
            task_id=ti.task_id,
            task_name=task_name,
            error_message=error_message,
            workflow_run_id=ti.workflow_run_id,
            status=TaskInstanceStatus(ti.status),
            distributor_id=ti.distributor_id,
            worker_id=ti.worker_id,
            hostname=ti.hostname,
            exit_code=ti.exit_code,
            stdout_path=ti.stdout_path,
            stderr_path=ti.stderr_path,
            max_rss_bytes=ti.max_rss_bytes,
            cpu_seconds=ti.cpu_seconds,
            wallclock_seconds=ti.wallclock_seconds,
            requested_resources=requested,
            created=aware(ti.created),
            started=aware(ti.started_date),  # type: ignore[arg-type]
            finished=aware(ti.finished_date),
            status_date=aware(ti.status_date),  # type: ignore[arg-type]
        )


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
    async def runs(self, info: Info, first: int = 100, after: str | None = None) -> WorkflowRunPage:
        page = await services(info).read(reads.runs_page, self.id, _first(info, first), after)
        return page_of(WorkflowRunPage, page, lambda r: WorkflowRun.from_row(r[0]))

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
    ) -> TaskPage:
        page = await services(info).read(
            reads.tasks_page,
            self.id,
            [s.value for s in statuses or []],
            template_name,
            _first(info, first),
            after,
            name_contains,
        )
        return TaskPage.of(page)

    @strawberry.field(
        description=(
            "The workflow's tasks as node identities (template version and hash of the node "
            "args), in id order, up to 50,000 a page: how a client learns its tasks' ids "
            "without binding them again."
        )
    )
    async def task_nodes(
        self, info: Info, first: int = 10_000, after: str | None = None
    ) -> TaskNodePage:
        page = await services(info).read(reads.task_nodes, self.id, first, after)
        return page_of(
            TaskNodePage,
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
            dynamic.tasks_awaiting_resources, self.id, _first(info, first)
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
        page = await services(info).read(reads.edges_page, self.id, _first(info, first), after)
        return page_of(EdgePage, page, lambda r: TaskEdge(upstream_id=r[0], downstream_id=r[1]))

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
    ) -> TaskInstancePage:
        page = await services(info).read(
            reads.workflow_instances_page,
            self.id,
            template_name,
            _first(info, first),
            after,
            newest_first,
        )
        return TaskInstancePage.of(page)

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
        groups = await services(info).read(error_groups.error_groups, self.id, _first(info, first))
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
    ) -> TaskInstanceErrorPage:
        page = await services(info).read(
            reads.errors_page, self.id, signature, _first(info, first), after
        )
        return page_of(TaskInstanceErrorPage, page, TaskInstanceError.from_row)

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


@strawberry.type
class Task:
    id: int
    workflow_id: int
    name: str
    command: str
    status: TaskStatus
    num_attempts: int
    max_attempts: int
    template_name: str
    node_args: JSON
    task_args: JSON
    cluster_name: str
    compute_resources: JSON
    status_date: datetime
    latest_exit_code: int | None = strawberry.field(
        description="Exit code of the latest attempt, if it reported one."
    )
    attributes: JSON | None = strawberry.field(
        default=None, description="Metadata stored with the task: name to string or null."
    )

    @strawberry.field(description="Attempts of this task, oldest first.")
    async def instances(
        self, info: Info, first: int = 100, after: str | None = None
    ) -> TaskInstancePage:
        page = await services(info).read(reads.instances_page, self.id, _first(info, first), after)
        return TaskInstancePage.of(page)

    @strawberry.field(description="What this task's finished attempts used.")
    async def resource_usage(self, info: Info) -> ResourceUsage:
        return ResourceUsage.from_row(await services(info).read(usage.task_usage, self.id))

    @strawberry.field(description="Tasks this task waits for.")
    async def upstream(self, info: Info, first: int = 100, after: str | None = None) -> TaskPage:
        page = await services(info).read(
            reads.neighbours_page, self.id, True, _first(info, first), after
        )
        return TaskPage.of(page)

    @strawberry.field(description="Tasks that wait for this task.")
    async def downstream(self, info: Info, first: int = 100, after: str | None = None) -> TaskPage:
        page = await services(info).read(
            reads.neighbours_page, self.id, False, _first(info, first), after
        )
        return TaskPage.of(page)

    @classmethod
    def from_row(cls, row: Any) -> Task:
        t, template_name, cluster_name, requested, node_args, latest_exit_code = row
        return cls(
            latest_exit_code=latest_exit_code,
            id=t.id,
            workflow_id=t.workflow_id,
            name=t.name,
            command=t.command,
            status=TaskStatus(t.status),
            num_attempts=t.num_attempts,
            max_attempts=t.max_attempts,
            template_name=template_name,
            node_args=node_args,
            task_args=t.task_args,
            cluster_name=cluster_name,
            compute_resources=requested,
            status_date=aware(t.status_date),
            attributes=t.attributes,
        )  # type: ignore[arg-type]


def _first(info: Info, first: int) -> int:
    return reads.check_page_size(first, services(info).settings.max_page_size)


@strawberry.type
class Page:
    end_cursor: str | None
    has_next_page: bool


P = TypeVar("P", bound=Page)


def page_of(cls: type[P], page: reads.Page[Any], item: Callable[[Any], Any]) -> P:
    """A GraphQL page type from a page of rows, each row made an item by ``item``."""
    return cls(
        items=[item(r) for r in page.items],  # type: ignore[call-arg]
        end_cursor=page.end_cursor,
        has_next_page=page.has_next_page,
    )


@strawberry.type
class TaskPage(Page):
    items: list[Task]

    @classmethod
    def of(cls, page: reads.Page[Any]) -> TaskPage:
        return page_of(cls, page, Task.from_row)


@strawberry.type
class TaskInstancePage(Page):
    items: list[TaskInstance]

    @classmethod
    def of(cls, page: reads.Page[Any]) -> TaskInstancePage:
        return page_of(cls, page, TaskInstance.from_row)


@strawberry.type
class WorkflowPage(Page):
    items: list[Workflow]


@strawberry.type(description="A task's identity in its workflow.")
class TaskNode:
    id: int
    template_version_id: int
    node_args_hash: str = strawberry.field(
        description="SHA-1 of the node args in the canonical form the client hashes with."
    )


@strawberry.type
class TaskNodePage(Page):
    items: list[TaskNode]


@strawberry.type
class TemplateEdge:
    upstream: str
    downstream: str
    count: int


@strawberry.type
class TaskEdge:
    upstream_id: int
    downstream_id: int


@strawberry.type
class EdgePage(Page):
    items: list[TaskEdge]


@strawberry.type(description="A range of values: smallest, median, largest.")
class UsageStats:
    min: float | None
    median: float | None
    max: float | None


@strawberry.type(
    description=(
        "What the finished (DONE) attempts of a template used: the count, min and max over all "
        "of them, the median and the suggestion over the latest 20,000."
    )
)
class ResourceUsage:
    num_instances: int
    memory_bytes: UsageStats
    runtime_seconds: UsageStats
    suggested: JSON | None = strawberry.field(
        description=(
            "Memory and runtime to ask for next time: the 95th percentile of what was used, "
            "with 20% headroom."
        )
    )

    @classmethod
    def from_row(cls, u: usage.ResourceUsage) -> ResourceUsage:
        return cls(
            num_instances=u.num_instances,
            memory_bytes=UsageStats(**vars(u.memory_bytes)),
            runtime_seconds=UsageStats(**vars(u.runtime_seconds)),
            suggested=cast(JSON | None, u.suggested),
        )


@strawberry.type(
    description=(
        "What a template's tasks ask for now: the smallest and largest request (a retry after "
        "running out asks for more). The median is that of the distinct requests."
    )
)
class RequestedResources:
    memory_bytes: UsageStats
    runtime_seconds: UsageStats

    @classmethod
    def from_row(cls, r: usage.Requested) -> RequestedResources:
        return cls(
            memory_bytes=UsageStats(**vars(r.memory_bytes)),
            runtime_seconds=UsageStats(**vars(r.runtime_seconds)),
        )


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


@strawberry.type
class UpdatedTasks:
    task_ids: list[int]


@strawberry.type(description="Tasks given their dynamic resources; those queued.")
class QueuedTasks:
    task_ids: list[int]


@strawberry.type
class TaskInstanceErrorPage(Page):
    items: list[TaskInstanceError]


@strawberry.type
class WorkflowRunPage(Page):
    items: list[WorkflowRun]


@strawberry.type
class BoundWorkflow:
    workflow: Workflow
    created: bool
    bound_tasks: int
    up_to_date: bool = strawberry.field(
        description="Bound before with the same bindDigest: its tasks need not be sent again."
    )


@strawberry.type
class BoundTasks:
    task_ids: list[int]


@strawberry.type
class BoundEdges:
    count: int


@strawberry.type
class ClaimedInstance:
    id: int
    task_id: int
    workflow_id: int
    workflow_run_id: int
    name: str
    command: str
    cluster_name: str
    resources: JSON
    array_id: int = strawberry.field(
        description="Instances of one array with equal resources can go out as one job array."
    )
    concurrency_limit: int = strawberry.field(
        description="At most this many tasks of the array run at once (workflow and array limits)."
    )


@strawberry.type(description="An instance a restarted worker follows instead of launching it.")
class AdoptedInstance:
    id: int
    task_id: int
    workflow_id: int
    status: TaskInstanceStatus
    distributor_id: str | None
    hostname: str | None
    stdout_path: str | None
    stderr_path: str | None


@strawberry.type(description="A worker process that announced itself.")
class Worker:
    id: str
    cluster_name: str
    hostname: str
    version: str
    started: datetime
    last_seen: datetime
    stopped: datetime | None
    alive: bool = strawberry.field(
        description="Seen within the last 45 s and not stopped: it is serving its cluster."
    )

    @classmethod
    def from_row(cls, row: Any, now: datetime) -> Worker:
        return cls(
            id=row.id,
            cluster_name=row.cluster_name,
            hostname=row.hostname,
            version=row.version,
            started=aware(row.started),
            last_seen=aware(row.last_seen),
            stopped=aware(row.stopped),
            alive=row.alive(now),
        )


@strawberry.type(description="A queue (a Slurm partition) and its limits; null is unlimited.")
class Queue:
    name: str
    default: bool
    max_cores: int | None
    max_memory_mb: float | None
    max_runtime_seconds: float | None

    @classmethod
    def from_limits(cls, q: Any) -> Queue:
        return cls(
            name=q.name,
            default=q.default,
            max_cores=q.max_cores,
            max_memory_mb=q.max_memory_mb,
            max_runtime_seconds=q.max_runtime_s,
        )


@strawberry.type
class Cluster:
    name: str
    distributor: str
    queues: list[Queue]

    @strawberry.field(description="Workers of this cluster seen in the last minutes, newest first.")
    async def workers(self, info: Info) -> list[Worker]:
        rows = await services(info).read(presence.recent_workers, [self.name])
        now = utcnow()
        return [Worker.from_row(r, now) for r in rows]

    @classmethod
    def from_row(cls, cluster: models.Cluster, queues: list[Any]) -> Cluster:
        return cls(
            name=cluster.name,
            distributor=cluster.distributor,
            queues=[Queue.from_limits(q) for q in queues],
        )


@strawberry.type
class ClaimResult:
    instances: list[ClaimedInstance]
    kill_instance_ids: list[int]
    heartbeat_interval_seconds: float
    lease_seconds: float = strawberry.field(
        description=(
            "How long a claimed instance is held without a heartbeat. A worker that cannot "
            "renew its lease stops the instance before it runs out."
        )
    )


@strawberry.type
class RefusedReport:
    task_instance_id: int
    message: str


@strawberry.type
class ReportResult:
    accepted: int
    ignored: list[int] = strawberry.field(
        description="Late reports on instances that had already ended: recorded, not applied."
    )
    refused: list[RefusedReport]
    kill_instance_ids: list[int]


@strawberry.type(description="What a workerSync did: its reports' outcome and its claim.")
class WorkerSyncResult:
    accepted: int
    ignored: list[int] = strawberry.field(
        description="Reports that came late or repeated what was applied: recorded, not applied."
    )
    refused: list[RefusedReport]
    kill_instance_ids: list[int] = strawberry.field(
        description="Instances this worker holds that it must kill."
    )
    instances: JSON = strawberry.field(
        description=(
            "The instances claimed, a list of {id, taskId, workflowId, workflowRunId, arrayId, "
            "name, command, clusterName, resources, concurrencyLimit} (JSON: thousands at a time)."
        )
    )
    heartbeat_interval_seconds: float
    lease_seconds: float = strawberry.field(
        description=(
            "How long a claimed instance is held without a heartbeat. A worker that cannot "
            "renew its lease stops the instance before it runs out."
        )
    )


@strawberry.type
class HeartbeatResult:
    kill_instance_ids: list[int]
