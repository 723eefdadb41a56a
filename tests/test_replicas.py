"""Two server processes on one PostgreSQL database serve one workflow together.

The replicas poll for each other's events only every minute here, so whatever reaches a
subscriber sooner was told by PostgreSQL's NOTIFY.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from jobmon_client import Tool, Workflow
from jobmon_client.transport import GraphQLClient
from jobmon_server.db.migrate import upgrade
from jobmon_server.embedded import free_port

from tests.conftest import WorkerThread
from tests.helpers import wait_until_healthy, workflow

JOBMON = str(Path(sys.executable).parent / "jobmon")
POLL_SECONDS = 60
# Nothing else wakes a replica's event reader early: not its polling, not its own duties.
QUIET = {
    name: str(POLL_SECONDS)
    for name in (
        "JOBMON_EVENT_POLL_SECONDS",
        "JOBMON_REAPER_INTERVAL",
        "JOBMON_STALL_CHECK_INTERVAL",
    )
}


class Replicas(NamedTuple):
    a: str
    b: str
    db_url: str


@pytest.fixture(scope="module")
def replicas(make_database, tmp_path_factory) -> Iterator[Replicas]:  # type: ignore[no-untyped-def]
    db_url = make_database("postgresql")
    upgrade(db_url)
    processes, urls = [], []
    for _ in range(2):
        port = free_port()
        processes.append(
            subprocess.Popen(
                [JOBMON, "server", "--port", str(port), "--db", db_url, "--log-level", "warning"],
                stdout=subprocess.DEVNULL,
                env={**os.environ, **QUIET},
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_until_healthy(url, process)
        yield Replicas(urls[0], urls[1], db_url)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


def define(url: str, label: str) -> Workflow:
    tool = Tool(name="replicas", server_url=url)
    tool.set_default_cluster_name("multiprocess")
    step = tool.get_task_template(
        template_name="step", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name="replicas", workflow_args=label)
    first = step.create_task(n=0)
    wf.add_tasks([first, *step.create_tasks(n=range(1, 20), upstream_tasks=[first])])
    return wf


def test_bound_through_one_replica_and_run_through_the_other(
    replicas: Replicas, tmp_path: Path
) -> None:
    a, b, _ = replicas
    label = f"replicas-{time.time_ns()}"
    bound_id = define(a, label).bind()
    worker = WorkerThread(a, "multiprocess", 2, tmp_path)  # claims through A
    try:
        again = define(b, label)
        result = again.run(seconds_until_timeout=120)  # binds and runs through B
    finally:
        worker.stop()
    assert (result.final_status, again.workflow_id) == ("DONE", bound_id)
    assert workflow(a, bound_id)["status"] == "DONE"  # A sees what B's run wrote


def test_a_subscriber_on_one_replica_sees_what_the_other_writes(
    replicas: Replicas, tmp_path: Path
) -> None:
    from tests.test_subscriptions import EVENTS, Collector, is_workflow_end

    a, b, _ = replicas
    wf = define(a, f"fan-out-{time.time_ns()}")
    wf_id = wf.bind()
    on_b = Collector(b, EVENTS, {"id": wf_id, "after": None}, "workflowEvents")
    worker = WorkerThread(a, "multiprocess", 2, tmp_path)
    try:
        assert wf.run(seconds_until_timeout=120).final_status == "DONE"  # all through A
    finally:
        worker.stop()
    seen = on_b.take_until(is_workflow_end)
    done = [e for e in seen if e["entity"] == "task" and e["toStatus"] == "DONE"]
    assert len(done) == 20
    cursors = [int(e["cursor"]) for e in seen]
    assert cursors == sorted(set(cursors))


def halt_through_a_seen_on_b(
    replicas: Replicas, label: str, between: Callable[[int], None] = lambda _: None
) -> tuple[list[dict[str, Any]], float]:
    """Start a run through A; once a subscriber on B has seen it, call ``between`` with the
    workflow id, stop the run through A, and answer B's events up to the workflow's HALTED
    and the seconds from the stop until B had them."""
    from tests.test_subscriptions import EVENTS, Collector

    wf_id = define(replicas.a, f"{label}-{time.time_ns()}").bind()
    on_b = Collector(replicas.b, EVENTS, {"id": wf_id, "after": None}, "workflowEvents")
    with GraphQLClient(replicas.a) as client:
        run = client.execute(
            'mutation($id: Int!) { startWorkflowRun(workflowId: $id, user: "r") {'
            " ... on WorkflowRun { id } } }",
            {"id": wf_id},
        )["startWorkflowRun"]
        on_b.take_until(lambda e: e["entity"] == "workflow_run")  # B's stream is live now
        between(wf_id)
        client.execute(
            "mutation($id: Int!) { stopWorkflowRun(workflowRunId: $id) { __typename } }",
            {"id": run["id"]},
        )
        stopped = time.monotonic()
    seen = on_b.take_until(lambda e: e["entity"] == "workflow" and e["toStatus"] == "HALTED")
    return seen, time.monotonic() - stopped


def test_a_commit_on_one_replica_reaches_the_others_subscriber_at_once(
    replicas: Replicas,
) -> None:
    seen, waited = halt_through_a_seen_on_b(replicas, "notify")
    assert seen[-1]["toStatus"] == "HALTED"
    assert waited < POLL_SECONDS / 10, f"B heard of A's commit after {waited:.1f} s"


def test_events_after_a_rolled_back_one_arrive_once_its_grace_ends(replicas: Replicas) -> None:
    """A transaction that wrote an event and rolled back leaves a gap in the ids; readers
    wait out the gap's grace, then go on without waiting for their next poll."""
    from jobmon_server.db import models
    from jobmon_server.db.engine import normalize_url
    from jobmon_server.events import GAP_GRACE_SECONDS
    from sqlalchemy import create_engine, insert

    def leave_a_gap(wf_id: int) -> None:
        engine = create_engine(normalize_url(replicas.db_url))
        with engine.connect() as conn:  # takes an id, then gives the row up
            conn.execute(
                insert(models.Event).values(
                    workflow_id=wf_id,
                    entity="workflow",
                    entity_id=wf_id,
                    from_status=None,
                    to_status="RUNNING",
                    note="rolled back",
                    time=datetime.now(UTC).replace(tzinfo=None),
                )
            )
            conn.rollback()
        engine.dispose()

    seen, waited = halt_through_a_seen_on_b(replicas, "gap", leave_a_gap)
    cursors = [int(e["cursor"]) for e in seen]
    assert cursors == sorted(set(cursors))
    assert GAP_GRACE_SECONDS - 0.5 < waited < GAP_GRACE_SECONDS + 3, waited
