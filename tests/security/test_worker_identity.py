"""Worker mutations need a worker token of their cluster, a worker id is its announcing
token's, and a report, heartbeat or adoption counts only from the lease's holder."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from jobmon_client.worker import Worker, WorkerError
from jobmon_server.db.engine import Database
from sqlalchemy import text

from tests.security.conftest import Secure, alices_tool, unique

ANNOUNCE = """mutation($w: String!, $c: String!) {
  announceWorker(workerId: $w, clusterName: $c, hostname: "node1", version: "1") {
    __typename ... on Error { message } } }"""
CLAIM = """mutation($w: String!, $c: String!) {
  claimTaskInstances(clusterName: $c, workerId: $w, limit: 10) { instances { id command } } }"""
REPORT = """mutation($w: String!, $r: [InstanceReport!]!) {
  reportTaskInstances(workerId: $w, reports: $r) {
    accepted ignored refused { taskInstanceId message } } }"""
HEARTBEAT = """mutation($w: String!, $ids: [Int!]!) {
  heartbeat(workerId: $w, taskInstanceIds: $ids, nextReportSeconds: 3600) {
    killInstanceIds } }"""
ADOPT = """mutation($w: String!, $c: String!, $from: [String!]) {
  adoptTaskInstances(clusterName: $c, workerId: $w, fromWorkerIds: $from) { id } }"""
SYNC = """mutation($w: String!, $c: String!, $r: JSON!) {
  workerSync(workerId: $w, clusterName: $c, reports: $r, claimLimit: 10) {
    accepted instances } }"""
STOPPED = "mutation($w: String!) { workerStopped(workerId: $w) }"
REGISTER = """mutation($c: String!) {
  registerCluster(name: $c, distributor: "sequential", queues: []) {
    __typename ... on Error { message } } }"""


def worker_mutations(worker_id: str, cluster: str, instance_id: int) -> list[tuple[str, str, dict]]:
    """Every worker mutation, as ``worker_id`` of ``cluster`` on one instance."""
    done = [{"taskInstanceId": instance_id, "status": "DONE"}]
    return [
        ("registerCluster", REGISTER, {"c": cluster}),
        ("announceWorker", ANNOUNCE, {"w": worker_id, "c": cluster}),
        ("workerStopped", STOPPED, {"w": worker_id}),
        ("adoptTaskInstances", ADOPT, {"w": worker_id, "c": cluster, "from": None}),
        ("claimTaskInstances", CLAIM, {"w": worker_id, "c": cluster}),
        ("workerSync", SYNC, {"w": worker_id, "c": cluster, "r": done}),
        ("reportTaskInstances", REPORT, {"w": worker_id, "r": done}),
        ("heartbeat", HEARTBEAT, {"w": worker_id, "ids": [instance_id]}),
    ]


def refusal(body: dict[str, Any], field: str) -> str:
    """The message of a refusal: a PermissionDenied member, or the field's error."""
    answer = (body.get("data") or {}).get(field)
    if isinstance(answer, dict) and answer.get("__typename") == "PermissionDenied":
        return str(answer["message"])
    errors = body.get("errors") or []
    assert errors and answer is None, (field, body)
    return str(errors[0]["message"])


def instances(secure: Secure, workflow_id: int) -> dict[int, dict[str, Any]]:
    database = Database(secure.db_url)
    try:
        with database.read() as session:
            rows = session.execute(
                text(
                    "SELECT id, status, worker_id, claimed_by, report_by_date FROM task_instance "
                    "WHERE workflow_id = :w ORDER BY id"
                ),
                {"w": workflow_id},
            ).all()
    finally:
        database.dispose()
    return {
        r[0]: dict(zip(("id", "status", "worker", "claimed_by", "due"), r, strict=True))
        for r in rows
    }


@pytest.fixture(scope="module")
def queued(secure: Secure) -> tuple[int, list[int]]:
    """Alice's workflow on the sequential cluster, started: its instances wait, queued."""
    with pytest.MonkeyPatch.context() as mp:
        tool = alices_tool(secure, mp, "sequential")
        template = tool.get_task_template(
            template_name="q", command_template="echo {n}", node_args=["n"]
        )
        name = unique()
        wf = tool.create_workflow(name=name, workflow_args=name)
        wf.add_tasks(template.create_tasks(n=[0, 1]))
        wf_id = wf.bind()
    run = secure.data(
        "alice",
        'mutation($w: Int!) { startWorkflowRun(workflowId: $w, user: "alice") { __typename } }',
        w=wf_id,
    )
    assert run["startWorkflowRun"]["__typename"] == "WorkflowRun"
    found = instances(secure, wf_id)
    assert [i["status"] for i in found.values()] == ["QUEUED", "QUEUED"]
    return wf_id, sorted(found)


def test_a_user_token_may_do_no_worker_mutation(
    secure: Secure, queued: tuple[int, list[int]]
) -> None:
    wf_id, ids = queued
    for field, document, variables in worker_mutations("bob-worker", "sequential", ids[0]):
        message = refusal(secure.gql("bob", document, **variables), field)
        assert "only a worker may do this" in message, (field, message)
        assert "jobmon token create --user NAME --worker --cluster" in message
    assert [i["status"] for i in instances(secure, wf_id).values()] == ["QUEUED", "QUEUED"]


def test_a_worker_token_serves_its_own_cluster_only(
    secure: Secure, queued: tuple[int, list[int]]
) -> None:
    wf_id, ids = queued
    for field, document, variables in worker_mutations("mp-stranger", "sequential", ids[0]):
        if "c" not in variables:
            continue  # no cluster named: refused as an unknown worker id (below)
        message = refusal(secure.gql("mp_worker", document, **variables), field)
        assert "serves cluster 'multiprocess', not 'sequential'" in message, (field, message)
    never = refusal(secure.gql("seq_worker", HEARTBEAT, w="never-announced", ids=ids), "heartbeat")
    assert "worker never-announced has not announced itself" in never
    assert [i["status"] for i in instances(secure, wf_id).values()] == ["QUEUED", "QUEUED"]


def test_only_the_lease_holder_reports_heartbeats_or_adopts(
    secure: Secure, queued: tuple[int, list[int]]
) -> None:
    wf_id, ids = queued
    holder, other = f"seq-{unique()}", f"seq-{unique()}"
    for who, worker_id in (("seq_worker", holder), ("seq_other", other)):
        answer = secure.data(who, ANNOUNCE, w=worker_id, c="sequential")["announceWorker"]
        assert answer["__typename"] == "Worker", answer
    claimed = secure.data("seq_worker", CLAIM, w=holder, c="sequential")["claimTaskInstances"]
    assert sorted(i["id"] for i in claimed["instances"]) == ids
    held = instances(secure, wf_id)
    assert all(i["claimed_by"] == holder and i["status"] == "INSTANTIATED" for i in held.values())

    # Another worker token may not use the holder's worker id at all ...
    taken = secure.data("seq_other", ANNOUNCE, w=holder, c="sequential")["announceWorker"]
    assert taken["__typename"] == "PermissionDenied"
    assert f"worker {holder} was announced with another token" in taken["message"]
    for field, document, variables in worker_mutations(holder, "sequential", ids[0]):
        if field in ("registerCluster", "announceWorker"):
            continue
        message = refusal(secure.gql("seq_other", document, **variables), field)
        assert f"worker {holder} was announced with another token" in message, (field, message)
    from_holder = secure.gql("seq_other", ADOPT, w=other, c="sequential", **{"from": [holder]})
    assert "announced with another token" in refusal(from_holder, "adoptTaskInstances")

    # ... and under its own id, the lease decides: reports refused, heartbeats not counted,
    # nothing adopted from a worker of another token.
    report = secure.data(
        "seq_other",
        REPORT,
        w=other,
        r=[
            {"taskInstanceId": i, "status": s} for i in ids for s in ("LAUNCHED", "RUNNING", "DONE")
        ],
    )["reportTaskInstances"]
    assert report["accepted"] == 0
    assert {r["taskInstanceId"] for r in report["refused"]} == set(ids)
    assert all(
        f"held by worker {holder}, not by {other}" in r["message"] for r in report["refused"]
    )
    secure.data("seq_other", HEARTBEAT, w=other, ids=ids)
    adopted = secure.data("seq_other", ADOPT, w=other, c="sequential", **{"from": None})
    assert adopted["adoptTaskInstances"] == []
    assert instances(secure, wf_id) == held  # same holder, same deadline, same status

    # The holder's reports and heartbeats count.
    beat = secure.data("seq_worker", HEARTBEAT, w=holder, ids=ids)["heartbeat"]
    assert beat["killInstanceIds"] == []
    assert all(instances(secure, wf_id)[i]["due"] > held[i]["due"] for i in ids)
    mine = secure.data(
        "seq_worker",
        REPORT,
        w=holder,
        r=[
            {"taskInstanceId": i, "status": s} for i in ids for s in ("LAUNCHED", "RUNNING", "DONE")
        ],
    )["reportTaskInstances"]
    assert mine["accepted"] == 6 and not mine["refused"], mine
    assert [i["status"] for i in instances(secure, wf_id).values()] == ["DONE", "DONE"]


def test_an_admin_token_may_act_as_a_worker(secure: Secure) -> None:
    worker_id = f"ops-{unique()}"
    answer = secure.data("admin", ANNOUNCE, w=worker_id, c="sequential")["announceWorker"]
    assert answer["__typename"] == "Worker"
    claimed = secure.data("admin", CLAIM, w=worker_id, c="sequential")["claimTaskInstances"]
    assert claimed["instances"] == []
    assert secure.data("admin", STOPPED, w=worker_id)["workerStopped"] is True


@pytest.mark.parametrize(
    ("who", "needs"),
    [("bob", "only a worker may do this"), ("mp_worker", "serves cluster 'multiprocess'")],
)
def test_a_worker_without_a_worker_token_for_its_cluster_says_what_it_needs(
    secure: Secure, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, who: str, needs: str
) -> None:
    monkeypatch.delenv("JOBMON_WORKER_TOKEN", raising=False)
    monkeypatch.setenv("JOBMON_TOKEN", secure.tokens[who])
    worker = Worker(
        "sequential", server_url=secure.url, log_dir=tmp_path, state_dir=tmp_path / "workers"
    )
    with pytest.raises(WorkerError, match=needs) as refused:
        worker.run(threading.Event())
    assert "JOBMON_WORKER_TOKEN" in str(refused.value)
