"""The schema: queries, mutations and how expected failures become data."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import attributes as attributes_of
from jobmon_server import (
    batches,
    binding,
    claims,
    clusters,
    dynamic,
    presence,
    reads,
    runs,
    steering,
    usage,
    workers,
)
from jobmon_server.auth import Identity
from jobmon_server.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    Unavailable,
    ValidationFailed,
)
from jobmon_server.events import last_event_id
from jobmon_server.graphql import types as t
from jobmon_server.graphql.inputs import (
    InstanceReport,
    QueueInput,
    TaskTemplateInput,
    WorkflowInput,
)
from jobmon_server.graphql.subscriptions import Subscription
from jobmon_server.graphql.types import services
from jobmon_server.settings import Settings
from jobmon_server.transitions import IllegalTransition, utcnow

R = TypeVar("R")
log = logging.getLogger(__name__)

WorkflowResult = Annotated[
    t.Workflow | t.NotFound | t.ValidationError | t.PermissionDenied | t.Conflict,
    strawberry.union("WorkflowResult"),
]
WorkflowRunResult = Annotated[
    t.WorkflowRun | t.NotFound | t.ValidationError | t.Conflict | t.PermissionDenied,
    strawberry.union("WorkflowRunResult"),
]
WorkflowTemplateResult = Annotated[
    t.WorkflowTemplate | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("WorkflowTemplateResult"),
]
UpdateTasksResult = Annotated[
    t.UpdatedTasks | t.NotFound | t.ValidationError | t.PermissionDenied | t.Conflict,
    strawberry.union("UpdateTasksResult"),
]
TaskResult = Annotated[t.Task | t.NotFound, strawberry.union("TaskResult")]
QueuedTasksResult = Annotated[
    t.QueuedTasks | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("QueuedTasksResult"),
]
TaskAttributesResult = Annotated[
    t.Task | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("TaskAttributesResult"),
]
ToolVersionResult = Annotated[
    t.ToolVersion | t.ValidationError, strawberry.union("ToolVersionResult")
]
TaskTemplateVersionListResult = Annotated[
    t.TaskTemplateVersionList | t.NotFound | t.ValidationError,
    strawberry.union("TaskTemplateVersionListResult"),
]
BindWorkflowResult = Annotated[
    t.BoundWorkflow | t.NotFound | t.ValidationError, strawberry.union("BindWorkflowResult")
]
ClusterResult = Annotated[
    t.Cluster | t.ValidationError | t.Conflict, strawberry.union("ClusterResult")
]
BindTasksResult = Annotated[
    t.BoundTasks | t.NotFound | t.ValidationError, strawberry.union("BindTasksResult")
]
WorkerResult = Annotated[
    t.Worker | t.NotFound | t.ValidationError, strawberry.union("WorkerResult")
]
BindEdgesResult = Annotated[
    t.BoundEdges | t.NotFound | t.ValidationError, strawberry.union("BindEdgesResult")
]


async def expected(work: Awaitable[R]) -> Any:
    """Turn the domain's expected failures into the union's error members.

    Typed ``Any``: which failures a field expects is its union's to say, and Strawberry
    refuses at run time a member that its union lacks.
    """
    try:
        return await work
    except NotFoundError as exc:
        return t.NotFound(message=exc.message)
    except ValidationFailed as exc:
        return t.ValidationError(message=exc.message, field=exc.field)
    except PermissionDeniedError as exc:
        return t.PermissionDenied(message=exc.message)
    except (ConflictError, IllegalTransition) as exc:
        return t.Conflict(message=str(exc))


def actor(info: Info, claimed: str | None) -> Identity:
    """Who acts: the token's user on a server with tokens, else the user the client names."""
    identity = info.context.get("identity")
    if identity is not None:
        return identity  # type: ignore[no-any-return]
    return Identity(claimed or "")


async def _workflow(info: Info, fn: Any, *args: Any) -> t.Workflow:
    return t.Workflow.from_row(await services(info).write(fn, *args))


@strawberry.type
class Query:
    @strawberry.field(description="A workflow by id.")
    async def workflow(self, info: Info, id: int) -> WorkflowResult:
        async def work() -> t.Workflow:
            return t.Workflow.from_row(await services(info).read(reads.workflow, id))

        return await expected(work())

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
    ) -> t.WorkflowPage:
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
        return t.page_of(t.WorkflowPage, page, lambda r: t.Workflow.from_row(r[0]))

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
    async def workflow_run(self, info: Info, id: int) -> WorkflowRunResult:
        async def work() -> t.WorkflowRun:
            return t.WorkflowRun.from_row(await services(info).read(reads.workflow_run, id))

        return await expected(work())

    @strawberry.field(description="A task by id, with its attempts.")
    async def task(self, info: Info, id: int) -> TaskResult:
        async def work() -> t.Task:
            return t.Task.from_row(await services(info).read(reads.task, id))

        return await expected(work())


@strawberry.type
class Mutation:
    @strawberry.mutation(description="The tool's current version, created on first use.")
    async def bind_tool(self, info: Info, name: str) -> ToolVersionResult:
        async def work() -> t.ToolVersion:
            version = await services(info).write(binding.bind_tool, name)
            return t.ToolVersion(id=version.id, tool_id=version.tool_id, tool_name=name)

        return await expected(work())

    @strawberry.mutation(description="Task template versions, in the order given.")
    async def bind_task_templates(
        self, info: Info, tool_version_id: int, templates: list[TaskTemplateInput]
    ) -> TaskTemplateVersionListResult:
        async def work() -> t.TaskTemplateVersionList:
            specs = [tt.to_spec() for tt in templates]
            rows = await services(info).write(binding.bind_task_templates, tool_version_id, specs)
            return t.TaskTemplateVersionList(
                items=[
                    t.TaskTemplateVersion(
                        id=r.id,
                        task_template_id=r.task_template_id,
                        name=s.name,
                        command_template=r.command_template,
                        node_args=r.node_args,
                        task_args=r.task_args,
                        op_args=r.op_args,
                    )
                    for r, s in zip(rows, specs, strict=True)
                ]
            )

        return await expected(work())

    @strawberry.mutation(
        description=(
            "The workflow with this identity (tool version, workflow_args, tasks, edges), created "
            "if new. Binding it again returns the same workflow: that is how resume finds it."
        )
    )
    async def bind_workflow(self, info: Info, input: WorkflowInput) -> BindWorkflowResult:
        async def work() -> t.BoundWorkflow:
            spec = input.to_spec()
            identity = info.context.get("identity")
            if identity is not None:  # the token's user owns what it binds
                spec = dataclasses.replace(spec, user=identity.user)
            wf, created = await services(info).write(binding.bind_workflow, spec)
            up_to_date = bool(
                not created and wf.bound and spec.bind_digest and wf.bind_digest == spec.bind_digest
            )
            return t.BoundWorkflow(
                workflow=t.Workflow.from_row(wf),
                created=created,
                bound_tasks=wf.total_tasks,
                up_to_date=up_to_date,
            )

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Upsert a batch of tasks; ids come back in input order. `tasks` is an object of "
            "columns, entry i of each describing task i (a JSON value: a large bind sends "
            "hundreds of thousands of tasks): templateVersionIds [Int], names [String], "
            "commands [String], nodeArgs and taskArgs [{name: value}], maxAttempts [Int], "
            "resourceIndexes [Int] (into resources), and resources [{clusterName, resources, "
            "resourceScales, fallbackQueues}]."
        )
    )
    async def bind_tasks(self, info: Info, workflow_id: int, tasks: JSON) -> BindTasksResult:
        async def work() -> t.BoundTasks:
            ids = await services(info).write(
                binding.bind_tasks, workflow_id, batches.task_batch(tasks)
            )
            return t.BoundTasks(task_ids=ids)

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Edges as pairs: upstreamTaskIds[i] -> downstreamTaskIds[i] (each a JSON list of "
            "task ids)."
        )
    )
    async def bind_edges(
        self,
        info: Info,
        workflow_id: int,
        upstream_task_ids: JSON,
        downstream_task_ids: JSON,
    ) -> BindEdgesResult:
        async def work() -> t.BoundEdges:
            n = await services(info).write(
                binding.bind_edges,
                workflow_id,
                batches.id_list(upstream_task_ids, "upstreamTaskIds"),
                batches.id_list(downstream_task_ids, "downstreamTaskIds"),
            )
            return t.BoundEdges(count=n)

        return await expected(work())

    @strawberry.mutation(
        description="Check the server holds every task and mark the workflow bound."
    )
    async def complete_bind(
        self, info: Info, workflow_id: int, total_tasks: int, bind_digest: str | None = None
    ) -> WorkflowResult:
        return await expected(
            _workflow(info, binding.complete_bind, workflow_id, total_tasks, bind_digest)
        )

    @strawberry.mutation(
        description=(
            "Change how many tasks may run at once; applies at once. With `user`, only the "
            "workflow's owner may."
        )
    )
    async def set_max_concurrently_running(
        self, info: Info, workflow_id: int, limit: int, user: str | None = None
    ) -> WorkflowResult:
        if user is None and info.context.get("identity") is None:
            work = _workflow(info, binding.set_max_concurrently_running, workflow_id, limit)
        else:
            who = actor(info, user)
            work = _workflow(info, steering.set_workflow_concurrency, workflow_id, limit, who)
        return await expected(work)

    @strawberry.mutation(
        description=(
            "Limit how many tasks of one template run at once in a workflow (null: only the "
            "workflow's limit applies); applies at once. Only the owner may."
        )
    )
    async def set_template_concurrency(
        self, info: Info, workflow_id: int, template_name: str, limit: int | None, user: str
    ) -> WorkflowTemplateResult:
        who = actor(info, user)

        async def work() -> t.WorkflowTemplate:
            def change_and_read(session: Any) -> Any:
                array = steering.set_template_concurrency(
                    session, workflow_id, template_name, limit, who
                )
                return next(
                    r
                    for r in usage.workflow_templates(session, workflow_id)
                    if r.array_id == array.id
                )

            return t.WorkflowTemplate.from_row(await services(info).write(change_and_read))

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Add metadata to a workflow: name to string or null, merged into what it has. "
            "Only the owner may."
        )
    )
    async def add_workflow_attributes(
        self, info: Info, workflow_id: int, attributes: JSON, user: str | None = None
    ) -> WorkflowResult:
        who = actor(info, user)
        return await expected(
            _workflow(info, attributes_of.add_workflow_attributes, workflow_id, attributes, who)
        )

    @strawberry.mutation(
        description=(
            "Add metadata to a task: name to string or null, merged into what it has. Only "
            "its workflow's owner may."
        )
    )
    async def add_task_attributes(
        self, info: Info, task_id: int, attributes: JSON, user: str | None = None
    ) -> TaskAttributesResult:
        who = actor(info, user)

        async def work() -> t.Task:
            def change_and_read(session: Any) -> Any:
                attributes_of.add_task_attributes(session, task_id, attributes, who)
                return reads.task(session, task_id)

            return t.Task.from_row(await services(info).write(change_and_read))

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Stop the workflow's running run: what is queued or running is cancelled and the "
            "workflow becomes HALTED. Only the owner may."
        )
    )
    async def stop_workflow(self, info: Info, workflow_id: int, user: str) -> WorkflowRunResult:
        async def work() -> t.WorkflowRun:
            run = await services(info).write(steering.stop_workflow, workflow_id, actor(info, user))
            return t.WorkflowRun.from_row(run)

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Put a workflow that is not running back to REGISTERING with all its tasks, so that "
            "run() starts it afresh. Only the owner may."
        )
    )
    async def reset_workflow(self, info: Info, workflow_id: int, user: str) -> WorkflowResult:
        return await expected(
            _workflow(info, steering.reset_workflow, workflow_id, actor(info, user))
        )

    @strawberry.mutation(
        description=(
            "Mark tasks DONE (recursive: their upstream tasks too) or REGISTERING to rerun them "
            "(recursive: their downstream tasks too) in a workflow that is not running. Only "
            "the owner may."
        )
    )
    async def update_task_statuses(
        self,
        info: Info,
        workflow_id: int,
        task_ids: list[int],
        status: t.TaskStatus,
        user: str,
        recursive: bool = False,
    ) -> UpdateTasksResult:
        async def work() -> t.UpdatedTasks:
            ids = await services(info).write(
                steering.update_task_statuses,
                workflow_id,
                list(task_ids),
                status.value,
                recursive,
                actor(info, user),
            )
            return t.UpdatedTasks(task_ids=ids)

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Start a run. A workflow that ran before needs resume=true, which reruns what is not "
            "DONE: resetRunningJobs=true (cold) kills what still runs, false (hot) adopts it."
        )
    )
    async def start_workflow_run(
        self,
        info: Info,
        workflow_id: int,
        user: str,
        resume: bool = False,
        reset_running_jobs: bool = True,
        fail_fast: bool = False,
        seconds_until_timeout: int | None = None,
        client_key: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A key the client makes for this start: the same key sent again (a resend "
                    "after a timeout) answers the run the first one started."
                )
            ),
        ] = None,
        dynamic_resources: Annotated[
            bool,
            strawberry.argument(
                description=(
                    "The client gives dynamic tasks their resources when they are ready "
                    "(see giveTaskResources); otherwise they run with those bound."
                )
            ),
        ] = False,
    ) -> WorkflowRunResult:
        who = actor(info, user)

        async def work() -> t.WorkflowRun:
            run = await services(info).write(
                runs.start_run,
                workflow_id,
                who.user,
                resume=resume,
                reset_running_jobs=reset_running_jobs,
                fail_fast=fail_fast,
                seconds_until_timeout=seconds_until_timeout,
                admin=who.admin,
                client_key=client_key,
                dynamic_resources=dynamic_resources,
            )
            return t.WorkflowRun.from_row(run)

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Give tasks waiting for their dynamic resources (Workflow.tasksAwaitingResources) "
            "their resources, merged over those bound, and queue them. Only the owner may."
        )
    )
    async def give_task_resources(
        self,
        info: Info,
        workflow_run_id: int,
        task_ids: list[int],
        resources: list[JSON],
        user: str | None = None,
    ) -> QueuedTasksResult:
        who = actor(info, user)

        async def work() -> t.QueuedTasks:
            queued = await services(info).write(
                dynamic.give_resources,
                workflow_run_id,
                list(task_ids),
                list(resources),
                who,
                utcnow(),
            )
            return t.QueuedTasks(task_ids=queued)

        return await expected(work())

    @strawberry.mutation(
        description="Stop a run: its workflow becomes HALTED and what runs is killed."
    )
    async def stop_workflow_run(self, info: Info, workflow_run_id: int) -> WorkflowRunResult:
        identity = info.context.get("identity")

        def stop(session: Any) -> Any:
            if identity is not None:
                run = reads.workflow_run(session, workflow_run_id)
                steering.owned_workflow(session, run.workflow_id, identity)
            return runs.stop(session, workflow_run_id)

        async def work() -> t.WorkflowRun:
            return t.WorkflowRun.from_row(await services(info).write(stop))

        return await expected(work())

    @strawberry.mutation(
        description=(
            "Create a cluster, or update its queues' limits (a Slurm worker registers its "
            "partitions when it starts). Queues not named are kept."
        )
    )
    async def register_cluster(
        self, info: Info, name: str, distributor: str, queues: list[QueueInput]
    ) -> ClusterResult:
        async def work() -> t.Cluster:
            cluster, limits = await services(info).write(
                clusters.register_cluster, name, distributor, [q.to_limits() for q in queues]
            )
            return t.Cluster.from_row(cluster, limits)

        return await expected(work())

    @strawberry.mutation(
        description=(
            "A worker announces itself when it starts: the server then knows its cluster has "
            "a live worker (claims and heartbeats keep it seen)."
        )
    )
    async def announce_worker(
        self, info: Info, worker_id: str, cluster_name: str, hostname: str, version: str
    ) -> WorkerResult:
        async def work() -> t.Worker:
            svc = services(info)
            cluster_id = await svc.read(workers.cluster_id, cluster_name)
            await svc.write(presence.announce, worker_id, cluster_id, hostname, version)
            rows = await svc.read(presence.recent_workers, [cluster_name])
            return t.Worker.from_row(next(r for r in rows if r.id == worker_id), utcnow())

        return await expected(work())

    @strawberry.mutation(
        description="A worker that stops says so: it no longer serves its cluster."
    )
    async def worker_stopped(self, info: Info, worker_id: str) -> bool:
        await services(info).write(presence.stopped, worker_id)
        return True

    @strawberry.mutation(
        description=(
            "For a worker that restarts: take over live instances, with a fresh lease, to "
            "follow (or kill) them instead of launching them again. Without fromWorkerIds, "
            "every live instance of the cluster (a Slurm worker, which finds its jobs by id); "
            "with them, those these earlier workers held (a local worker restarting on their "
            "host). The worker reports those that no longer run."
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
        cluster_id = await svc.read(workers.cluster_id, cluster_name)
        rows = await svc.write(
            workers.adopt,
            cluster_id,
            worker_id,
            svc.settings.report_within,
            None if from_worker_ids is None else list(from_worker_ids),
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
        kill = await svc.write(
            workers.heartbeat, worker_id, list(task_instance_ids), next_report_seconds
        )
        if presence.seen_due(worker_id):
            await svc.write(presence.seen, worker_id)
        return t.HeartbeatResult(kill_instance_ids=kill)


def _should_mask(error: GraphQLError) -> bool:
    """Expected errors keep their message; anything unexpected is masked (and logged)."""
    original = error.original_error
    return original is not None and not isinstance(
        original, DomainError | IllegalTransition | Unavailable
    )


UNAVAILABLE = "UNAVAILABLE"
RETRY_AFTER_SECONDS = 1


class MaskUnexpected(MaskErrors):
    """Masks unexpected errors with the request's id, which the server log names too.

    An unavailable database is not unexpected: its error says so with the code
    UNAVAILABLE (clients send the request again), and over HTTP the answer is a 503.
    """

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        if any(isinstance(e.original_error, Unavailable) for e in processed):
            response = _context_response(self.execution_context.context)
            if response is not None:
                response.status_code = 503
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return [_typed_unavailable(e) for e in processed]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = request_id_of(self.execution_context.context)
        log.error("request %s failed", request_id, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.message = (
            f"Unexpected error (request {request_id}); the server's log has the details"
        )
        return masked


def _typed_unavailable(error: GraphQLError) -> GraphQLError:
    if not isinstance(error.original_error, Unavailable):
        return error
    log.warning("answered UNAVAILABLE: %s", error.message)
    return GraphQLError(
        message=error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={"code": UNAVAILABLE, "retryable": True},
    )


def _context_response(context: Any) -> Any:
    return context.get("response") if isinstance(context, dict) else None


def request_id_of(context: Any) -> str:
    request = context.get("request") if isinstance(context, dict) else None
    scope = getattr(request, "scope", None) or {}
    return str(scope.get("state", {}).get("request_id", "unknown"))


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with the request limits of ``settings``.

    Validation rules are made once per schema, not per request: the validation cache is
    keyed by the rules, and a new rule class per request would miss it every time.
    """
    settings = settings or Settings()
    rules: list[type[ASTValidationRule]] = [
        depth_validator(max_depth=settings.max_query_depth, should_ignore=None),
        aliases_validator(settings.max_aliases),
    ]
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        # Workers send the same few documents thousands of times.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: MaskUnexpected(should_mask_error=_should_mask),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )


schema = build_schema()
