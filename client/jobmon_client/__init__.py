"""Jobmon's Python client: define a workflow of tasks, bind it to the server and run it."""

from jobmon_client.run import WorkflowRunResult
from jobmon_client.task import Task
from jobmon_client.task_template import TaskTemplate
from jobmon_client.tool import Tool
from jobmon_client.transport import (
    ConflictError,
    JobmonError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    ServerUnreachable,
    ValidationFailed,
)
from jobmon_client.validation import (
    CycleError,
    DuplicateTaskError,
    InvalidNameError,
    MissingUpstreamError,
    TemplateArgumentError,
    WorkflowDefinitionError,
)
from jobmon_client.workflow import Workflow

__all__ = [
    "ConflictError",
    "CycleError",
    "DuplicateTaskError",
    "InvalidNameError",
    "JobmonError",
    "MissingUpstreamError",
    "NotFoundError",
    "PermissionDeniedError",
    "ServerError",
    "ServerUnreachable",
    "Task",
    "TaskTemplate",
    "TemplateArgumentError",
    "Tool",
    "ValidationFailed",
    "Workflow",
    "WorkflowDefinitionError",
    "WorkflowRunResult",
]
