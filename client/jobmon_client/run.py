"""Starting a workflow run, following it to its end, and reading what failed."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jobmon_client.progress import run_view
from jobmon_client.statuses import (
    TERMINAL_RUN_STATUSES,
    StatusCode,
    TaskStatus,
    WorkflowRunStatus,
    run_status_code,
)
from jobmon_client.transport import GraphQLClient, ServerUnreachable, ValidationFailed, unwrap

log = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 0.5
ERROR_PAGE_SIZE = 500

_RUN_FIELDS = """
    __typename
    ... on WorkflowRun {
      id status created waitingFor
      workflow { id status totalTasks taskCounts { status count } }
    }
    ... on Error { message }
"""

START_WORKFLOW_RUN = f"""
mutation StartWorkflowRun(
  $workflowId: Int!, $user: String!, $resume: Boolean!, $resetRunningJobs: Boolean!,
  $failFast: Boolean!, $secondsUntilTimeout: Int, $clientKey: String,
  $dynamicResources: Boolean! = false
) {{
  startWorkflowRun(
    workflowId: $workflowId, user: $user, resume: $resume,
    resetRunningJobs: $resetRunningJobs, failFast: $failFast,
    secondsUntilTimeout: $secondsUntilTimeout, clientKey: $clientKey,
    dynamicResources: $dynamicResources
  ) {{ {_RUN_FIELDS} ... on ValidationError {{ field }} }}
}}
"""

WORKFLOW_RUN = f"""
query WorkflowRun($id: Int!) {{
  workflowRun(id: $id) {{ {_RUN_FIELDS} }}
}}
"""

STOP_WORKFLOW_RUN = f"""
mutation StopWorkflowRun($workflowRunId: Int!) {{
  stopWorkflowRun(workflowRunId: $workflowRunId) {{ {_RUN_FIELDS} }}
}}
"""

WORKFLOW_ERRORS = """
query WorkflowErrors($id: Int!, $first: Int!, $after: String) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      errors(first: $first, after: $after) {
        items { taskInstanceId taskId taskName description time status exitCode }
        endCursor
        hasNextPage
      }
    }
    ... on Error { message }
  }
}
"""


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """A workflow run and its workflow at one moment."""

    workflow_run_id: int
    workflow_id: int
    run_status: str
    workflow_status: str
    total_tasks: int
    task_counts: Mapping[str, int]
    created: str
    waiting_for: str | None = None  # ready tasks wait on a cluster no worker serves

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RunSnapshot:
        workflow = payload["workflow"]
        return cls(
            workflow_run_id=int(payload["id"]),
            workflow_id=int(workflow["id"]),
            run_status=str(payload["status"]),
            workflow_status=str(workflow["status"]),
            total_tasks=int(workflow["totalTasks"]),
            task_counts={c["status"]: int(c["count"]) for c in workflow["taskCounts"]},
            created=str(payload["created"]),
            waiting_for=payload.get("waitingFor"),
        )

    def count(self, *statuses: str) -> int:
        return sum(self.task_counts.get(status, 0) for status in statuses)

    @property
    def done(self) -> int:
        return self.count(TaskStatus.DONE.name)

    @property
    def running(self) -> int:
        return self.count(TaskStatus.LAUNCHED.name, TaskStatus.RUNNING.name)

    @property
    def failed(self) -> int:
        return self.count(TaskStatus.ERROR_FATAL.name)

    @property
    def finished(self) -> bool:
        return self.run_status in TERMINAL_RUN_STATUSES


class WorkflowRunResult(StatusCode):
    """How a run of ``Workflow.run`` ended.

    It is the run's status as Jobmon reports it (``"D"`` when done, ``"E"`` on error, see
    ``WorkflowRunStatus``), and also equals the run's and the workflow's status names, so
    ``result == "D"``, ``result == WorkflowRunStatus.DONE`` and ``result == "DONE"`` all
    hold. ``final_status`` is the same status; the figures are attributes.
    """

    workflow_id: int
    workflow_run_id: int
    total_tasks: int
    done_count: int
    failed_count: int
    failed_task_ids: list[int]
    elapsed_time: float
    run_status: str
    workflow_status: str
    _finals: dict[int, StatusCode] | Callable[[], dict[int, StatusCode]]

    def __new__(
        cls,
        *,
        run_status: str,
        workflow_status: str,
        workflow_id: int,
        workflow_run_id: int,
        total_tasks: int,
        done_count: int,
        failed_count: int,
        failed_task_ids: list[int],
        elapsed_time: float,
        task_final_statuses: (
            dict[int, StatusCode] | Callable[[], dict[int, StatusCode]] | None
        ) = None,
    ) -> WorkflowRunResult:
        result = super().__new__(cls, WorkflowRunStatus.from_name(run_status), workflow_status)
        result.run_status = run_status
        result.workflow_status = workflow_status
        result.workflow_id = workflow_id
        result.workflow_run_id = workflow_run_id
        result.total_tasks = total_tasks
        result.done_count = done_count
        result.failed_count = failed_count
        result.failed_task_ids = failed_task_ids
        result.elapsed_time = elapsed_time
        result._finals = task_final_statuses or {}
        return result

    @property
    def task_final_statuses(self) -> dict[int, StatusCode]:
        """Each task's final status by task id (read when first asked for)."""
        if callable(self._finals):
            self._finals = self._finals()
        return self._finals

    @property
    def final_status(self) -> StatusCode:
        """The run's status (equal to ``"D"`` and ``"DONE"``, or ``"E"``, ``"ERROR"`` and
        ``"FAILED"``, ...)."""
        return run_status_code(self.run_status, self.workflow_status)

    def __repr__(self) -> str:
        return (
            f"WorkflowRunResult({str.__str__(self)!r}, workflow {self.workflow_id} "
            f"{self.workflow_status}, run {self.workflow_run_id} {self.run_status}, "
            f"{self.done_count}/{self.total_tasks} done, {self.failed_count} failed)"
        )


def start_run(
    client: GraphQLClient,
    workflow_id: int,
    workflow_name: str,
    user: str,
    *,
    resume: bool,
    reset_running_jobs: bool,
    fail_fast: bool,
    seconds_until_timeout: int,
    dynamic_resources: bool = False,
) -> RunSnapshot:
    variables = {
        "dynamicResources": dynamic_resources,
        "workflowId": workflow_id,
        "user": user,
        "resume": resume,
        "resetRunningJobs": reset_running_jobs,
        "failFast": fail_fast,
        "secondsUntilTimeout": seconds_until_timeout,
        # The same key on a resend (after a timeout, say) gets the run the first one made.
        "clientKey": uuid.uuid4().hex,
    }
    result = client.execute(START_WORKFLOW_RUN, variables)
    refused = result.get("startWorkflowRun") or {}
    try:
        payload = unwrap(result, "startWorkflowRun")
    except ValidationFailed as exc:
        from jobmon_client.exceptions import WorkflowAlreadyExists

        kind = WorkflowAlreadyExists if refused.get("field") == "resume" else ValidationFailed
        raise kind(
            f"cannot start a run of workflow {workflow_id} '{workflow_name}': {exc}"
        ) from None
    snapshot = RunSnapshot.from_payload(payload)
    log.info(
        "workflow %s: run %s started (%s tasks)",
        workflow_id,
        snapshot.workflow_run_id,
        snapshot.total_tasks,
    )
    return snapshot


# How long after the timeout the client waits for the server to stop the run itself.
TIMEOUT_GRACE_SECONDS = 10.0


RUN_UPDATES = """
subscription RunUpdates($id: Int!) {
  workflowRunUpdates(workflowRunId: $id) {
    id status created waitingFor
    workflow { id status totalTasks taskCounts { status count } }
  }
}
"""
# With a subscription, the client still reads the run this often, in case updates stall.
CHECK_SECONDS = 5.0


def follow_run(
    client: GraphQLClient,
    started: RunSnapshot,
    seconds_until_timeout: float,
    show_progress: bool,
    on_update: Callable[[int], Any] | None = None,
) -> RunSnapshot:
    """Follow the run until it ends: over a subscription, or by polling if that fails.

    The server stops a run whose ``seconds_until_timeout`` passed; the client stops it
    itself only if the server has not done so a grace period later. ``on_update`` is
    called with the run's id at the start and after every update while it runs (it gives
    dynamic tasks their resources).
    """
    deadline = time.monotonic() + seconds_until_timeout + TIMEOUT_GRACE_SECONDS
    snapshot = started
    url = getattr(client, "url", None)  # a client without a server URL is polled
    updates = _run_updates(url, started.workflow_run_id) if url else None
    said: str | None = None
    with run_view(started.workflow_id, show_progress) as view:
        while True:
            view.update(snapshot)
            if snapshot.waiting_for != said:
                said = snapshot.waiting_for
                if said:  # never wait silently for a worker that is not there
                    log.warning("workflow %s: %s", snapshot.workflow_id, said)
            if snapshot.finished:
                return snapshot
            if on_update is not None:
                on_update(snapshot.workflow_run_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                snapshot = _stop_overdue(client, snapshot, seconds_until_timeout)
                view.update(snapshot)
                return snapshot
            item: Any = None
            if updates is not None:
                wait = min(CHECK_SECONDS, remaining)
                due = view.seconds_to_next()
                if due is not None:  # a progress line is due: read the run by then
                    wait = max(min(wait, due), 0.05)
                try:
                    item = updates.get(timeout=wait)
                except queue.Empty:
                    item = None
                if isinstance(item, BaseException) or item is _ENDED:
                    log.debug("run updates ended (%s); polling instead", item)
                    updates, item = None, None
            else:
                time.sleep(min(POLL_INTERVAL_SECONDS, remaining))
            if item is not None:
                snapshot = RunSnapshot.from_payload(item)
                continue
            try:
                snapshot = read_run(client, snapshot.workflow_run_id)
            except ServerUnreachable as exc:
                # The run goes on without this process: keep following until the timeout.
                log.warning("workflow %s: %s; still following the run", snapshot.workflow_id, exc)


_ENDED = object()


def _run_updates(url: str, run_id: int) -> queue.Queue[Any] | None:
    """Updates of a run from a subscription, fed by a thread; None if it cannot start."""
    try:
        from jobmon_client.subscriptions import subscribe
    except ImportError:  # the websockets extra is not installed
        return None
    updates: queue.Queue[Any] = queue.Queue()

    def feed() -> None:
        try:
            for result in subscribe(url, RUN_UPDATES, {"id": run_id}):
                updates.put(result["workflowRunUpdates"])
            updates.put(_ENDED)
        except BaseException as exc:  # noqa: BLE001 - handed to the follower, who polls
            updates.put(exc)

    threading.Thread(target=feed, name=f"jobmon-run-{run_id}", daemon=True).start()
    return updates


def _stop_overdue(
    client: GraphQLClient, snapshot: RunSnapshot, seconds_until_timeout: float
) -> RunSnapshot:
    log.warning(
        "workflow %s: run %s did not finish within %ss; stopping it",
        snapshot.workflow_id,
        snapshot.workflow_run_id,
        seconds_until_timeout,
    )
    try:
        return _run_request(
            client,
            STOP_WORKFLOW_RUN,
            {"workflowRunId": snapshot.workflow_run_id},
            "stopWorkflowRun",
        )
    except ValidationFailed:  # it ended meanwhile
        return read_run(client, snapshot.workflow_run_id)


def stop_run(client: GraphQLClient, workflow_run_id: int) -> RunSnapshot:
    """Stop a run (its workflow becomes HALTED); a run that ended meanwhile is left so."""
    try:
        return _run_request(
            client, STOP_WORKFLOW_RUN, {"workflowRunId": workflow_run_id}, "stopWorkflowRun"
        )
    except ValidationFailed:
        return read_run(client, workflow_run_id)


def read_run(client: GraphQLClient, workflow_run_id: int) -> RunSnapshot:
    """A workflow run as it is now."""
    return _run_request(client, WORKFLOW_RUN, {"id": workflow_run_id}, "workflowRun")


def _run_request(
    client: GraphQLClient, document: str, variables: dict[str, Any], field: str
) -> RunSnapshot:
    return RunSnapshot.from_payload(unwrap(client.execute(document, variables), field))


def iter_errors(
    client: GraphQLClient, workflow_id: int, page_size: int = ERROR_PAGE_SIZE
) -> Iterator[dict[str, Any]]:
    """Every task instance error of the workflow, page by page."""
    after: str | None = None
    while True:
        workflow = unwrap(
            client.execute(
                WORKFLOW_ERRORS, {"id": workflow_id, "first": page_size, "after": after}
            ),
            "workflow",
        )
        page = workflow["errors"]
        yield from page["items"]
        if not page["hasNextPage"]:
            return
        after = page["endCursor"]


FATAL_TASKS = """
query FatalTasks($id: Int!, $after: String) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      tasks(statuses: [ERROR_FATAL], first: 1000, after: $after) {
        items { id name } endCursor hasNextPage
      }
    }
    ... on Error { message }
  }
}
"""


def failed_task_ids(client: GraphQLClient, workflow_id: int) -> list[int]:
    """The workflow's tasks that failed for good (ERROR_FATAL), a page at a time."""
    return [task_id for task_id, _ in fatal_tasks(client, workflow_id)]


def fatal_tasks(client: GraphQLClient, workflow_id: int) -> list[tuple[int, str]]:
    """Id and name of each task of the workflow that failed for good, a page at a time."""
    found: list[tuple[int, str]] = []
    after: str | None = None
    while True:
        payload = unwrap(
            client.execute(FATAL_TASKS, {"id": workflow_id, "after": after}), "workflow"
        )
        page = payload["tasks"]
        found += [(int(item["id"]), str(item["name"])) for item in page["items"]]
        if not page["hasNextPage"]:
            return found
        after = page["endCursor"]


TASK_STATUSES = """
query TaskStatuses($id: Int!, $after: String) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      tasks(first: 1000, after: $after) { items { id status } endCursor hasNextPage }
    }
    ... on Error { message }
  }
}
"""


def task_statuses(client: GraphQLClient, workflow_id: int) -> dict[int, str]:
    """Every task's status by id, a page at a time (read once, when a run that did not
    finish DONE ends)."""
    statuses: dict[int, str] = {}
    after: str | None = None
    while True:
        payload = unwrap(
            client.execute(TASK_STATUSES, {"id": workflow_id, "after": after}), "workflow"
        )
        page = payload["tasks"]
        statuses.update((int(item["id"]), str(item["status"])) for item in page["items"])
        if not page["hasNextPage"]:
            return statuses
        after = page["endCursor"]
