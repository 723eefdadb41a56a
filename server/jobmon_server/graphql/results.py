"""What fields answer: the result unions, and the domain's expected failures as their
error members."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ParamSpec, TypeVar

import strawberry
from strawberry.types import Info

from jobmon_server.auth import Identity
from jobmon_server.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from jobmon_server.graphql import types as t
from jobmon_server.graphql.types import services
from jobmon_server.transitions import IllegalTransition

R = TypeVar("R")
P = ParamSpec("P")

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
    t.BoundWorkflow | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("BindWorkflowResult"),
]
ClusterResult = Annotated[
    t.Cluster | t.ValidationError | t.Conflict | t.PermissionDenied,
    strawberry.union("ClusterResult"),
]
BindTasksResult = Annotated[
    t.BoundTasks | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("BindTasksResult"),
]
WorkerResult = Annotated[
    t.Worker | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("WorkerResult"),
]
BindEdgesResult = Annotated[
    t.BoundEdges | t.NotFound | t.ValidationError | t.PermissionDenied,
    strawberry.union("BindEdgesResult"),
]


def capture_errors(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A resolver that raises the domain's expected failures answers them as its result
    union's error members instead (see ``expected``)."""

    @functools.wraps(resolver)
    async def answering(*args: P.args, **kwargs: P.kwargs) -> R:
        return await expected(resolver(*args, **kwargs))  # type: ignore[no-any-return]

    return answering


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


async def workflow_row(info: Info, fn: Any, *args: Any) -> t.Workflow:
    return t.Workflow.from_row(await services(info).write(fn, *args))
