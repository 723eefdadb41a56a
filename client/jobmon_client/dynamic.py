"""Dynamic resources (Jobmon's ``compute_resources_callable``): a task's function is called
when its upstream tasks are done, and what it returns is given to the server, merged over
the resources the task was bound with; then the task is queued.

``run()`` does this while it follows the run; a detached run, or one resumed without the
script, runs such tasks with the resources they were bound with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jobmon_client.resources import check_resources
from jobmon_client.transport import GraphQLClient, unwrap
from jobmon_client.validation import CallableReturnedInvalidObject, WorkflowDefinitionError

if TYPE_CHECKING:
    from jobmon_client.task import Task

TASKS_AWAITING = """
query TasksAwaitingResources($id: Int!) {
  workflow(id: $id) {
    __typename
    ... on Workflow { tasksAwaitingResources(first: 1000) }
    ... on Error { message }
  }
}
"""

GIVE_TASK_RESOURCES = """
mutation GiveTaskResources(
  $runId: Int!, $taskIds: [Int!]!, $resources: [JSON!]!, $user: String
) {
  giveTaskResources(
    workflowRunId: $runId, taskIds: $taskIds, resources: $resources, user: $user
  ) {
    __typename
    ... on QueuedTasks { taskIds }
    ... on Error { message }
  }
}
"""


def resources_of(task: Task) -> dict[str, Any]:
    """Call the task's function (without arguments, as Jobmon does) and check its answer."""
    function = task.compute_resources_callable
    assert function is not None
    value = function()
    if not isinstance(value, Mapping):
        raise CallableReturnedInvalidObject(
            f"task '{task.name}': compute_resources_callable returned {value!r}; it must return "
            'a dict of compute resources such as {"memory": "4G"}'
        )
    return check_resources(value, f"task '{task.name}' (from its compute_resources_callable)")


def _called(task: Task) -> dict[str, Any]:
    try:
        return resources_of(task)
    except WorkflowDefinitionError:
        raise
    except Exception as exc:  # the user's function failed: name the task, keep the cause
        raise WorkflowDefinitionError(
            f"task '{task.name}': its compute_resources_callable raised "
            f"{type(exc).__name__}: {exc}; the run is stopped, fix the function and resume"
        ) from exc


class ResourceGiver:
    """Gives the run's waiting dynamic tasks their resources; called on each update."""

    def __init__(
        self, client: GraphQLClient, workflow_id: int, user: str, tasks: dict[int, Task]
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.user = user
        self.tasks = tasks  # by task id: the bound tasks that have a function

    def __call__(self, workflow_run_id: int) -> int:
        """Give what is waiting; answer how many tasks were given resources."""
        payload = unwrap(self.client.execute(TASKS_AWAITING, {"id": self.workflow_id}), "workflow")
        waiting = [int(i) for i in payload["tasksAwaitingResources"] if int(i) in self.tasks]
        if not waiting:
            return 0
        given = [_called(self.tasks[task_id]) for task_id in waiting]
        unwrap(
            self.client.execute(
                GIVE_TASK_RESOURCES,
                {
                    "runId": workflow_run_id,
                    "taskIds": waiting,
                    "resources": given,
                    "user": self.user,
                },
            ),
            "giveTaskResources",
        )
        return len(waiting)


Callback = Callable[[int], Any]
