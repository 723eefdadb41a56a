"""Workflow and task attributes: metadata stored with them, as Jobmon's ``*_attributes``.

An attribute is a name and a string value. Jobmon also takes a list of names, whose
values are set later; those are stored with no value (null).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobmon_client.transport import GraphQLClient, unwrap
from jobmon_client.validation import WorkflowDefinitionError, check_attributes

__all__ = [
    "add_task_attributes",
    "check_attributes",
    "send_task_attributes",
    "send_workflow_attributes",
]

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
