"""Every write into alice's workflow with bob's ordinary token is refused with
PermissionDenied and changes nothing; bob's command never runs inside alice's workflow."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jobmon_client import Tool
from jobmon_client.transport import PermissionDeniedError

from tests.helpers import wait_until
from tests.security.conftest import Secure, alices_tool, unique

ERROR = "__typename ... on Error { message }"
WORKFLOW = """
query($id: Int!) { workflow(id: $id) { ... on Workflow {
  id user status maxConcurrentlyRunning attributes latestRun { id status }
  tasks(first: 100) { items { id name command status numAttempts nodeArgs attributes
                              instances(first: 10) { items { id exitCode } } } }
} } }"""
TEMPLATE = {"name": "t", "commandTemplate": "test {n} -eq 0", "nodeArgs": ["n"]}
ENDED = ("DONE", "FAILED", "HALTED", "ABORTED")


def read_workflow(secure: Secure, workflow_id: int) -> dict[str, Any]:
    return dict(secure.data("bob", WORKFLOW, id=workflow_id)["workflow"])  # reads are open


def wait_until_ended(secure: Secure, workflow_id: int) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        wf = read_workflow(secure, workflow_id)
        if wf["status"] in ENDED and wf["latestRun"]["status"] not in ("RUNNING", "BOUND"):
            return wf
        return None

    return wait_until(ended, f"workflow {workflow_id} has ended", timeout=90, interval=0.2)


def alices_workflow(tool: Tool, name: str, run: bool) -> tuple[Any, int]:
    """Two tasks: n=0 succeeds, n=1 fails (one attempt). Run to FAILED, or only bound."""
    template = tool.get_task_template(
        template_name="t", command_template="test {n} -eq 0", node_args=["n"]
    )
    wf = tool.create_workflow(name=name, workflow_args=name)
    wf.add_tasks([template.create_task(n=0), template.create_task(n=1, max_attempts=1)])
    if run:
        assert wf.run().final_status == "FAILED"
    else:
        wf.bind()
    assert wf.workflow_id is not None
    return wf, wf.workflow_id


@pytest.fixture(scope="module")
def failed(secure: Secure) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        _, wf_id = alices_workflow(alices_tool(secure, mp, "multiprocess"), unique(), run=True)
    return read_workflow(secure, wf_id)


@pytest.fixture(scope="module")
def never_ran(secure: Secure) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        _, wf_id = alices_workflow(alices_tool(secure, mp, "multiprocess"), unique(), run=False)
    return read_workflow(secure, wf_id)


def task_batch(task: dict[str, Any], version_id: int, command: str) -> dict[str, Any]:
    return {
        "templateVersionIds": [version_id],
        "names": [task["name"]],
        "commands": [command],
        "nodeArgs": [task["nodeArgs"]],
        "taskArgs": [{}],
        "maxAttempts": [1],
        "resourceIndexes": [0],
        "resources": [
            {"clusterName": "multiprocess", "resources": {"memory": "1G", "runtime": "1m"}}
        ],
    }


def template_version_as(secure: Secure, who: str) -> int:
    """The id of alice's template version, as anyone can have it: binding the same tool and
    template answers the same ids."""
    tool = secure.data(
        who, 'mutation { bindTool(name: "alice_tool") { ... on ToolVersion { id } } }'
    )
    templates = secure.data(
        who,
        "mutation($id: Int!, $t: [TaskTemplateInput!]!) { bindTaskTemplates(toolVersionId: $id, "
        "templates: $t) { ... on TaskTemplateVersionList { items { id } } } }",
        id=tool["bindTool"]["id"],
        t=[{**TEMPLATE, "taskArgs": [], "opArgs": []}],
    )
    return int(templates["bindTaskTemplates"]["items"][0]["id"])


def failing_task(wf: dict[str, Any]) -> dict[str, Any]:
    [task] = [t for t in wf["tasks"]["items"] if t["status"] == "ERROR_FATAL"]
    return dict(task)


def test_bobs_command_never_runs_in_alices_workflow(
    secure: Secure, failed: dict[str, Any], tmp_path: Path
) -> None:
    wf_id = failed["id"]
    task = failing_task(failed)
    marker = tmp_path / "bob-was-here"
    version_id = template_version_as(secure, "bob")
    attack = secure.data(
        "bob",
        f"mutation($w: Int!, $t: JSON!) {{ bindTasks(workflowId: $w, tasks: $t) {{ {ERROR} }} }}",
        w=wf_id,
        t=task_batch(task, version_id, f"touch {marker}"),
    )["bindTasks"]
    assert attack["__typename"] == "PermissionDenied"
    assert f"workflow {wf_id} belongs to alice" in attack["message"]

    # The batch named alice's task exactly: sent by alice unchanged, it answers that task.
    same = secure.data(
        "alice",
        "mutation($w: Int!, $t: JSON!) { bindTasks(workflowId: $w, tasks: $t) {"
        " ... on BoundTasks { taskIds } } }",
        w=wf_id,
        t=task_batch(task, version_id, task["command"]),
    )["bindTasks"]
    assert same == {"taskIds": [task["id"]]}

    resumed = secure.data(
        "alice",
        'mutation($w: Int!) { startWorkflowRun(workflowId: $w, user: "alice", resume: true) '
        f"{{ {ERROR} }} }}",
        w=wf_id,
    )["startWorkflowRun"]
    assert resumed["__typename"] == "WorkflowRun", resumed
    after = wait_until_ended(secure, wf_id)
    rerun = failing_task(after)
    assert rerun["command"] == task["command"] == "test 1 -eq 0"
    assert len(rerun["instances"]["items"]) == 2  # it ran again, alice's command, failing
    assert all(i["exitCode"] == 1 for i in rerun["instances"]["items"])
    assert not marker.exists()


def user_mutations(wf: dict[str, Any], fresh: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """Every user mutation that writes into a workflow, with bob's arguments against alice's
    workflows (``wf`` ran and failed, ``fresh`` never ran)."""
    wf_id = wf["id"]
    ok, bad = sorted(wf["tasks"]["items"], key=lambda t: t["nodeArgs"]["n"])
    run_id = wf["latestRun"]["id"]
    return [
        (
            "bindEdges",
            "mutation($w: Int!, $u: JSON!, $d: JSON!) { bindEdges(workflowId: $w, "
            f"upstreamTaskIds: $u, downstreamTaskIds: $d) {{ {ERROR} }} }}",
            {"w": wf_id, "u": [bad["id"]], "d": [ok["id"]]},
        ),
        (
            "completeBind",
            f"mutation($w: Int!) {{ completeBind(workflowId: $w, totalTasks: 2) {{ {ERROR} }} }}",
            {"w": wf_id},
        ),
        (
            "setMaxConcurrentlyRunning",
            "mutation($w: Int!) { setMaxConcurrentlyRunning(workflowId: $w, limit: 1) "
            f"{{ {ERROR} }} }}",
            {"w": wf_id},
        ),
        (
            "setTemplateConcurrency",
            'mutation($w: Int!) { setTemplateConcurrency(workflowId: $w, templateName: "t", '
            f'limit: 1, user: "alice") {{ {ERROR} }} }}',
            {"w": wf_id},
        ),
        (
            "addWorkflowAttributes",
            'mutation($w: Int!) { addWorkflowAttributes(workflowId: $w, attributes: {x: "y"}) '
            f"{{ {ERROR} }} }}",
            {"w": wf_id},
        ),
        (
            "addTaskAttributes",
            'mutation($t: Int!) { addTaskAttributes(taskId: $t, attributes: {x: "y"}) '
            f"{{ {ERROR} }} }}",
            {"t": bad["id"]},
        ),
        (
            "stopWorkflow",
            f'mutation($w: Int!) {{ stopWorkflow(workflowId: $w, user: "alice") {{ {ERROR} }} }}',
            {"w": wf_id},
        ),
        (
            "resetWorkflow",
            f'mutation($w: Int!) {{ resetWorkflow(workflowId: $w, user: "alice") {{ {ERROR} }} }}',
            {"w": wf_id},
        ),
        (
            "updateTaskStatuses",
            "mutation($w: Int!, $t: Int!) { updateTaskStatuses(workflowId: $w, taskIds: [$t], "
            f'status: DONE, user: "alice") {{ {ERROR} }} }}',
            {"w": wf_id, "t": bad["id"]},
        ),
        (
            "startWorkflowRun",  # a resume of the failed one
            'mutation($w: Int!) { startWorkflowRun(workflowId: $w, user: "alice", '
            f"resume: true) {{ {ERROR} }} }}",
            {"w": wf_id},
        ),
        (
            "startWorkflowRun",  # the first run of one that never ran
            'mutation($w: Int!) { startWorkflowRun(workflowId: $w, user: "alice") '
            f"{{ {ERROR} }} }}",
            {"w": fresh["id"]},
        ),
        (
            "giveTaskResources",
            "mutation($r: Int!, $t: Int!) { giveTaskResources(workflowRunId: $r, taskIds: [$t], "
            f'resources: [{{memory: "2G"}}]) {{ {ERROR} }} }}',
            {"r": run_id, "t": bad["id"]},
        ),
        (
            "stopWorkflowRun",
            f"mutation($r: Int!) {{ stopWorkflowRun(workflowRunId: $r) {{ {ERROR} }} }}",
            {"r": run_id},
        ),
    ]


def test_every_write_by_bob_into_alices_workflows_is_refused(
    secure: Secure, failed: dict[str, Any], never_ran: dict[str, Any]
) -> None:
    before = [read_workflow(secure, w["id"]) for w in (failed, never_ran)]
    cases = user_mutations(failed, never_ran)
    for name, document, variables in cases:
        answer = secure.data("bob", document, **variables)[name]
        assert answer["__typename"] == "PermissionDenied", (name, answer)
        assert re.search(r"workflow \d+ belongs to alice", answer["message"]), (name, answer)
    after = [read_workflow(secure, w["id"]) for w in (failed, never_ran)]
    assert after == before  # nothing changed: no run, no status, no limit, no attribute


def test_bob_binding_alices_workflow_again_is_refused(
    secure: Secure, never_ran: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob runs alice's script (same tool, workflow_args and tasks): that names her
    workflow, which only she may bind again (and so resume)."""
    monkeypatch.setenv("JOBMON_TOKEN", secure.tokens["alice"])
    name = unique()
    tool = alices_tool(secure, monkeypatch, "multiprocess")
    _, wf_id = alices_workflow(tool, name, run=False)
    monkeypatch.setenv("JOBMON_TOKEN", secure.tokens["bob"])
    bobs = Tool(name="alice_tool", server_url=secure.url)
    bobs.set_default_cluster_name("multiprocess")
    bobs.set_default_compute_resources_from_dict("multiprocess", {"memory": "1G", "runtime": "1m"})
    with pytest.raises(PermissionDeniedError, match=f"workflow {wf_id} belongs to alice"):
        alices_workflow(bobs, name, run=False)
    assert read_workflow(secure, wf_id)["latestRun"] is None

    # alice herself binds it again (a resume) as before
    monkeypatch.setenv("JOBMON_TOKEN", secure.tokens["alice"])
    again, again_id = alices_workflow(alices_tool(secure, monkeypatch, "multiprocess"), name, False)
    assert again_id == wf_id


def test_an_admin_may_write_into_any_workflow(secure: Secure, failed: dict[str, Any]) -> None:
    answer = secure.data(
        "admin",
        'mutation($w: Int!) { addWorkflowAttributes(workflowId: $w, attributes: {by: "ops"}) '
        f"{{ {ERROR} }} }}",
        w=failed["id"],
    )["addWorkflowAttributes"]
    assert answer["__typename"] == "Workflow", answer
