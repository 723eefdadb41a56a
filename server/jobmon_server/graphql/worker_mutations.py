"""The mutations a worker sends: registering, claiming, reporting, heartbeats, adoption."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import (
    authorize,
    batches,
    claims,
    clusters,
    presence,
    workers,
)
from jobmon_server.auth import Identity
from jobmon_server.graphql import types as t
from jobmon_server.graphql.inputs import (
    InstanceReport,
    QueueInput,
)
from jobmon_server.graphql.results import (
    ClusterResult,
    WorkerResult,
    capture_errors,
)
from jobmon_server.graphql.types import services
from jobmon_server.transitions import utcnow


def identity_of(info: Info) -> Identity | None:
    return info.context.get("identity")  # type: ignore[no-any-return]


@strawberry.type
class WorkerMutation:
    @strawberry.mutation(
        description=(
            "Create a cluster, or update its queues' limits (a Slurm worker registers its "
            "partitions when it starts). Queues not named are kept. A worker token may "
            "register only its own cluster."
        )
    )
    @capture_errors
    async def register_cluster(
        self, info: Info, name: str, distributor: str, queues: list[QueueInput]
    ) -> ClusterResult:
        authorize.check_worker_role(identity_of(info), name)
        cluster, limits = await services(info).write(
            clusters.register_cluster, name, distributor, [q.to_limits() for q in queues]
        )
        return t.Cluster.from_row(cluster, limits)

    @strawberry.mutation(
        description=(
            "A worker announces itself when it starts: the server then knows its cluster has "
            "a live worker (claims and heartbeats keep it seen). On a server with tokens the "
            "worker id belongs to the token that announced it."
        )
    )
    @capture_errors
    async def announce_worker(
        self, info: Info, worker_id: str, cluster_name: str, hostname: str, version: str
    ) -> WorkerResult:
        identity = identity_of(info)

        authorize.check_worker_role(identity, cluster_name)
        svc = services(info)
        cluster_id = await svc.read(workers.cluster_id, cluster_name)

        def announce(session: Any) -> None:
            token_id = authorize.announcing_token(session, worker_id, identity)
            presence.announce(session, worker_id, cluster_id, hostname, version, token_id)

        await svc.write(announce)
        rows = await svc.read(presence.recent_workers, [cluster_name])
        return t.Worker.from_row(next(r for r in rows if r.id == worker_id), utcnow())

    @strawberry.mutation(
        description="A worker that stops says so: it no longer serves its cluster."
    )
    async def worker_stopped(self, info: Info, worker_id: str) -> bool:
        svc = services(info)
        await authorize.check_worker(svc, identity_of(info), [worker_id])
        await svc.write(presence.stopped, worker_id)
        return True

    @strawberry.mutation(
        description=(
            "For a worker that restarts: take over live instances, with a fresh lease, to "
            "follow (or kill) them instead of launching them again. Without fromWorkerIds, "
            "every live instance of the cluster (a Slurm worker, which finds its jobs by id); "
            "with them, those these earlier workers held (a local worker restarting on their "
            "host). The worker reports those that no longer run. On a server with tokens the "
            "earlier workers must have announced themselves with the same token."
        )
    )
    async def adopt_task_instances(
        self,
        info: Info,
        cluster_name: str,
        worker_id: str,
        from_worker_ids: list[str] | None = None,
    ) -> list[t.AdoptedInstance]:
        svc = services(info)
        identity = identity_of(info)
        await authorize.check_worker(
            svc, identity, [worker_id, *(from_worker_ids or [])], cluster_name
        )
        cluster_id = await svc.read(workers.cluster_id, cluster_name)
        rows = await svc.write(
            workers.adopt,
            cluster_id,
            worker_id,
            svc.settings.report_within,
            None if from_worker_ids is None else list(from_worker_ids),
            # a worker token takes over only from workers announced with it
            None if identity is None or identity.admin else identity.token_id,
        )
        return [
            t.AdoptedInstance(
                id=r.id,
                task_id=r.task_id,
                workflow_id=r.workflow_id,
                status=t.TaskInstanceStatus(r.status),
                distributor_id=r.distributor_id,
                hostname=r.hostname,
                stdout_path=r.stdout_path,
                stderr_path=r.stderr_path,
            )
            for r in rows
        ]

    @strawberry.mutation(
        description=(
            "Claim up to `limit` queued instances of a cluster; each is claimed once. When none is "
            "ready, wait up to waitSeconds for work and answer as soon as some arrives."
        )
    )
    async def claim_task_instances(
        self, info: Info, cluster_name: str, worker_id: str, limit: int, wait_seconds: float = 0.0
    ) -> t.ClaimResult:
        svc = services(info)
        await authorize.check_worker(svc, identity_of(info), [worker_id], cluster_name)
        cluster_id = await claims.cluster_id(svc, cluster_name)
        synced = await claims.claim_waiting(
            svc,
            info.context.get("request"),
            cluster_id,
            worker_id,
            lambda s: workers.sync(s, cluster_id, worker_id, [], limit, svc.settings.report_within),
            limit,
            wait_seconds,
        )
        return t.ClaimResult(
            instances=[
                t.ClaimedInstance(
                    id=i["id"],
                    task_id=i["taskId"],
                    workflow_id=i["workflowId"],
                    workflow_run_id=i["workflowRunId"],
                    name=i["name"],
                    command=i["command"],
                    cluster_name=cluster_name,
                    resources=i["resources"],
                    array_id=i["arrayId"],
                    concurrency_limit=i["concurrencyLimit"],
                )
                for i in workers.wire_instances(synced.claimed, cluster_name)
            ],
            kill_instance_ids=synced.claimed.kill_ids,
            heartbeat_interval_seconds=svc.settings.heartbeat_interval,
            lease_seconds=svc.settings.report_within,
        )

    @strawberry.mutation(
        description=(
            "A worker's round trip: apply its reports (in order; LAUNCHED, RUNNING and a final "
            "status of one instance may share a batch; late or repeated ones are recorded and "
            "ignored), then claim up to claimLimit queued instances of its cluster, in one "
            "transaction, so that a task made ready by a report is claimed at once. With nothing "
            "to report and nothing ready, it waits up to waitSeconds for work. `reports` is a "
            "JSON list of {taskInstanceId, status, distributorId, hostname, stdoutPath, "
            "stderrPath, exitCode, maxRssBytes, cpuSeconds, wallclockSeconds, errorMessage, "
            "resourceKind} (at most 10,000)."
        )
    )
    async def worker_sync(
        self,
        info: Info,
        worker_id: str,
        cluster_name: str,
        reports: JSON,
        claim_limit: int = 0,
        wait_seconds: float = 0.0,
    ) -> t.WorkerSyncResult:
        svc = services(info)
        await authorize.check_worker(svc, identity_of(info), [worker_id], cluster_name)
        parsed = batches.reports(reports)
        limit = max(0, min(claim_limit, workers.MAX_CLAIM))
        cluster_id = await claims.cluster_id(svc, cluster_name)
        synced = await claims.claim_waiting(
            svc,
            info.context.get("request"),
            cluster_id,
            worker_id,
            lambda s: workers.sync(
                s, cluster_id, worker_id, parsed, limit, svc.settings.report_within
            ),
            limit,
            wait_seconds if not parsed else 0.0,
        )
        outcome = synced.outcome
        return t.WorkerSyncResult(
            accepted=outcome.accepted,
            ignored=outcome.ignored,
            refused=[t.RefusedReport(task_instance_id=i, message=m) for i, m in outcome.refused],
            kill_instance_ids=sorted(set(outcome.kill_ids) | set(synced.claimed.kill_ids)),
            instances=cast(JSON, workers.wire_instances(synced.claimed, cluster_name)),
            heartbeat_interval_seconds=svc.settings.heartbeat_interval,
            lease_seconds=svc.settings.report_within,
        )

    @strawberry.mutation(
        description=(
            "Apply a batch of reports in order (LAUNCHED, RUNNING and a final status of one "
            "instance may share a batch). Late reports are recorded and ignored."
        )
    )
    async def report_task_instances(
        self, info: Info, worker_id: str, reports: list[InstanceReport]
    ) -> t.ReportResult:
        await authorize.check_worker(services(info), identity_of(info), [worker_id])
        outcome = await services(info).write(
            workers.report, worker_id, [r.to_report() for r in reports]
        )
        return t.ReportResult(
            accepted=outcome.accepted,
            ignored=outcome.ignored,
            refused=[t.RefusedReport(task_instance_id=i, message=m) for i, m in outcome.refused],
            kill_instance_ids=outcome.kill_ids,
        )

    @strawberry.mutation(
        description="Extend the deadlines of running instances; answers which to kill."
    )
    async def heartbeat(
        self, info: Info, worker_id: str, task_instance_ids: list[int], next_report_seconds: float
    ) -> t.HeartbeatResult:
        svc = services(info)
        await authorize.check_worker(svc, identity_of(info), [worker_id])
        kill = await svc.write(
            workers.heartbeat, worker_id, list(task_instance_ids), next_report_seconds
        )
        if presence.seen_due(worker_id):
            await svc.write(presence.seen, worker_id)
        return t.HeartbeatResult(kill_instance_ids=kill)
