"""``jobmon task ...``: attempts, dependencies and errors of tasks, and marking tasks."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from jobmon_client.cli import task_logs
from jobmon_client.cli.output import (
    Column,
    JsonOption,
    ServerOption,
    UsageError,
    WorkflowOption,
    attributes_text,
    chunked,
    connect,
    current_user,
    duration,
    last_line,
    print_line,
    query,
    requested,
    show,
    size,
    status_style,
    when,
)
from jobmon_client.statuses import TaskStatus
from jobmon_client.transport import NotFoundError

app = typer.Typer(
    help="Tasks: attempts, their logs, dependencies, errors, and marking them done or to rerun."
)
app.command("logs")(task_logs.logs)

TaskIdsOption = Annotated[
    list[int], typer.Option("--task-id", "--task-ids", "-t", help="Task id (repeatable).")
]
MAX_TASKS_PER_REQUEST = 50

_INSTANCE_FIELDS = """
    id status exitCode hostname distributorId workerId requestedResources
    maxRssBytes wallclockSeconds cpuSeconds errorMessage stdoutPath stderrPath
    created started finished
"""


def _task_status_document(count: int) -> str:
    """One request for many tasks: one aliased ``task`` field each."""
    fields = "\n".join(
        f"""  t{i}: task(id: $id{i}) {{
    __typename
    ... on Task {{
      id name status workflowId templateName numAttempts maxAttempts attributes
      instances(first: 1000) {{ items {{ {_INSTANCE_FIELDS} }} }}
    }}
    ... on Error {{ message }}
  }}"""
        for i in range(count)
    )
    params = ", ".join(f"$id{i}: Int!" for i in range(count))
    return f"query TaskStatus({params}) {{\n{fields}\n}}"


def fetch_tasks(client: Any, task_ids: list[int]) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for part in chunked(task_ids, MAX_TASKS_PER_REQUEST):
        result = client.execute(
            _task_status_document(len(part)), {f"id{i}": t for i, t in enumerate(part)}
        )
        for i, task_id in enumerate(part):
            payload = result[f"t{i}"]
            if payload["__typename"] != "Task":
                raise NotFoundError(payload.get("message", f"task {task_id} does not exist"))
            tasks.append(payload)
    return tasks


@app.command("status")
def status(
    task_id: TaskIdsOption,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help="Only attempts in this status (repeatable)."),
    ] = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each attempt of tasks: status, exit code, host, distributor id, resources, stderr tail."""
    wanted = {s.upper() for s in status or []}
    with connect(server) as client:
        tasks = fetch_tasks(client, list(dict.fromkeys(task_id)))
    rows = []
    for task in tasks:
        for i, ti in enumerate(task["instances"]["items"], start=1):
            if wanted and ti["status"] not in wanted:
                continue
            rows.append(
                {
                    "task_id": task["id"],
                    "task_name": task["name"],
                    "task_status": task["status"],
                    "workflow_id": task["workflowId"],
                    "attempt": i,
                    "task_instance_id": ti["id"],
                    "status": ti["status"],
                    "exit_code": ti["exitCode"],
                    "hostname": ti["hostname"],
                    "distributor_id": ti["distributorId"],
                    "requested_resources": ti["requestedResources"],
                    "max_rss_bytes": ti["maxRssBytes"],
                    "wallclock_seconds": ti["wallclockSeconds"],
                    "cpu_seconds": ti["cpuSeconds"],
                    "error": ti["errorMessage"],
                    "stdout_path": ti["stdoutPath"],
                    "stderr_path": ti["stderrPath"],
                    "started": ti["started"],
                    "finished": ti["finished"],
                }
            )
    columns = [
        Column("ATTEMPT", lambda r: f"{r['attempt']}: {r['task_instance_id']}"),
        Column("STATUS", lambda r: r["status"], style=status_style),
        Column("EXIT", lambda r: r["exit_code"], "right"),
        Column("HOST", lambda r: r["hostname"]),
        Column("DISTRIBUTOR ID", lambda r: r["distributor_id"]),
        Column("ASKED", lambda r: requested(r["requested_resources"])),
        Column(
            "USED",
            lambda r: f"{size(r['max_rss_bytes']) or '-'} {duration(r['wallclock_seconds'])}",
        ),
        Column("STARTED", lambda r: when(r["started"])),
        Column("STDERR TAIL", lambda r: last_line(r["error"], 60), wrap=True),
    ]
    if as_json:
        show([], columns, as_json=True, data=_by_task(tasks, rows))
        return
    for t in tasks:
        mine = [r for r in rows if r["task_id"] == t["id"]]
        title = (
            f"task {t['id']} {t['name']} (workflow {t['workflowId']}): {t['status']}, "
            f"{t['numAttempts']} of {t['maxAttempts']} attempts"
            + (f"; attributes: {attributes_text(t['attributes'])}" if t["attributes"] else "")
        )
        empty = "no attempts yet" if not t["instances"]["items"] else "no attempts match"
        show(mine, columns, as_json=False, title=title, empty=f"{title}: {empty}")


def _by_task(tasks: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "task_id": t["id"],
            "name": t["name"],
            "status": t["status"],
            "workflow_id": t["workflowId"],
            "template": t["templateName"],
            "attributes": t["attributes"] or {},
            "attempts": [r for r in rows if r["task_id"] == t["id"]],
        }
        for t in tasks
    ]


TASK_DEPENDENCIES = """
query TaskDependencies($id: Int!) {
  task(id: $id) {
    __typename
    ... on Task {
      id name status
      upstream(first: 1000) { items { id name status } hasNextPage }
      downstream(first: 1000) { items { id name status } hasNextPage }
    }
    ... on Error { message }
  }
}
"""


@app.command("dependencies")
def dependencies(
    task_id: Annotated[int, typer.Option("--task-id", "-t", help="Task id.")],
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """The tasks a task waits for (upstream) and those waiting for it (downstream)."""
    with connect(server) as client:
        task = query(client, TASK_DEPENDENCIES, {"id": task_id}, "task")
    data = {
        "task_id": task["id"],
        "name": task["name"],
        "status": task["status"],
        "upstream": task["upstream"]["items"],
        "downstream": task["downstream"]["items"],
    }
    columns = [
        Column("TASK ID", lambda r: r["id"], "right"),
        Column("NAME", lambda r: r["name"], wrap=True),
        Column("STATUS", lambda r: r["status"], style=status_style),
    ]
    if as_json:
        show([], columns, as_json=True, data=data)
        return
    print_line(f"task {task['id']} {task['name']}: {task['status']}", as_json=False, data=None)
    for direction in ("upstream", "downstream"):
        page = task[direction]
        show(
            page["items"],
            columns,
            as_json=False,
            title=direction.capitalize(),
            empty=f"no {direction} tasks",
            more="showing the first 1000" if page["hasNextPage"] else None,
        )


ERROR_GROUPS = """
query ErrorGroups($id: Int!, $first: Int!) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      errorGroups(first: $first) {
        signature pattern example count taskCount exampleTaskIds latest
      }
    }
    ... on Error { message }
  }
}
"""


@app.command("errors")
def errors(
    workflow_id: WorkflowOption,
    limit: Annotated[int, typer.Option("--limit", "-l", help="At most this many groups.")] = 20,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """A workflow's errors grouped by similar message, largest group first."""
    with connect(server) as client:
        workflow = query(client, ERROR_GROUPS, {"id": workflow_id, "first": limit}, "workflow")
    rows = workflow["errorGroups"]
    columns = [
        Column("ERRORS", lambda r: r["count"], "right"),
        Column("TASKS", lambda r: r["taskCount"], "right"),
        Column("EXAMPLE TASKS", lambda r: ", ".join(map(str, r["exampleTaskIds"]))),
        Column("LATEST", lambda r: when(r["latest"])),
        Column("MESSAGE", lambda r: last_line(r["example"], 100), wrap=True),
    ]
    show(rows, columns, as_json=as_json, empty=f"workflow {workflow_id} has no errors")


UPDATE_TASKS = """
mutation UpdateTasks(
  $id: Int!, $taskIds: [Int!]!, $status: TaskStatus!, $recursive: Boolean!, $user: String!
) {
  updateTaskStatuses(
    workflowId: $id, taskIds: $taskIds, status: $status, recursive: $recursive, user: $user
  ) {
    __typename
    ... on UpdatedTasks { taskIds }
    ... on Error { message }
  }
}
"""

# Jobmon's one-letter statuses for update_task_status.
STATUS_LETTERS = {
    TaskStatus.DONE.value: TaskStatus.DONE.name,
    TaskStatus.REGISTERING.value: TaskStatus.REGISTERING.name,
}


@app.command("update")
def update(
    workflow_id: WorkflowOption,
    task_id: TaskIdsOption,
    status: Annotated[
        str, typer.Option("--new-status", "-s", help="DONE (or D) or REGISTERING (or G) to rerun.")
    ],
    recursive: Annotated[
        bool,
        typer.Option(
            "--recursive",
            "-r",
            help="DONE: mark upstream tasks done too; REGISTERING: rerun downstream tasks too.",
        ),
    ] = False,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark tasks DONE, or REGISTERING so that the next resume reruns them. Only the
    workflow's owner may, and not while it runs."""
    _update(workflow_id, task_id, status, recursive, server, as_json)


def update_as_jobmon(
    workflow_id: WorkflowOption,
    task_id: TaskIdsOption,
    status: Annotated[
        str, typer.Option("--new-status", "-s", help="D (DONE) or G (REGISTERING, to rerun).")
    ],
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Accepted: with -r, apply it recursively.")
    ] = False,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="D: mark upstream tasks done too.")
    ] = False,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Jobmon's update_task_status: G reruns the tasks and every task downstream of them
    (and reopens a DONE workflow); D marks them done (with -r, their upstream too)."""
    new_status = STATUS_LETTERS.get(status.upper(), status.upper())
    _update(workflow_id, task_id, status, recursive or new_status == "REGISTERING", server, as_json)


def _update(
    workflow_id: int,
    task_id: list[int],
    status: str,
    recursive: bool,
    server: str | None,
    as_json: bool,
) -> None:
    new_status = STATUS_LETTERS.get(status.upper(), status.upper())
    if new_status not in STATUS_LETTERS.values():
        raise UsageError(f"tasks can be set to DONE (D) or REGISTERING (G), not '{status}'")
    variables = {
        "id": workflow_id,
        "taskIds": list(dict.fromkeys(task_id)),
        "status": new_status,
        "recursive": recursive,
        "user": current_user(),
    }
    with connect(server) as client:
        result = query(client, UPDATE_TASKS, variables, "updateTaskStatuses")
    changed = result["taskIds"]
    follow = (
        ""
        if new_status == "DONE"
        else f"; rerun them with 'jobmon workflow resume -w {workflow_id}'"
    )
    print_line(
        f"{len(changed)} task(s) of workflow {workflow_id} set to {new_status}{follow}",
        as_json=as_json,
        data={"workflow_id": workflow_id, "status": new_status, "task_ids": changed},
    )
