"""The exceptions of Jobmon's ``jobmon.core.exceptions``, by its names.

A ported script's ``except`` clauses keep working: each name is the class this client
raises in that case, or a subclass of it. Names for situations that cannot arise here
(a distributor process started per run, say) are defined so that imports work; they are
never raised.
"""

from __future__ import annotations

from jobmon_client.transport import (
    JobmonError,
    NotFoundError,
    ServerError,
    ServerUnreachable,
    ValidationFailed,
)
from jobmon_client.validation import (
    CallableReturnedInvalidObject,
    CycleError,
    CyclicGraphError,
    DuplicateNodeArgsError,
    DuplicateTaskError,
    EmptyWorkflowError,
    NodeDependencyNotExistError,
    WorkflowDefinitionError,
)


class WorkflowAlreadyExists(ValidationFailed):
    """``run()`` without ``resume=True`` of a workflow that has run before."""


class WorkflowAlreadyComplete(ValidationFailed):
    """``run()`` of a workflow that is DONE already."""


class WorkflowNotResumable(ValidationFailed):
    """A resume the server refused (the workflow is not yours, say)."""


class InvalidMemoryFormat(WorkflowDefinitionError):
    """Never raised: a bad memory value is a WorkflowDefinitionError naming the task."""


class InvalidMemoryUnit(WorkflowDefinitionError):
    """Never raised: a bad memory unit is a WorkflowDefinitionError naming the task."""


class ConfigError(JobmonError):
    """Never raised: a missing configuration falls back to the local server."""


class InvalidResponse(ServerError):
    """The server answered something the client cannot use."""


class InvalidRequest(ValidationFailed):
    """Never raised: the server's refusals are ValidationFailed with its message."""


class DistributorNotAlive(JobmonError):
    """Never raised: no distributor process is started per run; workers run the tasks."""


class DistributorStartupTimeout(JobmonError):
    """Never raised: no distributor process is started per run."""


class DistributorUnexpected(JobmonError):
    """Never raised: no distributor process is started per run."""


class WorkflowRunStateError(ValidationFailed):
    """Never raised: refused run transitions are ValidationFailed with the server's message."""


class ResumeSet(JobmonError):
    """Never raised: a resume stops the earlier run on the server."""


class InvalidStateTransition(ValidationFailed):
    """Never raised: refused transitions are ValidationFailed."""


class TransitionError(ValidationFailed):
    """Never raised: refused transitions are ValidationFailed."""


class WorkflowTestError(JobmonError):
    """Never raised."""


class DistributorInterruptedError(JobmonError):
    """Never raised."""


class RemoteExitInfoNotAvailable(JobmonError):
    """Never raised: the worker reads exit codes itself."""


__all__ = [
    "CallableReturnedInvalidObject",
    "ConfigError",
    "CycleError",
    "CyclicGraphError",
    "DistributorInterruptedError",
    "DistributorNotAlive",
    "DistributorStartupTimeout",
    "DistributorUnexpected",
    "DuplicateNodeArgsError",
    "DuplicateTaskError",
    "EmptyWorkflowError",
    "InvalidMemoryFormat",
    "InvalidMemoryUnit",
    "InvalidRequest",
    "InvalidResponse",
    "InvalidStateTransition",
    "JobmonError",
    "NodeDependencyNotExistError",
    "NotFoundError",
    "RemoteExitInfoNotAvailable",
    "ResumeSet",
    "ServerUnreachable",
    "TransitionError",
    "WorkflowAlreadyComplete",
    "WorkflowAlreadyExists",
    "WorkflowNotResumable",
    "WorkflowRunStateError",
    "WorkflowTestError",
]
