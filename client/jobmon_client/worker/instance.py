"""A task instance as the worker received it from ``claimTaskInstances``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jobmon_client.worker.limits import slots_needed


@dataclass(slots=True)
class ClaimedInstance:
    """One claimed attempt of a task, with the slots it takes on this worker."""

    id: int
    task_id: int
    workflow_id: int
    workflow_run_id: int
    name: str
    command: str
    resources: dict[str, Any]
    slots: int

    @classmethod
    def from_wire(cls, item: dict[str, Any], parallelism: int) -> ClaimedInstance:
        """Build from a ``ClaimedInstance`` GraphQL object."""
        resources = item.get("resources") or {}
        if isinstance(resources, str):
            resources = json.loads(resources)
        return cls(
            id=int(item["id"]),
            task_id=int(item["taskId"]),
            workflow_id=int(item["workflowId"]),
            workflow_run_id=int(item["workflowRunId"]),
            name=str(item["name"]),
            command=str(item["command"]),
            resources=resources,
            slots=slots_needed(resources, parallelism),
        )
