"""The over-time view of a workflow: task counts by status per time bucket, and its runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from jobmon_server import history
from jobmon_server.graphql import types as t
from jobmon_server.graphql.results import capture_errors
from jobmon_server.graphql.types import aware, services


@strawberry.type(description="Tasks in one status at the end of each bucket.")
class StatusSeries:
    status: t.TaskStatus
    counts: list[int]


@strawberry.type(description="When a run started and, once it ended, when it ended.")
class RunSpan:
    id: int
    status: t.WorkflowRunStatus
    start: datetime
    end: datetime | None


@strawberry.type(
    description=(
        "A workflow's task counts by status over its life, in equal time buckets from its "
        "creation to its last change (or now, while it runs)."
    )
)
class WorkflowHistory:
    workflow_id: int
    start: datetime
    end: datetime
    bucket_seconds: float
    times: list[datetime] = strawberry.field(description="The end of each bucket.")
    series: list[StatusSeries]
    runs: list[RunSpan]

    @classmethod
    def from_row(cls, workflow_id: int, h: history.History) -> WorkflowHistory:
        return cls(
            workflow_id=workflow_id,
            start=aware(h.start),
            end=aware(h.end),
            bucket_seconds=h.bucket_seconds,
            times=[aware(x) for x in h.times],
            series=[StatusSeries(status=t.TaskStatus(s.status), counts=s.counts) for s in h.series],
            runs=[
                RunSpan(
                    id=r.id,
                    status=t.WorkflowRunStatus(r.status),
                    start=aware(r.start),
                    end=aware(r.end),
                )
                for r in h.runs
            ],
        )


WorkflowHistoryResult = Annotated[
    WorkflowHistory | t.NotFound | t.ValidationError, strawberry.union("WorkflowHistoryResult")
]


@strawberry.type
class HistoryQuery:
    @strawberry.field(
        description=(
            f"Task counts by status over the workflow's life in `buckets` time buckets "
            f"(at most {history.MAX_BUCKETS}), computed on the server from its events."
        )
    )
    @capture_errors
    async def workflow_history(
        self, info: Info, workflow_id: int, buckets: int = history.DEFAULT_BUCKETS
    ) -> WorkflowHistoryResult:
        found = await services(info).read(history.workflow_history, workflow_id, buckets)
        return WorkflowHistory.from_row(workflow_id, found)
