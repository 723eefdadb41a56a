"""The four status vocabularies, with Jobmon's one-letter codes.

Each member's name is the status as the server and the GraphQL schema spell it
(``DONE``); its value is the letter Jobmon's ``jobmon.core.constants`` uses (``"D"``), so
``WorkflowRunStatus.DONE == "D"`` and a ported ``status == WorkflowRunStatus.DONE`` holds.
The client compares statuses it reads from the server by name (``member.name``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class _Status(StrEnum):
    @classmethod
    def from_name(cls, name: str) -> Self:
        """The member the server calls ``name`` (``"DONE"``), or its letter (``"D"``)."""
        if name in cls.__members__:
            return cls[name]
        return cls(name)

    @property
    def label(self) -> str:
        """The full name, as the server spells it."""
        return self.name


class TaskStatus(_Status):
    REGISTERING = "G"
    QUEUED = "Q"
    INSTANTIATING = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    ERROR_RECOVERABLE = "E"
    ADJUSTING_RESOURCES = "A"
    ERROR_FATAL = "F"


class TaskInstanceStatus(_Status):
    QUEUED = "Q"
    INSTANTIATED = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    ERROR = "E"
    RESOURCE_ERROR = "Z"
    UNKNOWN_ERROR = "U"
    NO_HEARTBEAT = "X"
    NO_DISTRIBUTOR_ID = "W"
    KILL_SELF = "K"
    ERROR_FATAL = "F"
    # Jobmon's, never reported here: its distributor's internal steps.
    TRIAGING = "T"
    SUBMITTED_TO_BATCH_DISTRIBUTOR = "B"


class WorkflowRunStatus(_Status):
    REGISTERED = "G"
    LINKING = "L"
    BOUND = "B"
    RUNNING = "R"
    DONE = "D"
    ERROR = "E"
    STOPPED = "S"
    COLD_RESUME = "C"
    HOT_RESUME = "H"
    TERMINATED = "T"
    ABORTED = "A"
    # Jobmon's, never reported here: a run here goes from BOUND to RUNNING.
    INSTANTIATED = "I"
    LAUNCHED = "O"


class WorkflowStatus(_Status):
    REGISTERING = "G"
    QUEUED = "Q"
    RUNNING = "R"
    DONE = "D"
    HALTED = "H"
    FAILED = "F"
    ABORTED = "A"
    # Jobmon's, never reported here.
    INSTANTIATING = "I"
    LAUNCHED = "O"


# Jobmon's mapping of task status letters to names, for scripts that read it
# (also as Jobmon spells it: TaskStatus.LABEL_DICT).
TASK_STATUS_LABELS: dict[str, str] = {s.value: s.name for s in TaskStatus}
TaskStatus.LABEL_DICT = TASK_STATUS_LABELS  # type: ignore[attr-defined]

TERMINAL_RUN_STATUSES = frozenset(
    s.name
    for s in (
        WorkflowRunStatus.DONE,
        WorkflowRunStatus.ERROR,
        WorkflowRunStatus.STOPPED,
        WorkflowRunStatus.TERMINATED,
        WorkflowRunStatus.ABORTED,
    )
)


class StatusCode(str):
    """A status as Jobmon reports it, its letter (``"D"``), that also equals its names.

    ``run()``'s result and ``Task.final_status`` are these: a ported script's
    ``status == "D"`` or ``== WorkflowRunStatus.DONE`` holds, and so does this client's
    ``== "DONE"``. Hashing is by the letter.
    """

    names: frozenset[str]

    def __new__(cls, status: _Status, *also: str) -> Self:
        code = super().__new__(cls, status.value)
        code.names = frozenset((status.name, *also))
        return code

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        return str.__eq__(self, str(other)) or str.__str__(other) in self.names

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__str__(self)!r}: {', '.join(sorted(self.names))})"


def task_status_code(name: str) -> StatusCode:
    """``Task.final_status`` for a task the server reports as ``name``."""
    return StatusCode(TaskStatus.from_name(name))


def run_status_code(run_status: str, workflow_status: str) -> StatusCode:
    """What ``run()`` answers: the run's letter, also equal to the run's and the workflow's
    status names (``"E"`` equals ``"ERROR"`` and ``"FAILED"``)."""
    return StatusCode(WorkflowRunStatus.from_name(run_status), workflow_status)
