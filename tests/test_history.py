"""A workflow's history (task counts by status over time, bucketed on the server) and its
error groups' outcomes, on each database, against real runs."""

from __future__ import annotations

from pathlib import Path

from jobmon_client import Tool

from tests.conftest import Stack

HISTORY = """
query($id: Int!, $buckets: Int!) {
  workflowHistory(workflowId: $id, buckets: $buckets) {
    __typename
    ... on WorkflowHistory { start end bucketSeconds times series { status counts }
                             runs { id status start end } }
    ... on Error { message }
  }
  workflow(id: $id) {
    ... on Workflow {
      totalTasks taskCounts { status count } latestRun { id }
      errorGroups { example count taskCount fatalTaskCount recoveredTaskCount latestRunId }
    }
  }
}"""


def test_history_walks_back_from_the_counts_and_groups_say_fatal_or_recovered(
    stack: Stack, server_url: str, unique: str, tmp_path: Path
) -> None:
    tool = Tool(name="history", server_url=server_url)
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict("multiprocess", {"memory": "1G", "runtime": "1m"})
    template = tool.get_task_template(
        template_name="t", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    once = "if [ -e {m} ]; then true; else touch {m}; echo 'flaky disk 3' >&2; exit 1; fi"
    commands = ["sleep 0.2"] * 5 + [once.format(m=tmp_path / f"m{i}") for i in range(2)]
    commands += ["echo 'location 4 has no data' >&2; exit 2"]
    wf = tool.create_workflow(name="history", workflow_args=f"history-{unique}")
    wf.add_tasks([template.create_task(n=i, cmd=c, max_attempts=2) for i, c in enumerate(commands)])
    assert wf.run().final_status == "FAILED"

    found = stack.query(HISTORY, id=wf.workflow_id, buckets=50)
    history, workflow = found["workflowHistory"], found["workflow"]
    assert history["__typename"] == "WorkflowHistory"
    assert len(history["times"]) == 50
    series = {s["status"]: s["counts"] for s in history["series"]}
    # each bucket accounts for every task, and the last is the counts kept now
    for i in range(50):
        assert sum(counts[i] for counts in series.values()) == workflow["totalTasks"] == 8
    now = {c["status"]: c["count"] for c in workflow["taskCounts"]}
    assert {s: c[-1] for s, c in series.items() if c[-1]} == {s: n for s, n in now.items() if n}
    assert series["DONE"][-1] == 7 and series["ERROR_FATAL"][-1] == 1
    assert series["DONE"][0] < 7  # it was not always done: the run is in the buckets
    assert max(series["RUNNING"]) > 0
    assert [r["id"] for r in history["runs"]] == [workflow["latestRun"]["id"]]
    assert history["runs"][0]["end"] is not None

    groups = {g["example"]: g for g in workflow["errorGroups"]}
    fatal, flaky = groups["location 4 has no data"], groups["flaky disk 3"]
    assert (fatal["fatalTaskCount"], fatal["recoveredTaskCount"], fatal["count"]) == (1, 0, 2)
    assert (flaky["fatalTaskCount"], flaky["recoveredTaskCount"], flaky["taskCount"]) == (0, 2, 2)
    assert workflow["errorGroups"][0]["example"] == "location 4 has no data"  # fatal first
    assert fatal["latestRunId"] == workflow["latestRun"]["id"]

    again = stack.query(HISTORY, id=wf.workflow_id, buckets=50)["workflowHistory"]
    assert again == history  # a finished workflow's history does not move

    refused = stack.query(HISTORY, id=wf.workflow_id, buckets=1001)["workflowHistory"]
    assert refused == {"__typename": "ValidationError", "message": refused["message"]}
    assert "at most" in refused["message"] or "between 1 and 1000" in refused["message"]
    missing = stack.query(HISTORY, id=10**9, buckets=10)["workflowHistory"]
    assert missing["__typename"] == "NotFound"
