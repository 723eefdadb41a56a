"""Subscriptions against a real server, on every database: replay then live, reconnecting
without loss or duplicates, alerts by filter, and `jobmon alerts`."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from jobmon_client import Tool, Workflow

from tests.conftest import Stack
from tests.helpers import Collector, wait_until

TIMEOUT = 60.0
JOBMON = str(Path(sys.executable).parent / "jobmon")
EVENTS = """
subscription($id: Int!, $after: String) {
  workflowEvents(workflowId: $id, after: $after) { cursor entity entityId toStatus }
}"""
ALERTS = """
subscription($ids: [Int!], $kinds: [AlertKind!], $users: [String!], $after: String) {
  alerts(workflowIds: $ids, kinds: $kinds, users: $users, after: $after) {
    cursor kind workflowId user entityId message taskId taskName exitCode errorLine
  }
}"""


def workflow_of(url: str, name: str, commands: list[str]) -> tuple[Workflow, list[Any]]:
    tool = Tool(name=name, server_url=url)
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(
        template_name="t", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    wf = tool.create_workflow(name=name, workflow_args=name)
    tasks = [template.create_task(n=i, cmd=c, max_attempts=1) for i, c in enumerate(commands)]
    wf.add_tasks(tasks)
    return wf, tasks


def is_workflow_end(event: dict[str, Any]) -> bool:
    return event["entity"] == "workflow" and event["toStatus"] in ("DONE", "FAILED")


def test_replay_then_live_then_reconnect_without_loss_or_duplicates(
    stack: Stack, unique: str
) -> None:
    wf, tasks = workflow_of(stack.url, f"events_{unique}", ["true"] * 3)
    wf_id = wf.bind()
    live = Collector(stack.url, EVENTS, {"id": wf_id, "after": None}, "workflowEvents")
    assert wf.run().final_status == "DONE"
    seen = live.take_until(is_workflow_end)
    cursors = [int(e["cursor"]) for e in seen]
    assert cursors == sorted(set(cursors)), "events out of order or repeated"
    done = {e["entityId"] for e in seen if e["entity"] == "task" and e["toStatus"] == "DONE"}
    assert done == {t.task_id for t in tasks}

    # A client that saw the first five reconnects with the fifth cursor: it gets the rest.
    first = Collector(stack.url, EVENTS, {"id": wf_id, "after": None}, "workflowEvents").take(5)
    resumed = Collector(
        stack.url, EVENTS, {"id": wf_id, "after": first[-1]["cursor"]}, "workflowEvents"
    ).take_until(is_workflow_end)
    assert first + resumed == seen


def test_a_subscriber_that_comes_while_the_idle_hub_reads_is_handed_every_later_event(
    stack: Stack, unique: str
) -> None:
    """With nobody subscribed the hub only keeps its horizon current; a subscriber that
    comes while that read is out starts at the horizon as it was, and must be handed every
    event after it."""
    from jobmon_server.db import models
    from jobmon_server.db.engine import Database
    from jobmon_server.events import GAP_GRACE_SECONDS, EventHub, last_event_id
    from sqlalchemy import select

    wf, _ = workflow_of(stack.url, f"idle_hub_{unique}", ["true"] * 3)
    assert wf.run().final_status == "DONE"
    database = Database(stack.db_url)
    with database.read() as session:
        newest = list(
            session.scalars(select(models.Event.id).order_by(models.Event.id.desc()).limit(6))
        )
    hub = EventHub(database, poll_seconds=0.05, notify=False)
    hub.horizon = newest[-1]  # five events were committed since the hub last looked
    read_out, release = threading.Event(), threading.Event()
    real_read = hub._read

    def held_read(fn: Any, *args: Any) -> Any:
        answer = real_read(fn, *args)
        if fn is last_event_id and not release.is_set():
            read_out.set()  # the newest id is read; the hub has not moved its horizon yet
            release.wait(10)
        return answer

    hub._read = held_read  # type: ignore[method-assign]

    async def scenario() -> list[int]:
        following = asyncio.create_task(hub._follow())
        try:
            assert await asyncio.to_thread(read_out.wait, 10)
            subscriber = hub.subscribe(lambda row: True)
            assert subscriber.start == newest[-1]
            release.set()
            handed: list[int] = []
            while len(handed) < 5:
                row = await asyncio.wait_for(subscriber.queue.get(), GAP_GRACE_SECONDS + 5)
                assert row is not None
                handed.append(row.id)
            return handed
        finally:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)

    try:
        assert asyncio.run(scenario()) == sorted(newest[:-1])
    finally:
        database.dispose()


def test_alerts_by_workflow_and_kind(stack: Stack, unique: str) -> None:
    wf, tasks = workflow_of(
        stack.url,
        f"alerts_{unique}",
        ["true", "echo Traceback >&2; echo 'ValueError: no draws for location 3' >&2; exit 3"],
    )
    wf_id = wf.bind()
    both = Collector(
        stack.url, ALERTS, {"ids": [wf_id], "kinds": None, "users": None, "after": None}, "alerts"
    )
    ended = Collector(
        stack.url,
        ALERTS,
        {"ids": [wf_id], "kinds": ["WORKFLOW_FAILED"], "users": None, "after": None},
        "alerts",
    )
    assert wf.run().final_status == "FAILED"
    got = both.take_until(lambda a: a["kind"] == "WORKFLOW_FAILED")
    assert [(a["kind"], a["entityId"]) for a in got] == [
        ("TASK_FATAL", tasks[1].task_id),
        ("WORKFLOW_FAILED", wf_id),
    ]
    assert got[0]["message"] == (
        f"task {tasks[1].task_id} 't_n-1' of workflow {wf_id} failed for good (ERROR_FATAL), "
        "exit 3: ValueError: no draws for location 3"
    )
    assert (got[0]["taskId"], got[0]["taskName"], got[0]["exitCode"], got[0]["errorLine"]) == (
        tasks[1].task_id,
        "t_n-1",
        3,
        "ValueError: no draws for location 3",
    )
    assert got[1]["taskId"] is None and got[1]["message"] == f"workflow {wf_id} FAILED"
    assert [a["kind"] for a in ended.take_until(lambda a: True)] == ["WORKFLOW_FAILED"]
    # Replayed later, by owner: the same alerts, in the same order.
    mine = Collector(
        stack.url,
        ALERTS,
        {"ids": [wf_id], "kinds": None, "users": [got[0]["user"], "someone-else"], "after": None},
        "alerts",
    ).take_until(lambda a: a["kind"] == "WORKFLOW_FAILED")
    assert mine == got


def test_a_resource_retry_alert_names_the_attempt_that_ran_out_also_when_replayed(
    stack: Stack, unique: str
) -> None:
    """Each attempt runs out of runtime: each retry alert tells of its own attempt (runtime
    limit 1s, then a larger one), live and replayed alike (a replay must not take a later
    attempt), and the fatal alert of the last."""
    tool = Tool(name=f"retry_alerts_{unique}", server_url=stack.url)
    tool.set_default_cluster_name("multiprocess")
    template = tool.get_task_template(template_name="slow", command_template="sleep 30")
    task = template.create_task(
        name="slow", max_attempts=2, compute_resources={"runtime": "1s", "memory": "1G"}
    )
    wf = tool.create_workflow(name="retry_alerts", workflow_args=unique)
    wf.add_tasks([task])
    wf_id = wf.bind()
    variables = {"ids": [wf_id], "kinds": ["RESOURCE_RETRY", "TASK_FATAL"], "users": None}
    live = Collector(stack.url, ALERTS, {**variables, "after": None}, "alerts")
    assert wf.run().final_status == "FAILED"

    def fatal(alert: dict[str, Any]) -> bool:
        return alert["kind"] == "TASK_FATAL"

    got = live.take_until(fatal)
    replayed = Collector(stack.url, ALERTS, {**variables, "after": None}, "alerts")
    assert replayed.take_until(fatal) == got
    *retries, last = got
    assert retries and {a["kind"] for a in retries} == {"RESOURCE_RETRY"}
    assert {a["taskName"] for a in got} == {"slow"}
    lines = [a["errorLine"] for a in got]
    assert lines[0] == "runtime limit of 1s exceeded"
    assert all(re.fullmatch(r"runtime limit of \S+ exceeded", line) for line in lines), lines
    assert len(set(lines[:-1])) == len(retries)  # each retry names its own attempt
    attempts = stack.query(
        "query($id: Int!) { task(id: $id) {"
        " ... on Task { instances(first: 10) { items { errorMessage } } } } }",
        id=task.task_id,
    )["task"]["instances"]["items"]
    assert len(attempts) == len(retries)
    assert last["errorLine"] == attempts[-1]["errorMessage"].strip().splitlines()[-1]


def test_the_alerts_command_prints_and_runs_a_command_per_alert(
    stack: Stack, unique: str, tmp_path: Path
) -> None:
    wf, tasks = workflow_of(stack.url, f"cli_alerts_{unique}", ["echo disk full >&2; exit 1"])
    wf_id = wf.bind()
    with stack.client() as client:
        cursor = client.execute("{ lastEventCursor }")["lastEventCursor"]
    record = tmp_path / "alerts.jsonl"
    process = subprocess.Popen(
        [
            JOBMON,
            "alerts",
            "-w",
            str(wf_id),
            "--after",
            cursor,
            "--json",
            "--exec",
            f"cat >> {record}; echo >> {record}",
        ],
        env={**os.environ, "JOBMON_SERVER_URL": stack.url},
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        assert wf.run().final_status == "FAILED"
        printed = [json.loads(lines.get(timeout=TIMEOUT)) for _ in range(2)]
        wait_until(
            lambda: record.exists() and len(record.read_text().splitlines()) >= 2,
            "the --exec command runs per alert",
            TIMEOUT,
        )
    finally:
        process.terminate()
        process.wait(30)
    assert [(a["kind"], a["entityId"]) for a in printed] == [
        ("TASK_FATAL", tasks[0].task_id),
        ("WORKFLOW_FAILED", wf_id),
    ]
    assert [json.loads(x) for x in record.read_text().splitlines()] == printed
    assert (printed[0]["taskName"], printed[0]["exitCode"], printed[0]["errorLine"]) == (
        "t_n-0",
        1,
        "disk full",
    )
    assert printed[0]["message"].endswith(
        f"'t_n-0' of workflow {wf_id} failed for good (ERROR_FATAL), exit 1: disk full"
    )


def test_the_alerts_command_refuses_an_unknown_workflow(stack: Stack) -> None:
    done = subprocess.run(
        [JOBMON, "alerts", "-w", "987654321"],
        env={**os.environ, "JOBMON_SERVER_URL": stack.url},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 1
    assert done.stderr == "error: workflow 987654321 does not exist\n"


def test_a_run_without_progress_raises_one_stalled_alert(make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from jobmon_server.embedded import start
    from jobmon_server.settings import Settings

    from tests.conftest import WorkerThread

    settings = Settings(db_url=make_database("sqlite"), stall_seconds=1.0, stall_check_interval=0.2)
    server = start(port=0, settings=settings)
    worker = WorkerThread(server.url, "multiprocess", 1, tmp_path)
    try:
        wf, _ = workflow_of(server.url, "stalls", ["sleep 4"])
        wf_id = wf.bind()
        stalled = Collector(
            server.url,
            ALERTS,
            {"ids": [wf_id], "kinds": ["RUN_STALLED"], "users": None, "after": None},
            "alerts",
        )
        assert wf.run().final_status == "DONE"
        [alert] = stalled.take_until(lambda a: True)
        assert alert["kind"] == "RUN_STALLED"
        assert f"of workflow {wf_id} made no progress (no progress for" in alert["message"]
        replayed = Collector(
            server.url,
            ALERTS,
            {
                "ids": [wf_id],
                "kinds": ["RUN_STALLED", "WORKFLOW_DONE"],
                "users": None,
                "after": None,
            },
            "alerts",
        ).take_until(lambda a: a["kind"] == "WORKFLOW_DONE")
        assert [a["kind"] for a in replayed] == ["RUN_STALLED", "WORKFLOW_DONE"]  # flagged once
    finally:
        worker.stop()
        server.stop()
