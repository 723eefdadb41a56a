"""The status enums, as the schema shows them."""

from __future__ import annotations

import strawberry

from jobmon_server import statuses

# strawberry.enum marks the statuses' own Enum classes (and returns them), so the names
# below are those classes: types to mypy as well as to the schema.
strawberry.enum(statuses.TaskStatus, description="Status of a task.")
strawberry.enum(statuses.TaskInstanceStatus, description="Status of one attempt of a task.")
strawberry.enum(statuses.WorkflowRunStatus, description="Status of one execution of a workflow.")
strawberry.enum(statuses.WorkflowStatus, description="Status of a workflow.")
TaskStatus = statuses.TaskStatus
TaskInstanceStatus = statuses.TaskInstanceStatus
WorkflowRunStatus = statuses.WorkflowRunStatus
WorkflowStatus = statuses.WorkflowStatus
