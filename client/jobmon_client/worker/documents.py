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

SYNC = """
mutation Sync($workerId: String!, $clusterName: String!, $reports: JSON!, $claimLimit: Int!,
              $waitSeconds: Float!) {
  workerSync(workerId: $workerId, clusterName: $clusterName, reports: $reports,
             claimLimit: $claimLimit, waitSeconds: $waitSeconds) {
    accepted
    ignored
    refused { taskInstanceId message }
    killInstanceIds
    instances
    heartbeatIntervalSeconds
    leaseSeconds
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
