"""Subscriptions (graphql-transport-ws on /graphql): event streams, alerts, run updates.

Each stream takes ``after``, the cursor of the last event a client saw: it replays what
came after it, then follows live events, so a client that reconnects with its last cursor
misses nothing and sees nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from jobmon_server import activity, alerts, events, reads
from jobmon_server.db import models
from jobmon_server.graphql import types as t
from jobmon_server.graphql.types import aware, services
from jobmon_server.statuses import RUN_TERMINAL

strawberry.enum(alerts.AlertKind, description="What an alert is about.")  # marks the class
AlertKind = alerts.AlertKind
RUN_UPDATE_SECONDS = 0.2  # at most about five run updates a second


@strawberry.type(description="One status change. Pass its cursor as `after` to resume.")
class Event:
    cursor: str
    workflow_id: int
    user: str = strawberry.field(description="The workflow's owner.")
    entity: str = strawberry.field(description="workflow, workflow_run, task or task_instance")
    entity_id: int
    from_status: str | None
    to_status: str
    note: str | None
    time: datetime

    @classmethod
    def from_row(cls, row: events.EventRow) -> Event:
        return cls(
            cursor=str(row.id),
            workflow_id=row.workflow_id,
            user=row.user,
            entity=row.entity,
            entity_id=row.entity_id,
            from_status=row.from_status,
            to_status=row.to_status,
            note=row.note,
            time=aware(row.time),  # type: ignore[arg-type]
        )


@strawberry.type(description="How many events of one kind a frame of activity covers.")
class ActivityCount:
    entity: str = strawberry.field(description="workflow, workflow_run, task or task_instance")
    to_status: str
    count: int


@strawberry.type(
    description=(
        "Events of a workflow since the previous frame, counted. Pass its cursor as `after` "
        "to resume."
    )
)
class WorkflowActivity:
    cursor: str = strawberry.field(description="The last event this frame covers.")
    events: int = strawberry.field(description="How many events this frame covers.")
    counts: list[ActivityCount] = strawberry.field(
        description="The events it covers by entity and new status."
    )

    @classmethod
    def from_activity(cls, found: activity.Activity) -> WorkflowActivity:
        return cls(
            cursor=str(found.cursor),
            events=found.events,
            counts=[
                ActivityCount(entity=entity, to_status=status, count=n)
                for (entity, status), n in sorted(found.counts.items())
            ],
        )


@strawberry.type(description="An event worth a person's attention.")
class Alert:
    cursor: str
    kind: AlertKind
    workflow_id: int
    user: str
    entity: str
    entity_id: int
    message: str
    time: datetime
    task_id: int | None = strawberry.field(
        default=None, description="The task it is about (alerts about a task or attempt)."
    )
    task_name: str | None = None
    exit_code: int | None = strawberry.field(
        default=None, description="The exit code of the attempt that failed."
    )
    error_line: str | None = strawberry.field(
        default=None, description="The last line of that attempt's error (its stderr's tail)."
    )


def _cursor(after: str | None) -> int:
    return reads.parse_cursor(after)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Status changes of a workflow, its runs, tasks and attempts."
    )
    async def workflow_events(
        self, info: Info, workflow_id: int, after: str | None = None
    ) -> AsyncGenerator[Event, None]:
        svc = services(info)
        await svc.read(reads.workflow, workflow_id)  # NotFound before streaming
        stream = events.stream(
            svc.hub,  # type: ignore[arg-type]
            svc.read,
            lambda row: row.workflow_id == workflow_id,
            models.Event.workflow_id == workflow_id,
            _cursor(after),
        )
        async for row in stream:
            yield Event.from_row(row)

    @strawberry.subscription(
        description=(
            "A workflow's events, coalesced: at most one frame about every 0.3 s while "
            "events come, none while nothing happens, each counting the events it covers. "
            "With a task, only that task's events and its attempts'."
        )
    )
    async def workflow_activity(
        self,
        info: Info,
        workflow_id: int,
        task_id: int | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[WorkflowActivity, None]:
        svc = services(info)
        await svc.read(reads.workflow, workflow_id)  # NotFound before streaming
        if task_id is not None:
            await svc.read(activity.check_task, workflow_id, task_id)
        frames = activity.activity(
            svc.hub,  # type: ignore[arg-type]
            svc.read,
            workflow_id,
            _cursor(after),
            task_id,
        )
        async for found in frames:
            yield WorkflowActivity.from_activity(found)

    @strawberry.subscription(description="Status changes of workflows: of some users, or all.")
    async def workflow_status_changes(
        self, info: Info, users: list[str] | None = None, after: str | None = None
    ) -> AsyncGenerator[Event, None]:
        svc = services(info)
        wanted = set(users or [])
        condition = models.Event.entity == "workflow"
        if wanted:
            condition = condition & models.Workflow.user.in_(wanted)
        stream = events.stream(
            svc.hub,  # type: ignore[arg-type]
            svc.read,
            lambda row: row.entity == "workflow" and (not wanted or row.user in wanted),
            condition,
            _cursor(after),
        )
        async for row in stream:
            yield Event.from_row(row)

    @strawberry.subscription(
        description=(
            "Alerts: a task failed for good, a workflow FAILED or is DONE, a task was retried "
            "for resources, a heartbeat was lost. Filtered by owner, workflow and kind."
        )
    )
    async def alerts(
        self,
        info: Info,
        users: list[str] | None = None,
        workflow_ids: list[int] | None = None,
        kinds: list[AlertKind] | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[Alert, None]:
        svc = services(info)
        who, which = set(users or []), set(workflow_ids or [])
        for workflow_id in sorted(which):  # NotFound before streaming, as workflowEvents
            await svc.read(reads.workflow, workflow_id)
        what = {alerts.AlertKind(k.value) for k in kinds or []}
        stream = events.stream(
            svc.hub,  # type: ignore[arg-type]
            svc.read,
            alerts.matcher(who, which, what),
            alerts.condition(who, which, what),
            _cursor(after),
        )
        async for row in stream:
            kind = alerts.kind_of(row)
            assert kind is not None
            detail = await svc.read(alerts.task_detail, row, kind)
            yield Alert(
                cursor=str(row.id),
                kind=AlertKind(kind.value),
                workflow_id=row.workflow_id,
                user=row.user,
                entity=row.entity,
                entity_id=row.entity_id,
                message=alerts.message(row, kind, detail),
                time=aware(row.time),  # type: ignore[arg-type]
                task_id=detail.task_id,
                task_name=detail.task_name,
                exit_code=detail.exit_code,
                error_line=detail.error_line,
            )

    @strawberry.subscription(
        description=(
            "A workflow run and its workflow's task counts now, then again whenever they "
            "change (at most about five times a second), until the run ends."
        )
    )
    async def workflow_run_updates(
        self, info: Info, workflow_run_id: int
    ) -> AsyncGenerator[t.WorkflowRun, None]:
        svc = services(info)
        hub = svc.hub
        assert hub is not None
        run = await svc.read(reads.workflow_run, workflow_run_id)
        subscriber = hub.subscribe(lambda row: row.workflow_id == run.workflow_id)
        try:
            while True:
                run = await svc.read(reads.workflow_run, workflow_run_id)
                yield t.WorkflowRun.from_row(run)
                if run.status in RUN_TERMINAL:
                    return
                row = await subscriber.queue.get()
                if row is None:  # fell behind: just read the current state again
                    subscriber = _resubscribe(hub, subscriber, run)
                await asyncio.sleep(RUN_UPDATE_SECONDS)
                _drain(subscriber)
        finally:
            hub.unsubscribe(subscriber)


def _drain(subscriber: events.Subscriber) -> None:
    while not subscriber.queue.empty():
        subscriber.queue.get_nowait()


def _resubscribe(hub: events.EventHub, old: events.Subscriber, run: Any) -> events.Subscriber:
    hub.unsubscribe(old)
    return hub.subscribe(lambda row: row.workflow_id == run.workflow_id)
