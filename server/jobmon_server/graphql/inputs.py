"""GraphQL input types, converted to the domain's plain dataclasses."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from jobmon_server import binding
from jobmon_server.clusters import QueueLimits
from jobmon_server.graphql.types import TaskInstanceStatus
from jobmon_server.workers import Report


@strawberry.input
class TaskTemplateInput:
    name: str
    command_template: str
    node_args: list[str]
    task_args: list[str]
    op_args: list[str]

    def to_spec(self) -> binding.TemplateSpec:
        return binding.TemplateSpec(
            self.name,
            self.command_template,
            list(self.node_args),
            list(self.task_args),
            list(self.op_args),
        )


@strawberry.input
class WorkflowInput:
    tool_version_id: int
    name: str
    workflow_args: str
    user: str
    task_hash: str | None = strawberry.field(
        default=None,
        description=(
            "The client's hash of the whole task set. Without it and dagHash, the workflow "
            "is the one bound with bindDigest, and NotFound answers that none is."
        ),
    )
    dag_hash: str | None = strawberry.field(
        default=None, description="The client's hash of the edges."
    )
    description: str = ""
    max_concurrently_running: int = 10_000
    bind_digest: str | None = strawberry.field(
        default=None,
        description=(
            "The client's digest of everything it binds (commands, args, resources, edges). "
            "When a bound workflow has the same, upToDate answers that nothing needs sending."
        ),
    )
    attributes: JSON | None = strawberry.field(
        default=None,
        description=(
            'Metadata, name to string or null: {"release_id": "3"}. Bound again, the names '
            "given take these values and the others are kept."
        ),
    )

    def to_spec(self) -> binding.WorkflowSpec:
        return binding.WorkflowSpec(
            self.tool_version_id,
            self.name,
            self.description,
            self.workflow_args,
            self.task_hash,
            self.dag_hash,
            self.user,
            self.max_concurrently_running,
            self.bind_digest,
            cast(dict[str, Any] | None, self.attributes),
        )


@strawberry.input(description="What a worker learned about one task instance.")
class InstanceReport:
    task_instance_id: int
    status: TaskInstanceStatus
    distributor_id: str | None = None
    hostname: str | None = None
    stdout_path: str | None = None
    stderr_path: str | None = None
    exit_code: int | None = None
    max_rss_bytes: float | None = None
    cpu_seconds: float | None = None
    wallclock_seconds: float | None = None
    error_message: str | None = strawberry.field(
        default=None, description="The tail of stderr on failure."
    )
    resource_kind: str | None = strawberry.field(
        default=None, description='With RESOURCE_ERROR: "memory" or "runtime".'
    )

    def to_report(self) -> Report:
        details = {
            "distributor_id": self.distributor_id,
            "hostname": self.hostname,
            "stdout_path": self.stdout_path,
            "stderr_path": self.stderr_path,
            "exit_code": self.exit_code,
            "max_rss_bytes": None if self.max_rss_bytes is None else int(self.max_rss_bytes),
            "cpu_seconds": self.cpu_seconds,
            "wallclock_seconds": self.wallclock_seconds,
        }
        return Report(
            self.task_instance_id,
            self.status.value,
            details,
            self.error_message,
            self.resource_kind,
        )


@strawberry.input(description="A queue's limits as a worker found them; null is unlimited.")
class QueueInput:
    name: str
    default: bool = False
    max_cores: int | None = None
    max_memory_mb: float | None = None
    max_runtime_seconds: float | None = None

    def to_limits(self) -> QueueLimits:
        return QueueLimits(
            self.name, self.default, self.max_cores, self.max_memory_mb, self.max_runtime_seconds
        )
