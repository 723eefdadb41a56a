"""Workflow and task attributes: metadata stored with them, as Jobmon's ``*_attributes``.

An attribute is a name and a string value. Jobmon also takes a list of names, whose
values are set later; those are stored with no value (null).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobmon_client.transport import GraphQLClient, unwrap
from jobmon_client.validation import WorkflowDefinitionError

MAX_ATTRIBUTE_NAME = 255

ADD_TASK_ATTRIBUTES = """
mutation AddTaskAttributes($taskId: Int!, $attributes: JSON!, $user: String) {
  addTaskAttributes(taskId: $taskId, attributes: $attributes, user: $user) {
    __typename
    ... on Task { id attributes }
    ... on Error { message }
  }
}
"""

ADD_WORKFLOW_ATTRIBUTES = """
mutation AddWorkflowAttributes($workflowId: Int!, $attributes: JSON!, $user: String) {
  addWorkflowAttributes(workflowId: $workflowId, attributes: $attributes, user: $user) {
    __typename
    ... on Workflow { id attributes }
    ... on Error { message }
  }
}
"""


def check_attributes(value: object, what: str) -> dict[str, str | None]:
    """Attributes as stored: names to strings (Jobmon stores ``str(value)``); a list or
    tuple of names gives names without values."""
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        items: list[tuple[object, object]] = [(name, None) for name in value]
    elif isinstance(value, Mapping):
        items = list(value.items())
    else:
        raise WorkflowDefinitionError(
            f"{what} must be a dict of name to value (such as {{'release_id': 3}}) or a list "
            f"of names, got {value!r}"
        )
    out: dict[str, str | None] = {}
    for name, item in items:
        if not isinstance(name, str | int) or isinstance(name, bool) or not str(name):
            raise WorkflowDefinitionError(
                f"{what}: an attribute name must be a non-empty string, got {name!r}"
            )
        key = str(name)
        if len(key) > MAX_ATTRIBUTE_NAME:
            raise WorkflowDefinitionError(
                f"{what}: the attribute name {key[:40]!r}... is longer than "
                f"{MAX_ATTRIBUTE_NAME} characters"
            )
        out[key] = None if item is None else str(item)
    return out


def add_task_attributes(
    attr_dict: Mapping[str, Any],
    task_id: int | None = None,
    server_url: str | None = None,
) -> dict[str, str | None]:
    """Add attributes to a bound task (Jobmon's ``jobmon.client.add_task_attributes``);
    answer all its attributes. Jobmon finds the task of a running job by itself; here give
    ``task_id``."""
    if task_id is None:
        raise WorkflowDefinitionError(
            "add_task_attributes needs the task's id: pass task_id= (task.task_id once its "
            "workflow is bound)"
        )
    attributes = check_attributes(attr_dict, f"task {task_id} attributes")
    with GraphQLClient(server_url) as client:
        return send_task_attributes(client, task_id, attributes)


def send_task_attributes(
    client: GraphQLClient, task_id: int, attributes: dict[str, str | None]
) -> dict[str, str | None]:
    variables = {"taskId": task_id, "attributes": attributes, "user": _user()}
    task = unwrap(client.execute(ADD_TASK_ATTRIBUTES, variables), "addTaskAttributes")
    return dict(task["attributes"] or {})


def send_workflow_attributes(
    client: GraphQLClient, workflow_id: int, attributes: dict[str, str | None]
) -> dict[str, str | None]:
    variables = {"workflowId": workflow_id, "attributes": attributes, "user": _user()}
    workflow = unwrap(client.execute(ADD_WORKFLOW_ATTRIBUTES, variables), "addWorkflowAttributes")
    return dict(workflow["attributes"] or {})


def _user() -> str:
    import getpass

    return getpass.getuser()
