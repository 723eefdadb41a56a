"""The worker protocol's answers, and the workers and clusters it runs on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import presence
from jobmon_server.db import models
from jobmon_server.graphql.types.enums import TaskInstanceStatus
from jobmon_server.graphql.types.helpers import aware, services
from jobmon_server.transitions import utcnow


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
