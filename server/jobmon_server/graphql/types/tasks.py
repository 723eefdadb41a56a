"""Tasks, their attempts and errors, and the edges between them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import reads, usage
from jobmon_server.graphql.types.enums import TaskInstanceStatus, TaskStatus
from jobmon_server.graphql.types.helpers import aware, services
from jobmon_server.graphql.types.pages import Page, page_size
from jobmon_server.graphql.types.resources import ResourceUsage


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
    ) -> Page[TaskInstance]:
        page = await services(info).read(
            reads.instances_page, self.id, page_size(info, first), after
        )
        return Page.of(page, TaskInstance.from_row)

    @strawberry.field(description="What this task's finished attempts used.")
    async def resource_usage(self, info: Info) -> ResourceUsage:
        return ResourceUsage.from_row(await services(info).read(usage.task_usage, self.id))

    @strawberry.field(description="Tasks this task waits for.")
    async def upstream(self, info: Info, first: int = 100, after: str | None = None) -> Page[Task]:
        page = await services(info).read(
            reads.neighbours_page, self.id, True, page_size(info, first), after
        )
        return Page.of(page, Task.from_row)

    @strawberry.field(description="Tasks that wait for this task.")
    async def downstream(
        self, info: Info, first: int = 100, after: str | None = None
    ) -> Page[Task]:
        page = await services(info).read(
            reads.neighbours_page, self.id, False, page_size(info, first), after
        )
        return Page.of(page, Task.from_row)

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


@strawberry.type(description="A task's identity in its workflow.")
class TaskNode:
    id: int
    template_version_id: int
    node_args_hash: str = strawberry.field(
        description="SHA-1 of the node args in the canonical form the client hashes with."
    )


@strawberry.type
class TemplateEdge:
    upstream: str
    downstream: str
    count: int


@strawberry.type
class TaskEdge:
    upstream_id: int
    downstream_id: int


# The one page whose schema name is not its item's name and "Page".
@strawberry.type(name="EdgePage")
class EdgePage(Page[TaskEdge]):
    pass
