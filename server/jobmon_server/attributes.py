"""Workflow and task attributes: metadata stored with them (Jobmon's ``*_attributes``).

Attributes are an object of name to string (or null, a name whose value comes later).
Adding attributes merges them into those stored: a name given again takes the new value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.auth import Identity
from jobmon_server.db import models
from jobmon_server.errors import NotFoundError, ValidationFailed

MAX_NAME = 255
MAX_VALUE = 10_000
MAX_COUNT = 1_000


def checked(attributes: Any, owner: str) -> dict[str, str | None] | None:
    """``attributes`` if it is an object of name to string or null, else a clear error."""
    if attributes is None:
        return None
    if not isinstance(attributes, dict):
        raise ValidationFailed(
            f"the attributes of {owner} must be an object of name to string", "attributes"
        )
    if len(attributes) > MAX_COUNT:
        raise ValidationFailed(
            f"{owner} has {len(attributes)} attributes; at most {MAX_COUNT} are stored",
            "attributes",
        )
    for name, value in attributes.items():
        if not name or len(name) > MAX_NAME:
            raise ValidationFailed(
                f"an attribute name of {owner} must be 1 to {MAX_NAME} characters, got {name!r}",
                "attributes",
            )
        if value is not None and (not isinstance(value, str) or len(value) > MAX_VALUE):
            raise ValidationFailed(
                f"attribute '{name}' of {owner} must be a string of at most {MAX_VALUE} "
                f"characters or null, got {str(value)[:40]!r}",
                "attributes",
            )
    return dict(attributes)


def merged(stored: dict[str, Any] | None, added: dict[str, Any] | None) -> dict[str, Any] | None:
    if not added:
        return stored
    return {**(stored or {}), **added}


def add_workflow_attributes(
    session: Session, workflow_id: int, attributes: Any, actor: Identity
) -> models.Workflow:
    from jobmon_server.steering import owned_workflow  # steering imports binding, binding this

    workflow = owned_workflow(session, workflow_id, actor)
    workflow.attributes = merged(
        workflow.attributes, checked(attributes, f"workflow {workflow_id}")
    )
    session.flush()
    return workflow


def add_task_attributes(session: Session, task_id: int, attributes: Any, actor: Identity) -> int:
    """Merge attributes into a task's; answer the task's id."""
    workflow_id = session.scalar(select(models.Task.workflow_id).where(models.Task.id == task_id))
    if workflow_id is None:
        raise NotFoundError(f"task {task_id} does not exist")
    from jobmon_server.steering import owned_workflow

    owned_workflow(session, workflow_id, actor)
    task = session.get(models.Task, task_id)
    assert task is not None
    task.attributes = merged(task.attributes, checked(attributes, f"task {task_id}"))
    session.flush()
    return task_id
