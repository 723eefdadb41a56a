"""What binding a workflow answers: the tool and template versions, and what was bound."""

from __future__ import annotations

import strawberry

from jobmon_server.graphql.types.workflows import Workflow


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
class UpdatedTasks:
    task_ids: list[int]


@strawberry.type(description="Tasks given their dynamic resources; those queued.")
class QueuedTasks:
    task_ids: list[int]


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
