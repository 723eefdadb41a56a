"""The GraphQL documents the worker sends, and the client surface it needs."""

from __future__ import annotations

from typing import Any, Protocol


class Client(Protocol):
    """What the worker needs of a GraphQL client (``transport.GraphQLClient`` fits)."""

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


CLAIM = """
mutation Claim($clusterName: String!, $workerId: String!, $limit: Int!, $waitSeconds: Float!) {
  claimTaskInstances(clusterName: $clusterName, workerId: $workerId, limit: $limit,
                     waitSeconds: $waitSeconds) {
    instances { id taskId workflowId workflowRunId name command clusterName resources }
    killInstanceIds
    heartbeatIntervalSeconds
  }
}
"""

REPORT = """
mutation Report($workerId: String!, $reports: [InstanceReport!]!) {
  reportTaskInstances(workerId: $workerId, reports: $reports) {
    accepted
    ignored
    refused { taskInstanceId message }
    killInstanceIds
  }
}
"""

HEARTBEAT = """
mutation Heartbeat($workerId: String!, $taskInstanceIds: [Int!]!, $nextReportSeconds: Float!) {
  heartbeat(workerId: $workerId, taskInstanceIds: $taskInstanceIds,
            nextReportSeconds: $nextReportSeconds) {
    killInstanceIds
  }
}
"""
