"""What keeps a large workflow cheap, shown by what is sent and stored, not by timing:
a bound workflow is confirmed without re-sending its tasks, a run instantiates only what
its limits let run, a resent run start answers the first run, the task page's lookup of
the latest attempt uses an index, and stop racing a busy worker never fails."""

from __future__ import annotations

import getpass
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from jobmon_client import Tool, Workflow
from jobmon_client.transport import GraphQLClient
from jobmon_server.db.engine import normalize_url
from sqlalchemy import create_engine, text

from tests.conftest import Stack
from tests.helpers import wait_until, workflow

USER = getpass.getuser()  # whom the client binds as

START = """
mutation($id: Int!, $key: String, $user: String!) {
  startWorkflowRun(workflowId: $id, user: $user, clientKey: $key) {
    __typename ... on WorkflowRun { id status } ... on Error { message }
  }
}"""

STOP = """
mutation($id: Int!, $user: String!) {
  stopWorkflow(workflowId: $id, user: $user) {
    __typename ... on WorkflowRun { id status } ... on Error { message }
  }
}"""


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """The mutations and queries the client sends, by their first field's name."""
    counts: Counter[str] = Counter()
    original = GraphQLClient.execute

    def counting(self: GraphQLClient, document: str, variables: object = None) -> dict:
        body = document.split("{", 1)[1].strip()
        counts[body.split("(", 1)[0].split("{", 1)[0].split()[0]] += 1
        return original(self, document, variables)  # type: ignore[arg-type]

    monkeypatch.setattr(GraphQLClient, "execute", counting)
    yield counts


def build(label: str, n: int, cluster: str = "multiprocess", limit: int = 10_000) -> Workflow:
    tool = Tool(name=f"large_{label}")
    tool.set_default_cluster_name(cluster)
    tool.set_default_compute_resources_from_dict(cluster, {"cores": 1, "runtime": "10m"})
    first = tool.get_task_template(
        template_name="first", command_template="true {i}", node_args=["i"]
    )
    second = tool.get_task_template(
        template_name="second", command_template="true {i}", node_args=["i"]
    )
    heads = first.create_tasks(i=list(range(n // 2)))
    tails = [second.create_task(i=i, upstream_tasks=[heads[i]]) for i in range(n - n // 2)]
    wf = tool.create_workflow(
        name=f"large_{label}", workflow_args=label, max_concurrently_running=limit
    )
    wf.add_tasks([*heads, *tails])
    return wf


def test_binding_a_bound_workflow_again_sends_none_of_its_tasks(
    stack: Stack, server_url: str, unique: str, sent: Counter[str]
) -> None:
    first = build(unique, 2_000)
    workflow_id = first.bind()
    assert sent["bindTasks"] >= 1 and sent["bindEdges"] >= 1
    sent.clear()

    again = build(unique, 2_000)
    assert again.bind() == workflow_id
    # the digest alone found it: no identity hashes, no tasks, no edges
    assert sent["bindWorkflow"] == 1, dict(sent)
    assert sent["bindTasks"] == 0 and sent["bindEdges"] == 0, dict(sent)
    # The tasks' ids are still there when asked for, read in bulk.
    ids = {task.task_id for task in again.tasks.values()}
    assert len(ids) == 2_000 and None not in ids


def test_a_changed_task_is_bound_again_into_the_same_workflow(
    stack: Stack, server_url: str, unique: str, sent: Counter[str]
) -> None:
    first = build(unique, 200)
    workflow_id = first.bind()
    sent.clear()

    changed = build(unique, 200)
    task = next(t for t in changed.tasks.values() if t.name == "second_i-7")
    task.command = "true changed"  # the same task (node args), with another command
    assert changed.bind() == workflow_id
    # no workflow holds this digest: the identity hashes find it, and the tasks are sent
    assert sent["bindWorkflow"] == 2 and sent["bindTasks"] == 1, dict(sent)
    command = GraphQLClient(server_url).execute(
        "query($id: Int!) { task(id: $id) { ... on Task { command } } }", {"id": task.task_id}
    )["task"]["command"]
    assert command == "true changed"
    sent.clear()

    assert build(unique, 200).bind() == workflow_id  # changed back: bound again, once more
    assert sent["bindWorkflow"] == 2 and sent["bindTasks"] == 1, dict(sent)


def test_a_bind_by_digest_alone_names_what_it_lacks(stack: Stack, unique: str) -> None:
    tool = stack.query(
        "mutation($name: String!) { bindTool(name: $name) { ... on ToolVersion { id } } }",
        name=f"digest_{unique}",
    )
    version = tool["bindTool"]["id"]
    bind = """mutation($input: WorkflowInput!) { bindWorkflow(input: $input) {
        __typename ... on Error { message } } }"""
    base = {"toolVersionId": version, "name": "w", "workflowArgs": unique, "user": USER}
    answer = stack.query(bind, input=base)["bindWorkflow"]
    assert answer["__typename"] == "ValidationError"
    assert "taskHash and dagHash are required unless bindDigest" in answer["message"]
    answer = stack.query(bind, input={**base, "bindDigest": "0" * 40})["bindWorkflow"]
    assert answer["__typename"] == "NotFound"
    assert "send taskHash and dagHash" in answer["message"]


def test_a_bind_in_many_chunks_two_at_a_time_gives_every_task_its_own_id(
    stack: Stack, server_url: str, unique: str, sent: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobmon_client import binding

    monkeypatch.setattr(binding, "TASK_CHUNK_SIZE", 150)
    monkeypatch.setattr(binding, "EDGE_CHUNK_SIZE", 110)
    wf = build(unique, 2_000)
    workflow_id = wf.bind()
    assert sent["bindTasks"] == 14 and sent["bindEdges"] == 10, dict(sent)
    # each task's id is the server's id of that task (its name), whatever order the
    # chunks were answered in, and every edge landed once
    client = GraphQLClient(server_url)
    stored: dict[str, int] = {}
    after = None
    while True:
        page = client.execute(
            """query($id: Int!, $after: String) { workflow(id: $id) { ... on Workflow {
                 tasks(first: 1000, after: $after) { items { id name } endCursor hasNextPage }
            } } }""",
            {"id": workflow_id, "after": after},
        )["workflow"]["tasks"]
        stored.update((t["name"], int(t["id"])) for t in page["items"])
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert {t.name: t.task_id for t in wf.tasks.values()} == stored
    edges = client.execute(
        """query($id: Int!) { workflow(id: $id) { ... on Workflow {
             edges(first: 1000) { items { upstreamId downstreamId } hasNextPage } } } }""",
        {"id": workflow_id},
    )["workflow"]["edges"]
    by_name = {t.task_id: t for t in wf.tasks.values()}
    pairs = {(e["upstreamId"], e["downstreamId"]) for e in edges["items"]}
    assert len(edges["items"]) == len(pairs) == 1_000 and not edges["hasNextPage"]
    assert all({u.task_id for u in by_name[down].upstream_tasks} == {up} for up, down in pairs)


def test_starting_a_large_run_instantiates_only_what_its_limit_lets_run(
    stack: Stack, server_url: str, unique: str
) -> None:
    # No worker serves `sequential` here, so nothing is claimed while the test looks.
    wf = build(unique, 4_000, cluster="sequential", limit=5)
    workflow_id = wf.bind()
    with GraphQLClient(stack.url) as client:
        run = client.execute(START, {"id": workflow_id, "key": None, "user": USER})[
            "startWorkflowRun"
        ]
        assert run["__typename"] == "WorkflowRun", run
        try:
            engine = create_engine(normalize_url(stack.db_url))
            with engine.connect() as conn:
                instances = conn.execute(
                    text(
                        "SELECT count(*) FROM task_instance ti JOIN task t ON t.id = ti.task_id "
                        "WHERE t.workflow_id = :w"
                    ),
                    {"w": workflow_id},
                ).scalar_one()
                by_status = dict(
                    conn.execute(
                        text(
                            "SELECT status, count(*) FROM task WHERE workflow_id = :w "
                            "GROUP BY status"
                        ),
                        {"w": workflow_id},
                    ).all()
                )
            engine.dispose()
        finally:
            client.execute(STOP, {"id": workflow_id, "user": USER})
    assert instances <= 5, instances
    assert by_status.get("QUEUED", 0) <= 5, by_status
    assert sum(by_status.values()) == 4_000


def test_a_resent_run_start_answers_the_run_the_first_started(
    stack: Stack, server_url: str, unique: str
) -> None:
    wf = build(unique, 10, cluster="sequential")
    workflow_id = wf.bind()
    key = uuid.uuid4().hex
    with GraphQLClient(stack.url) as client:
        first = client.execute(START, {"id": workflow_id, "key": key, "user": USER})[
            "startWorkflowRun"
        ]
        resent = client.execute(START, {"id": workflow_id, "key": key, "user": USER})[
            "startWorkflowRun"
        ]
        other = start(client, workflow_id, uuid.uuid4().hex)
        client.execute(STOP, {"id": workflow_id, "user": USER})
    assert first["__typename"] == "WorkflowRun", first
    assert resent == first
    # A start with another key while that run goes on is a second start: refused.
    assert other["__typename"] != "WorkflowRun", other


def test_the_task_page_finds_the_latest_attempt_by_index(stack: Stack) -> None:
    if stack.backend != "postgresql":
        pytest.skip("the plan is checked on PostgreSQL, where a missing index hurt")
    from jobmon_server import reads
    from jobmon_server.db import models

    statement = (
        reads._task_detail().where(models.Task.workflow_id == 1).order_by(models.Task.id).limit(100)
    )
    engine = create_engine(normalize_url(stack.db_url))
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        # A tiny table would be scanned whatever its indexes; without scans the plan
        # shows which index the lookup can use.
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
    engine.dispose()
    lookup = [line for line in plan.splitlines() if "task_instance" in line]
    assert lookup and all("ix_ti_task_id_id" in line for line in lookup), plan


def test_stop_while_the_worker_reports_and_claims_is_answered_every_time(
    stack: Stack, server_url: str, unique: str
) -> None:
    for attempt in range(3):
        _run_and_stop(stack, build(f"{unique}_{attempt}", 1_500))


def _run_and_stop(stack: Stack, wf: Workflow) -> None:
    workflow_id = wf.run(detach=True).workflow_id
    # Stop while the worker is busy with this run.
    wait_until(lambda: _done(stack.url, workflow_id) >= 50, "50 tasks are DONE", timeout=120)
    with GraphQLClient(stack.url) as client:
        stopped = client.execute(STOP, {"id": workflow_id, "user": USER})["stopWorkflow"]
    assert stopped["__typename"] == "WorkflowRun", stopped
    wait_until(
        lambda: workflow(stack.url, workflow_id)["status"] == "HALTED",
        "the workflow is HALTED",
    )
    wait_until(
        lambda: _live(stack.db_url, workflow_id) == 0,
        "no attempt of the stopped run is live",
    )


def start(client: GraphQLClient, workflow_id: int, key: str | None) -> dict:
    variables = {"id": workflow_id, "key": key, "user": USER}
    return client.execute(START, variables)["startWorkflowRun"]  # type: ignore[no-any-return]


def _done(url: str, workflow_id: int) -> int:
    counts = workflow(url, workflow_id)["taskCounts"]
    return sum(c["count"] for c in counts if c["status"] == "DONE")


def _live(db_url: str, workflow_id: int) -> int:
    engine = create_engine(normalize_url(db_url))
    with engine.connect() as conn:
        live = conn.execute(
            text(
                "SELECT count(*) FROM task_instance ti JOIN task t ON t.id = ti.task_id "
                "WHERE t.workflow_id = :w AND ti.status IN "
                "('QUEUED', 'INSTANTIATED', 'LAUNCHED', 'RUNNING', 'KILL_SELF')"
            ),
            {"w": workflow_id},
        ).scalar_one()
    engine.dispose()
    return int(live)
