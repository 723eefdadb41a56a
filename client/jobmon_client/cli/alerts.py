"""``jobmon alerts``: print alerts as they come, and run a command or call a webhook for each."""

from __future__ import annotations

import json
import logging
import subprocess
from typing import Annotated, Any

import typer

from jobmon_client.cli.output import ServerOption, UsageError, connect, console, when

log = logging.getLogger(__name__)

ALERTS = """
subscription Alerts(
  $users: [String!], $workflowIds: [Int!], $kinds: [AlertKind!], $after: String
) {
  alerts(users: $users, workflowIds: $workflowIds, kinds: $kinds, after: $after) {
    cursor kind workflowId user entity entityId message time
    taskId taskName exitCode errorLine
  }
}
"""
KINDS = (
    "TASK_FATAL",
    "WORKFLOW_FAILED",
    "WORKFLOW_DONE",
    "RESOURCE_RETRY",
    "HEARTBEAT_LOST",
    "RUN_STALLED",
)


def alerts(
    user: Annotated[
        list[str] | None, typer.Option("--user", "-u", help="Only this owner's (repeatable).")
    ] = None,
    workflow_id: Annotated[
        list[int] | None,
        typer.Option("--workflow", "-w", help="Only this workflow's (repeatable)."),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help=f"Only these kinds: {', '.join(KINDS)}."),
    ] = None,
    after: Annotated[
        str | None, typer.Option(help="Start after this cursor (default: from now on).")
    ] = None,
    exec_command: Annotated[
        str | None,
        typer.Option("--exec", help="Run this shell command per alert (JSON on its stdin)."),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="POST each alert as JSON to this URL.")
    ] = None,
    server: ServerOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Follow alerts (a task failed for good, a workflow ended, a resource retry, a lost
    heartbeat) until stopped; reconnects by itself without losing any. An alert about a
    task names it, with its attempt's exit code and the last line of its error."""
    from jobmon_client.subscriptions import follow  # imported when used: websockets

    kinds = [k.upper() for k in kind or []]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(f"unknown alert kind {', '.join(unknown)}; use {', '.join(KINDS)}")
    if after is None:
        after = _now_cursor(server)
    variables: dict[str, Any] = {
        "users": user or None,
        "workflowIds": workflow_id or None,
        "kinds": kinds or None,
    }
    for alert in follow(server, ALERTS, variables, "alerts", after=after):
        if as_json:
            typer.echo(json.dumps(alert))
        else:
            console.print(
                f"{when(alert['time'])} {alert['kind']} {alert['user']}: {alert['message']}",
                highlight=False,
            )
        if exec_command:
            _run(exec_command, alert)
        if webhook:
            _post(webhook, alert)


def _now_cursor(server: str | None) -> str:
    """The newest event's cursor: alerts from now on, not the whole history."""
    with connect(server) as client:
        return str(client.execute("{ lastEventCursor }")["lastEventCursor"])


def _run(command: str, alert: dict[str, Any]) -> None:
    done = subprocess.run(
        command, shell=True, input=json.dumps(alert), text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        log.warning("'%s' failed for alert %s: %s", command, alert["cursor"], done.stderr.strip())


def _post(url: str, alert: dict[str, Any]) -> None:
    import httpx

    try:
        httpx.post(url, json=alert, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("webhook %s failed for alert %s: %s", url, alert["cursor"], exc)
