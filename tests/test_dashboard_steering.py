"""The dashboard's steering, log viewer, layout and notices in headless Chromium, against a
real server with real workflows (fixtures and helpers from test_dashboard)."""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Any

from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from jobmon_server.embedded import EmbeddedServer

from tests.helpers import wait_until
from tests.test_dashboard import (  # noqa: F401  (the fixtures: a server, a browser, a page)
    OVERFLOW,
    api_workflow,
    browser,
    failing_workflow,
    make_workflow,
    page,
    server,
    shot,
    task_status,
)


def test_the_log_viewer_shows_the_end_of_a_long_traceback(
    server: EmbeddedServer,  # noqa: F811
    page: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    script = tmp_path / "deep.py"
    script.write_text(
        "import sys\n"
        "for i in range(4000):\n"
        "    print(f'  File \"deep.py\", frame {i}, in deep_call', file=sys.stderr)\n"
        "raise ValueError('the real cause: location 42')\n"
    )
    command = f"{sys.executable} {script}"
    wf, steps = make_workflow(server.url, "traceback", [command])
    assert wf.run().final_status == "FAILED"
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{server.url}/#/task/{steps[0].task_id}")
    tail = page.locator("#attempts pre.tail").first
    tail.wait_for()
    assert "ValueError: the real cause: location 42" in tail.inner_text()
    page.wait_for_function(  # the box shows its end, not the start of the tail
        "(() => { const e = document.querySelector('#attempts pre.tail');"
        " return e.scrollTop + e.clientHeight >= e.scrollHeight - 2; })()"
    )
    page.locator("#attempts button.log-stderr").first.click()
    text = page.locator("#log-text")
    page.wait_for_function(
        "document.getElementById('log-text')?.innerText.includes('the real cause')"
    )
    scrolled = page.evaluate(
        "(() => { const e = document.getElementById('log-text');"
        " return [e.scrollHeight > e.clientHeight,"
        " e.scrollTop + e.clientHeight >= e.scrollHeight - 2]; })()"
    )
    assert scrolled == [True, True]  # a long file, shown at its end
    assert text.inner_text().rstrip().endswith("ValueError: the real cause: location 42")
    assert "frame 0," not in text.inner_text()  # the tail first: 4,000 lines are over 64 KB
    pages = 0  # "Earlier" pages back to the start of the file, a chunk at a time
    while page.locator("#log-earlier").is_visible():
        length = len(text.inner_text())
        page.locator("#log-earlier").click()
        page.wait_for_function(f"document.getElementById('log-text').innerText.length > {length}")
        pages += 1
        assert pages < 10
    assert pages >= 2 and "frame 0," in text.inner_text()
    assert text.inner_text().count("frame 1234,") == 1  # pages joined without a gap or overlap
    shot(page, "task-log")
    page.locator("#attempts button.log-stdout").first.click()
    page.get_by_role("heading", name="The stdout of attempt").wait_for()
    page.wait_for_function("document.querySelector('#log p.meta').innerText.includes('· 0B')")
    assert text.inner_text() == ""  # the script wrote nothing to stdout


def test_steering_works_for_the_owner_and_is_refused_for_another_user(
    server: EmbeddedServer,  # noqa: F811
    page: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    gate = tmp_path / "go"
    wf, steps = make_workflow(
        server.url, "steer", ["true", f"while [ ! -e {gate} ]; do sleep 0.1; done", "exit 5"]
    )
    wf.run(detach=True)
    client = GraphQLClient(server.url)
    wait_until(
        lambda: task_status(client, steps[1].task_id) == "RUNNING",
        "the gated task runs",
        timeout=30,
    )
    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    page.locator("#action-stop").wait_for()
    owner = page.locator("p.meta").first.inner_text().split("owner ")[1].split(" ")[0]

    def confirm(as_user: str) -> str:
        page.locator("#confirm").wait_for()
        page.fill("input[name='acting-user']", as_user)
        page.locator("#confirm-ok").click()
        page.locator("#confirm-result").wait_for()
        page.wait_for_function("document.getElementById('confirm-result').innerText.length > 0")
        result = page.locator("#confirm-result").inner_text()
        page.locator("#confirm-close").click()
        return result

    # concurrency of the workflow: refused for another user, applied for the owner
    page.fill("input[name='workflow-limit']", "3")
    page.locator("#action-limit").click()
    assert "At most 3 tasks run at once" in page.locator("#confirm-changes").inner_text()
    refused = confirm("mallory")
    assert f"belongs to {owner}" in refused and "only its owner may change it" in refused
    assert api_workflow(client, wf.workflow_id)["maxConcurrentlyRunning"] != 3
    page.locator("#action-limit").click()
    assert "At most 3 tasks at once" in confirm(owner)
    assert api_workflow(client, wf.workflow_id)["maxConcurrentlyRunning"] == 3

    # a template's concurrency
    row = page.locator("#templates tr[data-template='step']")
    row.locator("input").fill("2")
    row.locator("button.template-limit").click()
    assert "at most 2 at once" in page.locator("#confirm-changes").inner_text()
    assert "only its owner" in confirm("mallory")
    row.locator("button.template-limit").click()
    assert "step: at most 2 at once" in confirm(owner)
    limits = {
        t["templateName"]: t["maxConcurrentlyRunning"]
        for t in api_workflow(client, wf.workflow_id)["templates"]
    }
    assert limits["step"] == 2

    # stop the run
    page.locator("#action-stop").click()
    assert "becomes HALTED" in page.locator("#confirm-changes").inner_text()
    assert "only its owner" in confirm("mallory")
    assert api_workflow(client, wf.workflow_id)["status"] == "RUNNING"
    page.locator("#action-stop").click()
    assert "is STOPPED" in confirm(owner)
    assert api_workflow(client, wf.workflow_id)["status"] == "HALTED"
    page.wait_for_function("document.getElementById('workflow-status').innerText === 'HALTED'")

    # mark the failed task done (with its upstream), then rerun the first (with downstream)
    page.select_option("select[name='task-status']", "")
    page.locator(f"#tasks tr[data-task-id='{steps[2].task_id}'] input[type='checkbox']").wait_for()
    page.locator(f"#tasks tr[data-task-id='{steps[2].task_id}'] input[type='checkbox']").check()
    page.locator("#action-done").click()
    assert f"{steps[2].task_id} step_n-2" in page.locator("#confirm-changes").inner_text()
    assert "only its owner" in confirm("mallory")
    page.locator("#action-done").click()
    assert "1 task(s) are now DONE" in confirm(owner)
    assert task_status(client, steps[2].task_id) == "DONE"
    page.locator(f"#tasks tr[data-task-id='{steps[2].task_id}'] input[type='checkbox']").uncheck()
    page.locator(f"#tasks tr[data-task-id='{steps[0].task_id}'] input[type='checkbox']").check()
    page.locator("#action-rerun").click()
    assert "every task downstream" in page.locator("#confirm-changes").inner_text()
    assert "only its owner" in confirm("mallory")
    page.locator("#action-rerun").click()
    assert "are now REGISTERING" in confirm(owner)
    assert task_status(client, steps[0].task_id) == "REGISTERING"
    below = "query($id: Int!) { task(id: $id) { ... on Task { downstream { items { status } } } } }"
    summary = client.execute(below, {"id": steps[0].task_id})["task"]["downstream"]["items"]
    assert [t["status"] for t in summary] == ["REGISTERING"]  # the summary, downstream of it

    # resume: a new run, as `jobmon workflow resume` starts it
    before = api_workflow(client, wf.workflow_id)["latestRun"]["id"]
    page.locator("#action-resume").wait_for()
    page.locator("#action-resume").click()
    assert "reruns the" in page.locator("#confirm-changes").inner_text()
    assert "only its owner" in confirm("mallory")
    assert api_workflow(client, wf.workflow_id)["latestRun"]["id"] == before
    page.locator("#action-resume").click()
    assert "started" in confirm(owner)
    assert api_workflow(client, wf.workflow_id)["latestRun"]["id"] != before
    # the error of the stopped run is now an earlier run's, and says so
    page.wait_for_function("document.querySelector('#errors').innerText.includes('an earlier run')")
    shot(page, "workflow-steered")
    gate.touch()
    wait_until(
        lambda: api_workflow(client, wf.workflow_id)["status"] in ("DONE", "FAILED"),
        "the resumed run ends",
        interval=0.2,
    )
    client.close()


def test_nothing_is_wider_than_the_window_and_outages_are_said(
    server: EmbeddedServer,  # noqa: F811
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    wf, steps = failing_workflow(server.url, tmp_path)
    assert wf.run().final_status == "FAILED"
    routes = ["#/workflows", f"#/workflow/{wf.workflow_id}", f"#/task/{steps[7].task_id}"]
    for width in (1024, 1440):
        tab = browser.new_page(viewport={"width": width, "height": 900})
        for route in routes:
            tab.goto(f"{server.url}/{route}")
            tab.locator("main section h1").first.wait_for()
            tab.wait_for_load_state("networkidle")
            scroll_width, inner, wide = tab.evaluate(OVERFLOW)
            assert scroll_width <= inner and not wide, (width, route, wide)
            shot(tab, f"{route.split('/')[1]}-{width}")
        tab.close()

    tab = browser.new_page(viewport={"width": 1024, "height": 700})
    tab.goto(f"{server.url}/#/workflows")
    tab.locator("#workflows tbody tr").first.wait_for()
    assert not tab.locator("#unreachable").is_visible()
    tab.route("**/graphql", lambda route: route.abort())
    tab.get_by_role("button", name="Filter").click()  # a request that cannot reach the server
    tab.locator("#unreachable").wait_for(state="visible")
    assert "unreachable; retrying" in tab.locator("#unreachable").inner_text()
    assert "Failed to fetch" not in tab.locator("body").inner_text()
    shot(tab, "unreachable")
    tab.unroute("**/graphql")
    tab.locator("#unreachable").wait_for(state="hidden", timeout=10_000)
    tab.close()


def test_the_page_says_when_ready_tasks_wait_for_a_cluster_without_a_worker(
    server: EmbeddedServer,  # noqa: F811
    page: Any,  # noqa: F811
) -> None:
    tool = Tool(name="dashboard", server_url=server.url)
    tool.set_default_cluster_name("sequential")  # the test's worker serves multiprocess only
    template = tool.get_task_template(
        template_name="lonely", command_template="true {n}", node_args=["n"]
    )
    wf = tool.create_workflow(name="unserved", workflow_args=f"unserved-{time.time_ns()}")
    wf.add_tasks(template.create_tasks(n=[1, 2]))
    wf.run(detach=True)
    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    notice = page.locator("#waiting-for")
    notice.wait_for(state="visible", timeout=30_000)  # the server notices within seconds
    text = notice.inner_text()
    assert "2 tasks wait for cluster 'sequential'" in text
    assert "jobmon worker --cluster sequential" in text
    page.goto(f"{server.url}/#/workflows")
    row = page.locator(f"#workflows tr[data-workflow-id='{wf.workflow_id}']")
    row.wait_for()
    assert "no worker is running" in row.inner_text()
    shot(page, "waiting-for-worker")
    with GraphQLClient(server.url) as client:  # nothing would ever run it: stop it
        assert api_workflow(client, wf.workflow_id)["status"] == "RUNNING"
        stop = (
            "mutation($id: Int!, $u: String!) {"
            " stopWorkflow(workflowId: $id, user: $u) { __typename } }"
        )
        client.execute(stop, {"id": wf.workflow_id, "u": getpass.getuser()})
