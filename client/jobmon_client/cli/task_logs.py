"""``jobmon task logs``: an attempt's stderr or stdout, read through the server."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from jobmon_client.cli.output import JsonOption, ServerOption, UsageError, connect, query, size
from jobmon_client.transport import GraphQLClient

DEFAULT_BYTES = 65536
PAGE_BYTES = 2**20  # the most the server sends at once

TASK_ATTEMPTS = """
query TaskAttempts($id: Int!) {
  task(id: $id) {
    __typename
    ... on Task { id name status instances(first: 1000) { items { id status exitCode } } }
    ... on Error { message }
  }
}
"""
LOG = """
query TaskInstanceLog($id: Int!, $stream: LogStream!, $before: Int, $maxBytes: Int!) {
  taskInstanceLog(taskInstanceId: $id, stream: $stream, before: $before, maxBytes: $maxBytes) {
    __typename
    ... on LogChunk { path text start end size hasEarlier }
    ... on LogUnavailable { message unreadablePath: path }
    ... on NotFound { message }
  }
}
"""


def logs(
    task_id: Annotated[int, typer.Option("--task-id", "-t", help="Task id.")],
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Show stdout instead of stderr.")
    ] = False,
    attempt: Annotated[
        int | None,
        typer.Option("--attempt", "-a", help="Which attempt, from 1 (default: the latest)."),
    ] = None,
    task_instance_id: Annotated[
        int | None,
        typer.Option("--task-instance-id", "-i", help="The attempt by its task instance id."),
    ] = None,
    whole: Annotated[bool, typer.Option("--all", help="The whole file, not only its end.")] = False,
    max_bytes: Annotated[
        int, typer.Option("--bytes", "-c", help="How much of the end of the file to show.")
    ] = DEFAULT_BYTES,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """An attempt's stderr (or --stdout), read by the server from the file the worker
    reported: the end of the latest attempt's unless told otherwise. The file's path and
    what is shown go to stderr, the text to stdout."""
    if attempt is not None and task_instance_id is not None:
        raise UsageError("give --attempt or --task-instance-id, not both")
    if max_bytes < 1:
        raise UsageError(f"--bytes takes a positive number, not {max_bytes}")
    stream = "STDOUT" if stdout else "STDERR"
    with connect(server) as client:
        task = query(client, TASK_ATTEMPTS, {"id": task_id}, "task")
        number, instance = _pick(task, attempt, task_instance_id)
        chunks = _read(client, instance["id"], stream, None if whole else max_bytes, number, task)
    text = "".join(c["text"] for c in chunks)
    first, last = chunks[0], chunks[-1]
    if as_json:
        data = {
            "task_id": task["id"],
            "task_instance_id": instance["id"],
            "attempt": number,
            "stream": stream.lower(),
            "path": last["path"],
            "start": first["start"],
            "end": last["end"],
            "size": last["size"],
            "has_earlier": first["hasEarlier"],
            "text": text,
        }
        typer.echo(json.dumps(data, indent=2))
        return
    shown = (
        ("empty; --stdout shows its stdout" if stream == "STDERR" else "empty")
        if last["size"] == 0
        else f"{size(last['size'])}"
        + (f", the last {size(last['end'] - first['start'])} shown" if first["hasEarlier"] else "")
    )
    exit_code = "" if instance["exitCode"] is None else f", exit {instance['exitCode']}"
    print(
        f"==> task {task['id']} {task['name']}, attempt {number} of "
        f"{len(task['instances']['items'])} (task instance {instance['id']}, "
        f"{instance['status']}{exit_code}): {stream.lower()} {last['path']} ({shown}) <==",
        file=sys.stderr,
    )
    sys.stdout.write(text)
    if text and not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    if first["hasEarlier"]:
        print(
            f"==> {first['start']} earlier bytes not shown: --all shows the whole file <==",
            file=sys.stderr,
        )


def _pick(
    task: dict[str, Any], attempt: int | None, task_instance_id: int | None
) -> tuple[int, dict[str, Any]]:
    """The attempt's number (from 1) and instance: the latest unless one is named."""
    instances = task["instances"]["items"]
    name = f"task {task['id']} ({task['name']})"
    if not instances:
        raise UsageError(f"{name} has no attempts yet (it is {task['status']}): no logs to show")
    if task_instance_id is not None:
        for number, instance in enumerate(instances, start=1):
            if instance["id"] == task_instance_id:
                return number, instance
        ids = ", ".join(str(i["id"]) for i in instances)
        raise UsageError(
            f"task instance {task_instance_id} is not an attempt of {name}; its attempts are {ids}"
        )
    if attempt is None:
        return len(instances), instances[-1]
    if not 1 <= attempt <= len(instances):
        raise UsageError(
            f"{name} has {len(instances)} attempt(s): --attempt takes 1 to {len(instances)}"
        )
    return attempt, instances[attempt - 1]


def _read(
    client: GraphQLClient,
    instance_id: int,
    stream: str,
    max_bytes: int | None,
    number: int,
    task: dict[str, Any],
) -> list[dict[str, Any]]:
    """The last ``max_bytes`` of the log in order, or all of it (``None``), page by page."""
    chunks: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        want = PAGE_BYTES if max_bytes is None else min(PAGE_BYTES, max_bytes - _length(chunks))
        variables = {"id": instance_id, "stream": stream, "before": before, "maxBytes": want}
        chunk = query(client, LOG, variables, "taskInstanceLog")
        if "unreadablePath" in chunk:
            where = f" at {chunk['unreadablePath']}" if chunk["unreadablePath"] else ""
            raise UsageError(
                f"cannot show the {stream.lower()} of task {task['id']} attempt {number} "
                f"(task instance {instance_id}){where}: {chunk['message']}"
            )
        chunks.insert(0, chunk)
        # Only a full page asks for more: a shorter one started on a line, as the tail should.
        if not chunk["hasEarlier"] or want < PAGE_BYTES or chunk["start"] == chunk["end"]:
            return chunks
        before = chunk["start"]


def _length(chunks: list[dict[str, Any]]) -> int:
    return sum(c["end"] - c["start"] for c in chunks)
