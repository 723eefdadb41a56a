"""The mutations a user's client and the CLI send: binding, runs and steering."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from jobmon_server import attributes as attributes_of
from jobmon_server import (
    authorize,
    batches,
    binding,
    dynamic,
    reads,
    runs,
    steering,
    usage,
)
from jobmon_server.graphql import types as t
from jobmon_server.graphql.inputs import (
    TaskTemplateInput,
    WorkflowInput,
)
from jobmon_server.graphql.results import (
    BindEdgesResult,
    BindTasksResult,
    BindWorkflowResult,
    QueuedTasksResult,
    TaskAttributesResult,
    TaskTemplateVersionListResult,
    ToolVersionResult,
    UpdateTasksResult,
    WorkflowResult,
    WorkflowRunResult,
    WorkflowTemplateResult,
    actor,
    capture_errors,
    workflow_row,
)
from jobmon_server.graphql.types import services
from jobmon_server.transitions import utcnow


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="The tool's current version, created on first use.")
    @capture_errors
    async def bind_tool(self, info: Info, name: str) -> ToolVersionResult:
        version = await services(info).write(binding.bind_tool, name)
        return t.ToolVersion(id=version.id, tool_id=version.tool_id, tool_name=name)

    @strawberry.mutation(description="Task template versions, in the order given.")
    @capture_errors
    async def bind_task_templates(
        self, info: Info, tool_version_id: int, templates: list[TaskTemplateInput]
    ) -> TaskTemplateVersionListResult:
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

    @strawberry.mutation(
        description=(
            "The workflow with this identity (tool version, workflow_args, tasks, edges), created "
            "if new. Binding it again returns the same workflow: that is how resume finds it. "
            "On a server with tokens only its owner (or an admin) may bind it again."
        )
    )
    @capture_errors
    async def bind_workflow(self, info: Info, input: WorkflowInput) -> BindWorkflowResult:
        spec = input.to_spec()
        identity = info.context.get("identity")
        if identity is not None:  # the token's user owns what it binds
            spec = dataclasses.replace(spec, user=identity.user)

        def bind(session: Any) -> tuple[Any, bool]:
            wf, created = binding.bind_workflow(session, spec)
            if not created:
                authorize.refuse_unless_owner(
                    wf.id,
                    wf.user,
                    identity,
                    "bind it again (binding the same workflow is resuming it; give yours "
                    "workflow_args of its own)",
                )
            return wf, created

        wf, created = await services(info).write(bind)
        up_to_date = bool(
            not created and wf.bound and spec.bind_digest and wf.bind_digest == spec.bind_digest
        )
        return t.BoundWorkflow(
            workflow=t.Workflow.from_row(wf),
            created=created,
            bound_tasks=wf.total_tasks,
            up_to_date=up_to_date,
        )

    @strawberry.mutation(
        description=(
            "Upsert a batch of tasks; ids come back in input order. `tasks` is an object of "
            "columns, entry i of each describing task i (a JSON value: a large bind sends "
            "hundreds of thousands of tasks): templateVersionIds [Int], names [String], "
            "commands [String], nodeArgs and taskArgs [{name: value}], maxAttempts [Int], "
            "resourceIndexes [Int] (into resources), and resources [{clusterName, resources, "
            "resourceScales, fallbackQueues}]. Only the workflow's owner (or an admin) may."
        )
    )
    @capture_errors
    async def bind_tasks(self, info: Info, workflow_id: int, tasks: JSON) -> BindTasksResult:
        identity = info.context.get("identity")

        batch = batches.task_batch(tasks)

        def bind(session: Any) -> list[int]:
            authorize.check_owner(session, workflow_id, identity, "bind tasks into it")
            return binding.bind_tasks(session, workflow_id, batch)

        return t.BoundTasks(task_ids=await services(info).write(bind))

    @strawberry.mutation(
        description=(
            "Edges as pairs: upstreamTaskIds[i] -> downstreamTaskIds[i] (each a JSON list of "
            "task ids). Only the workflow's owner (or an admin) may."
        )
    )
    @capture_errors
    async def bind_edges(
        self,
        info: Info,
        workflow_id: int,
        upstream_task_ids: JSON,
        downstream_task_ids: JSON,
    ) -> BindEdgesResult:
        identity = info.context.get("identity")

        upstream = batches.id_list(upstream_task_ids, "upstreamTaskIds")
        downstream = batches.id_list(downstream_task_ids, "downstreamTaskIds")

        def bind(session: Any) -> int:
            authorize.check_owner(session, workflow_id, identity, "bind edges into it")
            return binding.bind_edges(session, workflow_id, upstream, downstream)

        return t.BoundEdges(count=await services(info).write(bind))

    @strawberry.mutation(
        description=(
            "Check the server holds every task and mark the workflow bound. Only the "
            "workflow's owner (or an admin) may."
        )
    )
    @capture_errors
    async def complete_bind(
        self, info: Info, workflow_id: int, total_tasks: int, bind_digest: str | None = None
    ) -> WorkflowResult:
        identity = info.context.get("identity")

        def complete(session: Any) -> Any:
            authorize.check_owner(session, workflow_id, identity, "complete its bind")
            return binding.complete_bind(session, workflow_id, total_tasks, bind_digest)

        return await workflow_row(info, complete)

    @strawberry.mutation(
        description=(
            "Change how many tasks may run at once; applies at once. With `user`, only the "
            "workflow's owner may."
        )
    )
    @capture_errors
    async def set_max_concurrently_running(
        self, info: Info, workflow_id: int, limit: int, user: str | None = None
    ) -> WorkflowResult:
        if user is None and info.context.get("identity") is None:
            work = workflow_row(info, binding.set_max_concurrently_running, workflow_id, limit)
        else:
            who = actor(info, user)
            work = workflow_row(info, steering.set_workflow_concurrency, workflow_id, limit, who)
        return await work

    @strawberry.mutation(
        description=(
            "Limit how many tasks of one template run at once in a workflow (null: only the "
            "workflow's limit applies); applies at once. Only the owner may."
        )
    )
    @capture_errors
    async def set_template_concurrency(
        self,
        info: Info,
        workflow_id: int,
        template_name: str,
        user: str,
        limit: int | None = None,
    ) -> WorkflowTemplateResult:
        who = actor(info, user)

        def change_and_read(session: Any) -> Any:
            array = steering.set_template_concurrency(
                session, workflow_id, template_name, limit, who
            )
            return next(
                r for r in usage.workflow_templates(session, workflow_id) if r.array_id == array.id
            )

        return t.WorkflowTemplate.from_row(await services(info).write(change_and_read))

    @strawberry.mutation(
        description=(
            "Add metadata to a workflow: name to string or null, merged into what it has. "
            "Only the owner may."
        )
    )
    @capture_errors
    async def add_workflow_attributes(
        self, info: Info, workflow_id: int, attributes: JSON, user: str | None = None
    ) -> WorkflowResult:
        who = actor(info, user)
        return await workflow_row(
            info, attributes_of.add_workflow_attributes, workflow_id, attributes, who
        )

    @strawberry.mutation(
        description=(
            "Add metadata to a task: name to string or null, merged into what it has. Only "
            "its workflow's owner may."
        )
    )
    @capture_errors
    async def add_task_attributes(
        self, info: Info, task_id: int, attributes: JSON, user: str | None = None
    ) -> TaskAttributesResult:
        who = actor(info, user)

        def change_and_read(session: Any) -> Any:
            attributes_of.add_task_attributes(session, task_id, attributes, who)
            return reads.task(session, task_id)

        return t.Task.from_row(await services(info).write(change_and_read))

    @strawberry.mutation(
        description=(
            "Stop the workflow's running run: what is queued or running is cancelled and the "
            "workflow becomes HALTED. Only the owner may."
        )
    )
    @capture_errors
    async def stop_workflow(self, info: Info, workflow_id: int, user: str) -> WorkflowRunResult:
        run = await services(info).write(steering.stop_workflow, workflow_id, actor(info, user))
        return t.WorkflowRun.from_row(run)

    @strawberry.mutation(
        description=(
            "Put a workflow that is not running back to REGISTERING with all its tasks, so that "
            "run() starts it afresh. Only the owner may."
        )
    )
    @capture_errors
    async def reset_workflow(self, info: Info, workflow_id: int, user: str) -> WorkflowResult:
        return await workflow_row(info, steering.reset_workflow, workflow_id, actor(info, user))

    @strawberry.mutation(
        description=(
            "Mark tasks DONE (recursive: their upstream tasks too) or REGISTERING to rerun them "
            "(recursive: their downstream tasks too) in a workflow that is not running. Only "
            "the owner may."
        )
    )
    @capture_errors
    async def update_task_statuses(
        self,
        info: Info,
        workflow_id: int,
        task_ids: list[int],
        status: t.TaskStatus,
        user: str,
        recursive: bool = False,
    ) -> UpdateTasksResult:
        ids = await services(info).write(
            steering.update_task_statuses,
            workflow_id,
            list(task_ids),
            status.value,
            recursive,
            actor(info, user),
        )
        return t.UpdatedTasks(task_ids=ids)

    @strawberry.mutation(
        description=(
            "Start a run. A workflow that ran before needs resume=true, which reruns what is not "
            "DONE: resetRunningJobs=true (cold) kills what still runs, false (hot) adopts it. "
            "Only the workflow's owner (or an admin) may; without tokens, `user` names the "
            "owner for a resume."
        )
    )
    @capture_errors
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

        run = await services(info).write(
            runs.start_run,
            workflow_id,
            who.user,
            resume=resume,
            reset_running_jobs=reset_running_jobs,
            fail_fast=fail_fast,
            seconds_until_timeout=seconds_until_timeout,
            admin=who.admin,
            owner_only=info.context.get("identity") is not None,
            client_key=client_key,
            dynamic_resources=dynamic_resources,
        )
        return t.WorkflowRun.from_row(run)

    @strawberry.mutation(
        description=(
            "Give tasks waiting for their dynamic resources (Workflow.tasksAwaitingResources) "
            "their resources, merged over those bound, and queue them. Only the owner may."
        )
    )
    @capture_errors
    async def give_task_resources(
        self,
        info: Info,
        workflow_run_id: int,
        task_ids: list[int],
        resources: list[JSON],
        user: str | None = None,
    ) -> QueuedTasksResult:
        who = actor(info, user)

        queued = await services(info).write(
            dynamic.give_resources,
            workflow_run_id,
            list(task_ids),
            list(resources),
            who,
            utcnow(),
        )
        return t.QueuedTasks(task_ids=queued)

    @strawberry.mutation(
        description="Stop a run: its workflow becomes HALTED and what runs is killed."
    )
    @capture_errors
    async def stop_workflow_run(self, info: Info, workflow_run_id: int) -> WorkflowRunResult:
        identity = info.context.get("identity")

        def stop(session: Any) -> Any:
            if identity is not None:
                run = reads.workflow_run(session, workflow_run_id)
                steering.owned_workflow(session, run.workflow_id, identity)
            return runs.stop(session, workflow_run_id)

        return t.WorkflowRun.from_row(await services(info).write(stop))
