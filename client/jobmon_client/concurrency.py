"""Concurrency limits of a bound workflow and of its templates, applied on the server."""

from __future__ import annotations

from collections.abc import Mapping

from jobmon_client.transport import GraphQLClient, unwrap
from jobmon_client.validation import WorkflowDefinitionError

SET_TEMPLATE_CONCURRENCY = """
mutation TemplateLimit($id: Int!, $template: String!, $limit: Int, $user: String!) {
  setTemplateConcurrency(
    workflowId: $id, templateName: $template, limit: $limit, user: $user
  ) {
    __typename
    ... on WorkflowTemplate { templateName maxConcurrentlyRunning }
    ... on Error { message }
  }
}
"""

SET_MAX_CONCURRENTLY_RUNNING = """
mutation SetMaxConcurrentlyRunning($workflowId: Int!, $limit: Int!) {
  setMaxConcurrentlyRunning(workflowId: $workflowId, limit: $limit) {
    __typename
    ... on Workflow { maxConcurrentlyRunning }
    ... on Error { message }
  }
}
"""


def set_workflow_limit(client: GraphQLClient, workflow_id: int, limit: int) -> None:
    variables = {"workflowId": workflow_id, "limit": limit}
    unwrap(client.execute(SET_MAX_CONCURRENTLY_RUNNING, variables), "setMaxConcurrentlyRunning")


def set_template_limits(
    client: GraphQLClient, workflow_id: int, user: str, limits: Mapping[str, int]
) -> None:
    for template_name, limit in limits.items():
        variables = {"id": workflow_id, "template": template_name, "limit": limit, "user": user}
        unwrap(client.execute(SET_TEMPLATE_CONCURRENCY, variables), "setTemplateConcurrency")


def check_limit(limit: object) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise WorkflowDefinitionError(
            f"max_concurrently_running must be a positive int, got {limit!r}"
        )
    return limit
