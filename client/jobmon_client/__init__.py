"""Jobmon's Python client: define a workflow of tasks, bind it to the server and run it.

Names are imported when first used, so that a program that needs one small part (the
Slurm runner inside every job, say) does not load the GraphQL stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobmon_client import task_generator
    from jobmon_client.attributes import add_task_attributes
    from jobmon_client.exceptions import (
        WorkflowAlreadyComplete,
        WorkflowAlreadyExists,
        WorkflowNotResumable,
    )
    from jobmon_client.logs import configure_client_logging
    from jobmon_client.run import WorkflowRunResult
    from jobmon_client.statuses import (
        StatusCode,
        TaskInstanceStatus,
        TaskStatus,
        WorkflowRunStatus,
        WorkflowStatus,
    )
    from jobmon_client.task import Task
    from jobmon_client.task_generator import TaskGenerator
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
        DuplicateNodeArgsError,
        DuplicateTaskError,
        EmptyWorkflowError,
        InvalidNameError,
        MissingDownstreamError,
        MissingUpstreamError,
        NodeDependencyNotExistError,
        TemplateArgumentError,
        WorkflowDefinitionError,
    )
    from jobmon_client.workflow import Workflow

_WHERE = {
    "WorkflowRunResult": "run",
    **dict.fromkeys(
        ["TaskStatus", "TaskInstanceStatus", "WorkflowRunStatus", "WorkflowStatus", "StatusCode"],
        "statuses",
    ),
    "add_task_attributes": "attributes",
    "configure_client_logging": "logs",
    **dict.fromkeys(
        [
            "WorkflowAlreadyExists",
            "WorkflowAlreadyComplete",
            "WorkflowNotResumable",
        ],
        "exceptions",
    ),
    "Task": "task",
    "TaskGenerator": "task_generator",
    "TaskTemplate": "task_template",
    "Tool": "tool",
    "Workflow": "workflow",
    **dict.fromkeys(
        [
            "ConflictError",
            "JobmonError",
            "NotFoundError",
            "PermissionDeniedError",
            "ServerError",
            "ServerUnreachable",
            "ValidationFailed",
        ],
        "transport",
    ),
    **dict.fromkeys(
        [
            "CycleError",
            "DuplicateNodeArgsError",
            "DuplicateTaskError",
            "EmptyWorkflowError",
            "InvalidNameError",
            "MissingDownstreamError",
            "MissingUpstreamError",
            "NodeDependencyNotExistError",
            "TemplateArgumentError",
            "WorkflowDefinitionError",
        ],
        "validation",
    ),
}


def __getattr__(name: str) -> Any:
    if name == "task_generator":
        # The submodule itself: it is callable as the decorator.
        return importlib.import_module("jobmon_client.task_generator")
    if name not in _WHERE:
        raise AttributeError(f"module 'jobmon_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"jobmon_client.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ConflictError",
    "CycleError",
    "DuplicateNodeArgsError",
    "DuplicateTaskError",
    "EmptyWorkflowError",
    "InvalidNameError",
    "JobmonError",
    "MissingDownstreamError",
    "MissingUpstreamError",
    "NodeDependencyNotExistError",
    "NotFoundError",
    "PermissionDeniedError",
    "ServerError",
    "ServerUnreachable",
    "StatusCode",
    "Task",
    "TaskGenerator",
    "TaskInstanceStatus",
    "TaskStatus",
    "TaskTemplate",
    "TemplateArgumentError",
    "Tool",
    "ValidationFailed",
    "Workflow",
    "WorkflowAlreadyComplete",
    "WorkflowAlreadyExists",
    "WorkflowDefinitionError",
    "WorkflowNotResumable",
    "WorkflowRunResult",
    "task_generator",
    "WorkflowRunStatus",
    "WorkflowStatus",
    "add_task_attributes",
    "configure_client_logging",
]
