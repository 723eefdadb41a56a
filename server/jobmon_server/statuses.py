"""Statuses of the four state machines, named as in Jobmon.

The values are stored in the database and exposed as GraphQL enums.
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    REGISTERING = "REGISTERING"
    QUEUED = "QUEUED"
    INSTANTIATING = "INSTANTIATING"
    LAUNCHED = "LAUNCHED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR_RECOVERABLE = "ERROR_RECOVERABLE"
    ADJUSTING_RESOURCES = "ADJUSTING_RESOURCES"
    ERROR_FATAL = "ERROR_FATAL"


class TaskInstanceStatus(StrEnum):
    QUEUED = "QUEUED"
    INSTANTIATED = "INSTANTIATED"
    LAUNCHED = "LAUNCHED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    RESOURCE_ERROR = "RESOURCE_ERROR"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"
    NO_HEARTBEAT = "NO_HEARTBEAT"
    NO_DISTRIBUTOR_ID = "NO_DISTRIBUTOR_ID"
    KILL_SELF = "KILL_SELF"
    ERROR_FATAL = "ERROR_FATAL"


class WorkflowRunStatus(StrEnum):
    REGISTERED = "REGISTERED"
    LINKING = "LINKING"
    BOUND = "BOUND"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    STOPPED = "STOPPED"
    COLD_RESUME = "COLD_RESUME"
    HOT_RESUME = "HOT_RESUME"
    TERMINATED = "TERMINATED"
    ABORTED = "ABORTED"


class WorkflowStatus(StrEnum):
    REGISTERING = "REGISTERING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    HALTED = "HALTED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


T = TaskStatus
TI = TaskInstanceStatus
WR = WorkflowRunStatus
W = WorkflowStatus

# Tasks that hold a slot under a concurrency limit.
TASK_ACTIVE = frozenset({T.INSTANTIATING, T.LAUNCHED, T.RUNNING})
# Tasks that may still make progress in the current run.
TASK_IN_FLIGHT = TASK_ACTIVE | {T.QUEUED, T.ERROR_RECOVERABLE, T.ADJUSTING_RESOURCES}

# Instances a worker holds (claimed and not finished).
INSTANCE_HELD = frozenset({TI.INSTANTIATED, TI.LAUNCHED, TI.RUNNING})
INSTANCE_LIVE = INSTANCE_HELD | {TI.QUEUED}
INSTANCE_FAILED = frozenset(
    {TI.ERROR, TI.RESOURCE_ERROR, TI.UNKNOWN_ERROR, TI.NO_HEARTBEAT, TI.NO_DISTRIBUTOR_ID}
)

RUN_TERMINAL = frozenset({WR.DONE, WR.ERROR, WR.STOPPED, WR.TERMINATED, WR.ABORTED})
