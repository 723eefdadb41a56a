// The GraphQL documents the dashboard sends, in one place. A live page refreshes with one
// request (WORKFLOW_LIVE), not one per section.

const COUNTS = "taskCounts { status count }";
const ERROR = "... on Error { message }";
const HISTORY_FIELDS = `
    __typename
    ... on WorkflowHistory {
      start end bucketSeconds times series { status counts } runs { id status start end }
    }
    ${ERROR}`;

export const WORKFLOWS = `
query Workflows(
  $users: [String!], $statuses: [WorkflowStatus!], $name: String, $tools: [String!],
  $createdAfter: DateTime, $createdBefore: DateTime, $first: Int!, $after: String
) {
  lastEventCursor
  workflows(
    users: $users, statuses: $statuses, nameContains: $name, tools: $tools,
    createdAfter: $createdAfter, createdBefore: $createdBefore, first: $first, after: $after
  ) {
    items {
      id name user toolName status totalTasks created ${COUNTS}
      latestRun { id status created waitingFor }
    }
    endCursor hasNextPage
  }
}`;

export const WORKFLOW_LIVE = `
query WorkflowLive(
  $id: Int!, $statuses: [TaskStatus!], $template: String, $name: String, $first: Int!,
  $after: String, $lanes: Int!, $withLanes: Boolean!, $withGraph: Boolean!,
  $withHistory: Boolean!, $withUsage: Boolean!, $withErrors: Boolean!, $buckets: Int!
) {
  lastEventCursor
  history: workflowHistory(workflowId: $id, buckets: $buckets) @include(if: $withHistory) {
    ${HISTORY_FIELDS}
  }
  workflow(id: $id) {
    __typename
    ... on Workflow {
      id name user toolName status description totalTasks created statusDate
      maxConcurrentlyRunning attributes ${COUNTS}
      latestRun { id status waitingFor }
      runs(first: 20) { items { id status user created statusDate waitingFor } }
      templates {
        templateName clusterName maxConcurrentlyRunning ${COUNTS}
        resourceUsage @include(if: $withUsage) {
          numInstances memoryBytes { median max } runtimeSeconds { median max }
        }
        requested @include(if: $withUsage) {
          memoryBytes { min max } runtimeSeconds { min max }
        }
      }
      errorGroups(first: 20) @include(if: $withErrors) {
        signature pattern example count taskCount fatalTaskCount recoveredTaskCount
        latestRunId exampleTaskIds latest
      }
      tasks(
        statuses: $statuses, templateName: $template, nameContains: $name, first: $first,
        after: $after
      ) {
        items { id name templateName status numAttempts maxAttempts latestExitCode statusDate }
        endCursor hasNextPage
      }
      lanes: taskInstances(first: $lanes, newestFirst: true) @include(if: $withLanes) {
        items { id taskId taskName workflowRunId status started finished } hasNextPage
      }
      graphTasks: tasks(first: 200) @include(if: $withGraph) { items { id status } }
    }
    ${ERROR}
  }
}`;

export const WORKFLOW_SHAPE = `
query WorkflowShape($id: Int!, $withTasks: Boolean!) {
  workflow(id: $id) {
    ... on Workflow {
      templateEdges { upstream downstream count }
      graphTasks: tasks(first: 200) @include(if: $withTasks) { items { id name status } }
      edges(first: 1000) @include(if: $withTasks) { items { upstreamId downstreamId } }
    }
  }
}`;

// On opening a page, the chart is read beside the rest (the longest read of a large one).
export const HISTORY = `
query History($id: Int!, $buckets: Int!) {
  history: workflowHistory(workflowId: $id, buckets: $buckets) { ${HISTORY_FIELDS} }
}`;

export const GROUP_ERRORS = `
query GroupErrors($id: Int!, $signature: String!) {
  workflow(id: $id) {
    ... on Workflow {
      errors(signature: $signature, first: 50) {
        items { id taskId taskName taskInstanceId exitCode time description } hasNextPage
      }
    }
  }
}`;

export const TASK = `
query Task($id: Int!) {
  lastEventCursor
  task(id: $id) {
    __typename
    ... on Task {
      id workflowId name command status templateName nodeArgs taskArgs computeResources clusterName
      numAttempts maxAttempts
      instances(first: 100) {
        items {
          id workflowRunId status exitCode hostname distributorId requestedResources maxRssBytes
          wallclockSeconds started finished errorMessage stdoutPath stderrPath
        }
      }
      upstream(first: 100) { items { id name status } hasNextPage }
      downstream(first: 100) { items { id name status } hasNextPage }
    }
    ${ERROR}
  }
}`;

export const TASK_LOG = `
query TaskLog($id: Int!, $stream: LogStream!, $before: Int, $maxBytes: Int!) {
  taskInstanceLog(taskInstanceId: $id, stream: $stream, before: $before, maxBytes: $maxBytes) {
    __typename
    ... on LogChunk { path text start end size hasEarlier }
    ... on LogUnavailable { message unavailablePath: path }
    ${ERROR}
  }
}`;

// What a page that only refreshes needs: a workflow's (or a task's) events, counted, at
// most a few frames a second however many events there are.
export const ACTIVITY = `
subscription Activity($id: Int!, $task: Int, $after: String) {
  workflowActivity(workflowId: $id, taskId: $task, after: $after) {
    cursor events counts { entity toStatus count }
  }
}`;

export const WORKFLOW_CHANGES = `
subscription Changes($after: String) {
  workflowStatusChanges(after: $after) { cursor workflowId toStatus }
}`;

// Steering, as the CLI does it.
const RUN = `__typename ... on WorkflowRun { id status } ${ERROR}`;
export const STOP_WORKFLOW = `
mutation Stop($id: Int!, $user: String!) { stopWorkflow(workflowId: $id, user: $user) { ${RUN} } }`;
export const RESUME_WORKFLOW = `
mutation Resume($id: Int!, $user: String!, $cold: Boolean!) {
  startWorkflowRun(workflowId: $id, user: $user, resume: true, resetRunningJobs: $cold) { ${RUN} }
}`;
export const SET_CONCURRENCY = `
mutation Limit($id: Int!, $limit: Int!, $user: String!) {
  setMaxConcurrentlyRunning(workflowId: $id, limit: $limit, user: $user) {
    __typename ... on Workflow { id maxConcurrentlyRunning } ${ERROR}
  }
}`;
export const SET_TEMPLATE_CONCURRENCY = `
mutation TemplateLimit($id: Int!, $template: String!, $limit: Int, $user: String!) {
  setTemplateConcurrency(workflowId: $id, templateName: $template, limit: $limit, user: $user) {
    __typename ... on WorkflowTemplate { templateName maxConcurrentlyRunning } ${ERROR}
  }
}`;
export const UPDATE_TASKS = `
mutation UpdateTasks(
  $id: Int!, $taskIds: [Int!]!, $status: TaskStatus!, $recursive: Boolean!, $user: String!
) {
  updateTaskStatuses(
    workflowId: $id, taskIds: $taskIds, status: $status, recursive: $recursive, user: $user
  ) { __typename ... on UpdatedTasks { taskIds } ${ERROR} }
}`;
