"""The GraphQL documents of the worker protocol, and the client surface the worker needs."""

from __future__ import annotations

from typing import Any, Protocol


class Client(Protocol):
    """What the worker needs of a GraphQL client (``transport.GraphQLClient`` fits)."""

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


ANNOUNCE = """
mutation Announce($workerId: String!, $clusterName: String!, $hostname: String!,
                  $version: String!) {
  announceWorker(workerId: $workerId, clusterName: $clusterName, hostname: $hostname,
                 version: $version) {
    __typename
    ... on Worker { id }
    ... on Error { message }
  }
}
"""

STOPPED = """
mutation Stopped($workerId: String!) { workerStopped(workerId: $workerId) }
"""

REGISTER = """
mutation Register($name: String!, $distributor: String!, $queues: [QueueInput!]!) {
  registerCluster(name: $name, distributor: $distributor, queues: $queues) {
    __typename
    ... on Cluster {
      name distributor queues { name default maxCores maxMemoryMb maxRuntimeSeconds }
    }
    ... on Error { message }
  }
}
"""

CLUSTER_KIND = """
query Clusters { clusters { name distributor } }
"""

ADOPT = """
mutation Adopt($clusterName: String!, $workerId: String!, $fromWorkerIds: [String!]) {
  adoptTaskInstances(clusterName: $clusterName, workerId: $workerId,
                     fromWorkerIds: $fromWorkerIds) {
    id taskId workflowId status distributorId hostname
  }
}
"""

CLAIM = """
mutation Claim($clusterName: String!, $workerId: String!, $limit: Int!, $waitSeconds: Float!) {
  claimTaskInstances(clusterName: $clusterName, workerId: $workerId, limit: $limit,
                     waitSeconds: $waitSeconds) {
    instances {
      id taskId workflowId workflowRunId arrayId name command clusterName resources
      concurrencyLimit
    }
    killInstanceIds
    heartbeatIntervalSeconds
    leaseSeconds
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
