"""GraphQL object types, enums and error types, one module per concept.

Types are thin: built from database rows by ``from_row``; anything that needs a query
lives in a plain function the resolver calls. Every type is named here, so resolvers
write ``t.Workflow`` whichever module defines it.
"""

from jobmon_server.graphql.types.binding import (
    BoundEdges,
    BoundTasks,
    BoundWorkflow,
    QueuedTasks,
    TaskTemplateVersion,
    TaskTemplateVersionList,
    ToolVersion,
    UpdatedTasks,
)
from jobmon_server.graphql.types.enums import (
    TaskInstanceStatus,
    TaskStatus,
    WorkflowRunStatus,
    WorkflowStatus,
)
from jobmon_server.graphql.types.errors import (
    Conflict,
    Error,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from jobmon_server.graphql.types.helpers import aware, loaders, services
from jobmon_server.graphql.types.pages import Page, page_size
from jobmon_server.graphql.types.resources import RequestedResources, ResourceUsage, UsageStats
from jobmon_server.graphql.types.tasks import (
    EdgePage,
    Task,
    TaskEdge,
    TaskInstance,
    TaskInstanceError,
    TaskNode,
    TemplateEdge,
)
from jobmon_server.graphql.types.workers import (
    AdoptedInstance,
    ClaimedInstance,
    ClaimResult,
    Cluster,
    HeartbeatResult,
    Queue,
    RefusedReport,
    ReportResult,
    Worker,
    WorkerSyncResult,
)
from jobmon_server.graphql.types.workflows import (
    ErrorGroup,
    StatusCount,
    Workflow,
    WorkflowRun,
    WorkflowTemplate,
)

__all__ = [
    "AdoptedInstance",
    "BoundEdges",
    "BoundTasks",
    "BoundWorkflow",
    "ClaimResult",
    "ClaimedInstance",
    "Cluster",
    "Conflict",
    "EdgePage",
    "Error",
    "ErrorGroup",
    "HeartbeatResult",
    "NotFound",
    "Page",
    "PermissionDenied",
    "Queue",
    "QueuedTasks",
    "RefusedReport",
    "ReportResult",
    "RequestedResources",
    "ResourceUsage",
    "StatusCount",
    "Task",
    "TaskEdge",
    "TaskInstance",
    "TaskInstanceError",
    "TaskInstanceStatus",
    "TaskNode",
    "TaskStatus",
    "TaskTemplateVersion",
    "TaskTemplateVersionList",
    "TemplateEdge",
    "ToolVersion",
    "UpdatedTasks",
    "UsageStats",
    "ValidationError",
    "Worker",
    "WorkerSyncResult",
    "Workflow",
    "WorkflowRun",
    "WorkflowRunStatus",
    "WorkflowStatus",
    "WorkflowTemplate",
    "aware",
    "loaders",
    "page_size",
    "services",
]
