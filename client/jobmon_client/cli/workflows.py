"""``jobmon workflow ...``: status, tasks, log paths, and steering a workflow."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from jobmon_client.cli.output import (
    Column,
    JsonOption,
    ServerOption,
    UsageError,
    WorkflowOption,
    attributes_text,
    connect,
    current_user,
    expand_statuses,
    grouped_counts,
    paged,
    print_line,
    query,
    show,
    status_style,
    when,
)

app = typer.Typer(help="Workflows: status, tasks, resume, reset, stop, concurrency.")

WORKFLOW_STATUS = """
query WorkflowStatus($ids: [Int!], $users: [String!], $first: Int!) {
  workflows(ids: $ids, users: $users, first: $first) {
    items {
      id name status user totalTasks created attributes
      taskCounts { status count }
      latestRun { id status created waitingFor }
    }
    hasNextPage
  }
}
"""


@app.command("status")
def status(
    workflow_id: Annotated[
        list[int] | None, typer.Option("--workflow-id", "-w", help="Workflow id (repeatable).")
    ] = None,
    user: Annotated[
        list[str] | None,
        typer.Option("--user", "-u", help="Owner (repeatable); default: you, unless -w is given."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", help="At most this many workflows.")] = 5,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tasks by status, percent done and the latest run of workflows, newest first."""
    ids = list(workflow_id or [])
    users = list(user or ([] if ids else [current_user()]))
    first = max(limit, len(ids))
    with connect(server) as client:
        page = client.execute(WORKFLOW_STATUS, {"ids": ids, "users": users, "first": first})
    workflows = page["workflows"]["items"]
    missing = sorted(set(ids) - {w["id"] for w in workflows})
    if missing:
        raise UsageError(f"workflow {', '.join(map(str, missing))} does not exist")
    rows = []
    for wf in workflows:
        counts = grouped_counts(wf["taskCounts"])
        total = wf["totalTasks"]
        run = wf["latestRun"]
        rows.append(
            {
                "workflow_id": wf["id"],
                "name": wf["name"],
                "user": wf["user"],
                "status": wf["status"],
                "tasks": total,
                **{k.lower(): v for k, v in counts.items()},
                "percent_done": round(100 * counts["DONE"] / total, 1) if total else 0.0,
                "run_id": run and run["id"],
                "run_status": run and run["status"],
                "started": run and run["created"],
                "created": wf["created"],
                "waiting_for": run and run.get("waitingFor"),
                "attributes": wf["attributes"] or {},
            }
        )
    columns = [
        Column("WF ID", lambda r: r["workflow_id"], "right"),
        Column("NAME", lambda r: r["name"]),
        *([Column("USER", lambda r: r["user"], drop=3)] if user or ids else []),
        Column("STATUS", lambda r: r["status"], style=status_style),
        Column("DONE", lambda r: f"{r['done']}/{r['tasks']} ({r['percent_done']:g}%)", "right"),
        Column("PENDING", lambda r: r["pending"], "right"),
        Column("SCHED", lambda r: r["scheduled"], "right", drop=4),
        Column("RUNNING", lambda r: r["running"], "right"),
        Column("FATAL", lambda r: r["fatal"], "right"),
        Column("RUN", lambda r: f"{r['run_id']} {r['run_status']}" if r["run_id"] else "-", drop=2),
        Column("STARTED", lambda r: when(r["started"]), drop=5),
    ]
    more = None
    if page["workflows"]["hasNextPage"] and not ids:
        more = f"showing the newest {len(rows)}; use --limit to see more"
    empty = "no workflows" + (f" of {', '.join(users)}" if users else "")
    show(rows, columns, as_json=as_json, empty=empty, more=more)
    if not as_json:
        for row in rows:
            if row["waiting_for"]:
                typer.echo(f"workflow {row['workflow_id']}: {row['waiting_for']}", err=True)
            if row["attributes"]:
                print_line(
                    f"workflow {row['workflow_id']} attributes: "
                    + attributes_text(row["attributes"]),
                    as_json=False,
                    data=None,
                )


WORKFLOW_TASKS = """
query WorkflowTasks(
  $id: Int!, $statuses: [TaskStatus!], $template: String, $first: Int!, $after: String
) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      tasks(statuses: $statuses, templateName: $template, first: $first, after: $after) {
        items { id name templateName status numAttempts maxAttempts latestExitCode statusDate }
        endCursor hasNextPage
      }
    }
    ... on Error { message }
  }
}
"""


@app.command("tasks")
def tasks(
    workflow_id: WorkflowOption,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            help="PENDING, SCHEDULED, RUNNING, DONE, FATAL or an exact status (repeatable).",
        ),
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="Only tasks of this template.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", help="At most this many tasks.")] = 100,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """The tasks of a workflow with status, attempts and latest exit code."""
    statuses = expand_statuses(status) or None
    variables = {"id": workflow_id, "statuses": statuses, "template": template}
    with connect(server) as client:
        items, more = paged(client, WORKFLOW_TASKS, variables, ("workflow", "tasks"), limit)
    rows = [
        {
            "task_id": t["id"],
            "name": t["name"],
            "template": t["templateName"],
            "status": t["status"],
            "attempts": t["numAttempts"],
            "max_attempts": t["maxAttempts"],
            "latest_exit_code": t["latestExitCode"],
            "status_date": t["statusDate"],
        }
        for t in items
    ]
    columns = [
        Column("TASK ID", lambda r: r["task_id"], "right"),
        Column("NAME", lambda r: r["name"]),
        Column("TEMPLATE", lambda r: r["template"], drop=2),
        Column("STATUS", lambda r: r["status"], style=status_style),
        Column("ATTEMPTS", lambda r: f"{r['attempts']}/{r['max_attempts']}", "right"),
        Column("EXIT", lambda r: r["latest_exit_code"], "right"),
        Column("SINCE", lambda r: when(r["status_date"]), drop=1),
    ]
    show(
        rows,
        columns,
        as_json=as_json,
        empty=f"workflow {workflow_id} has no such tasks",
        more=f"showing the first {len(rows)}; use --limit to see more" if more else None,
    )


WORKFLOW_INSTANCES = """
query WorkflowInstances($id: Int!, $template: String, $first: Int!, $after: String) {
  workflow(id: $id) {
    __typename
    ... on Workflow {
      taskInstances(templateName: $template, first: $first, after: $after) {
        items { id taskId taskName status stdoutPath stderrPath }
        endCursor hasNextPage
      }
    }
    ... on Error { message }
  }
}
"""


@app.command("filepaths")
@app.command("logs", hidden=True)  # Jobmon's grouped name
def filepaths(
    workflow_id: WorkflowOption,
    array: Annotated[
        str | None,
        typer.Option("--array", "-a", help="Only attempts of this template (job array)."),
    ] = None,
    job: Annotated[
        str | None,
        typer.Option("--job", "-j", help="Only attempts of tasks with this name (job name)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", help="At most this many attempts.")] = 5,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where the attempts of a workflow's tasks wrote stdout and stderr."""
    variables = {"id": workflow_id, "template": array or None}
    with connect(server) as client:
        if job:
            items, more = _instances_of_job(client, variables, job, limit)
        else:
            items, more = paged(
                client, WORKFLOW_INSTANCES, variables, ("workflow", "taskInstances"), limit
            )
    rows = [
        {
            "task_id": i["taskId"],
            "task_name": i["taskName"],
            "task_instance_id": i["id"],
            "status": i["status"],
            "stdout": i["stdoutPath"],
            "stderr": i["stderrPath"],
        }
        for i in items
    ]
    columns = [
        Column("TASK ID", lambda r: r["task_id"], "right"),
        Column("TASK", lambda r: r["task_name"]),
        Column("INSTANCE", lambda r: r["task_instance_id"], "right", drop=1),
        Column("STATUS", lambda r: r["status"], style=status_style),
        Column("STDOUT", lambda r: r["stdout"], wrap=True),
        Column("STDERR", lambda r: r["stderr"], wrap=True),
    ]
    show(
        rows,
        columns,
        as_json=as_json,
        empty=f"workflow {workflow_id} has no attempts yet",
        more=f"showing the first {len(rows)}; use --limit to see more" if more else None,
    )


# How many attempts `get_filepaths -j` reads at most to find those of one job name.
MAX_SCANNED_FOR_JOB = 100_000


def _instances_of_job(
    client: Any, variables: dict[str, Any], job: str, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    found: list[dict[str, Any]] = []
    after: str | None = None
    scanned = 0
    while scanned < MAX_SCANNED_FOR_JOB:
        page_vars = {**variables, "first": 1000, "after": after}
        page = query(client, WORKFLOW_INSTANCES, page_vars, "workflow")["taskInstances"]
        scanned += len(page["items"])
        found += [i for i in page["items"] if i["taskName"] == job]
        if len(found) > limit:
            return found[:limit], True
        if not page["hasNextPage"]:
            return found, False
        after = page["endCursor"]
    return found[:limit], True


_RUN_RESULT = """
    __typename
    ... on WorkflowRun { id status workflowId }
    ... on Error { message }
"""

START_RUN = f"""
mutation Resume($id: Int!, $user: String!, $cold: Boolean!, $timeout: Int) {{
  startWorkflowRun(
    workflowId: $id, user: $user, resume: true, resetRunningJobs: $cold,
    secondsUntilTimeout: $timeout
  ) {{ {_RUN_RESULT} }}
}}
"""


@app.command("resume")
def resume(
    workflow_id: WorkflowOption,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster-name",
            "-c",
            help="Accepted for Jobmon compatibility: tasks run on the cluster they were bound to.",
        ),
    ] = None,
    reset_running_jobs: Annotated[
        bool,
        typer.Option(
            "--reset-running-jobs",
            "--reset-running",
            help="Cold resume: kill what still runs and rerun it (default: hot, adopt it).",
        ),
    ] = False,
    seconds_until_timeout: Annotated[
        int | None,
        typer.Option(
            "--seconds-until-timeout",
            "--execution-timeout",
            help="Stop the run after this many seconds.",
        ),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow the run until it ends.")] = False,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resume a workflow: rerun what is not DONE; a worker of its cluster runs it."""
    _resume(workflow_id, reset_running_jobs, seconds_until_timeout, wait, server, as_json)


def resume_as_jobmon(
    workflow_id: WorkflowOption,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster-name",
            "-c",
            help="Accepted: tasks run on the cluster they were bound to.",
        ),
    ] = None,
    reset_running_jobs: Annotated[
        bool,
        typer.Option("--reset-running-jobs", help="Cold resume: kill what still runs."),
    ] = False,
    timeout: Annotated[
        int,
        typer.Option(
            "--timeout",
            "-t",
            help="Seconds to wait for the workflow to become resumable (it is at once here).",
        ),
    ] = 180,
    seconds_until_timeout: Annotated[
        int, typer.Option(help="Stop the run after this many seconds.")
    ] = 36000,
    increase_resource: Annotated[
        bool,
        typer.Option(
            "--increase-resource",
            help="Accepted: tasks that ran out of memory or runtime retry with more anyway.",
        ),
    ] = False,
    use_original_resources: Annotated[
        bool, typer.Option("--use-original-resources", help="Not supported.")
    ] = False,
    wait: Annotated[bool, typer.Option(help="Follow the run until it ends (default).")] = True,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Jobmon's workflow_resume: resume and, by default, wait for the run to end."""
    if use_original_resources:
        raise UsageError(
            "--use-original-resources is not supported: a resumed task keeps the resources "
            "its retries reached; bind the workflow again with the resources you want"
        )
    if timeout < 0:
        raise UsageError(f"--timeout must be at least 0, got {timeout}")
    _resume(workflow_id, reset_running_jobs, seconds_until_timeout, wait, server, as_json)


def _resume(
    workflow_id: int,
    reset_running_jobs: bool,
    seconds_until_timeout: int | None,
    wait: bool,
    server: str | None,
    as_json: bool,
) -> None:
    variables = {
        "id": workflow_id,
        "user": current_user(),
        "cold": reset_running_jobs,
        "timeout": seconds_until_timeout,
    }
    with connect(server) as client:
        run = query(client, START_RUN, variables, "startWorkflowRun")
        kind = "cold" if reset_running_jobs else "hot"
        print_line(
            f"workflow {workflow_id}: run {run['id']} started ({kind} resume)",
            as_json=as_json,
            data=run,
        )
        if wait:
            _follow(client, run["id"], seconds_until_timeout, as_json)


def _follow(client: Any, run_id: int, seconds_until_timeout: int | None, as_json: bool) -> None:
    from jobmon_client import run as runs

    snapshot = runs.read_run(client, run_id)
    final = runs.follow_run(
        client, snapshot, float(seconds_until_timeout or 10 * 365 * 86400), not as_json
    )
    print_line(
        f"workflow {final.workflow_id}: {final.workflow_status} "
        f"({final.done}/{final.total_tasks} done, {final.failed} failed)",
        as_json=as_json,
        data={"workflowId": final.workflow_id, "status": final.workflow_status},
    )
    if final.workflow_status != "DONE":
        raise typer.Exit(1)


RESET = """
mutation Reset($id: Int!, $user: String!) {
  resetWorkflow(workflowId: $id, user: $user) {
    __typename
    ... on Workflow { id status }
    ... on Error { message }
  }
}
"""


@app.command("reset")
def reset(
    workflow_id: WorkflowOption,
    partial_reset: Annotated[
        bool,
        typer.Option(
            "--partial-reset", "--partial", "-p", help="Not supported: every task is reset."
        ),
    ] = False,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a workflow that is not running back to REGISTERING, every task with it, so that
    its script's run() starts it afresh. Only its owner may."""
    if partial_reset:
        raise UsageError(
            "--partial-reset is not supported: a reset puts every task back to REGISTERING. To "
            "rerun some tasks only, use 'jobmon update_task_status -w ID -t TASK ... -s G'"
        )
    with connect(server) as client:
        wf = query(client, RESET, {"id": workflow_id, "user": current_user()}, "resetWorkflow")
    print_line(
        f"workflow {workflow_id} is {wf['status']}: its script's run() starts it afresh",
        as_json=as_json,
        data=wf,
    )


STOP = f"""
mutation Stop($id: Int!, $user: String!) {{
  stopWorkflow(workflowId: $id, user: $user) {{ {_RUN_RESULT} }}
}}
"""


@app.command("stop")
def stop(
    workflow_id: WorkflowOption, server: ServerOption = None, as_json: JsonOption = False
) -> None:
    """Stop a workflow's run, cancelling what is queued or running. Only its owner may."""
    with connect(server) as client:
        run = query(client, STOP, {"id": workflow_id, "user": current_user()}, "stopWorkflow")
    print_line(
        f"workflow {workflow_id}: run {run['id']} {run['status']}; resume it with "
        f"'jobmon workflow resume -w {workflow_id}'",
        as_json=as_json,
        data=run,
    )


SET_WORKFLOW_LIMIT = """
mutation Limit($id: Int!, $limit: Int!, $user: String!) {
  setMaxConcurrentlyRunning(workflowId: $id, limit: $limit, user: $user) {
    __typename
    ... on Workflow { id maxConcurrentlyRunning }
    ... on Error { message }
  }
}
"""

SET_TEMPLATE_LIMIT = """
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


@app.command("concurrency")
def concurrency(
    workflow_id: WorkflowOption,
    max_tasks: Annotated[int, typer.Option("--max-tasks", "-m", help="Tasks at once.")],
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="Limit only this template's tasks.")
    ] = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change how many tasks of a workflow (or of one template) run at once; applies at once."""
    user = current_user()
    with connect(server) as client:
        if template is None:
            variables = {"id": workflow_id, "limit": max_tasks, "user": user}
            result = query(client, SET_WORKFLOW_LIMIT, variables, "setMaxConcurrentlyRunning")
            message = f"workflow {workflow_id} runs at most {max_tasks} tasks at once"
        else:
            variables = {"id": workflow_id, "template": template, "limit": max_tasks, "user": user}
            result = query(client, SET_TEMPLATE_LIMIT, variables, "setTemplateConcurrency")
            message = (
                f"workflow {workflow_id} runs at most {max_tasks} tasks of '{template}' at once"
            )
    print_line(message, as_json=as_json, data=result)
