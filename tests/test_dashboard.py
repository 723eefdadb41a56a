"""The dashboard in headless Chromium (Playwright, Debian's chromium) against a real server
with real workflows. Screenshots go to build/screenshots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient
from jobmon_server.embedded import EmbeddedServer, start

from tests.browser import CHROMIUM, launch
from tests.conftest import WorkerThread, unavailable
from tests.helpers import task_instances, wait_until

SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
LIVE_MS = 2000  # a change on the server shows within this, without a reload


@pytest.fixture(scope="module")
def server(make_database, tmp_path_factory) -> Iterator[EmbeddedServer]:  # type: ignore[no-untyped-def]
    server = start(port=0, db_url=make_database("sqlite"))
    worker = WorkerThread(server.url, "multiprocess", 4, tmp_path_factory.mktemp("gui-logs"))
    try:
        yield server
    finally:
        worker.stop()
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed; run scripts/browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, f"the page raised: {errors}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def make_workflow(url: str, name: str, commands: list[str], **kwargs: Any) -> tuple[Any, list[Any]]:
    tool = Tool(name="dashboard", server_url=url)
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict("multiprocess", {"memory": "1G", "runtime": "1m"})
    step = tool.get_task_template(
        template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    summary = tool.get_task_template(template_name="summary", command_template="echo summary")
    wf = tool.create_workflow(name=name, workflow_args=f"{name}-{time.time_ns()}")
    steps = [step.create_task(n=i, cmd=c, max_attempts=1) for i, c in enumerate(commands)]
    wf.add_tasks([*steps, summary.create_task(name="summary", upstream_tasks=steps)])
    return wf, steps


def test_the_workflows_page_filters_and_pages(server: EmbeddedServer, page: Any) -> None:
    done, _ = make_workflow(server.url, "nightly-done", ["true"])
    assert done.run().final_status == "DONE"
    failed, _ = make_workflow(server.url, "nightly-failed", ["exit 2"])
    assert failed.run().final_status == "FAILED"
    for i in range(25):  # more than a page of 25
        make_workflow(server.url, f"bulk-{i}", ["true"])[0].bind()

    page.goto(f"{server.url}/#/workflows")
    rows = page.locator("#workflows tbody tr")
    rows.first.wait_for()
    assert rows.count() == 25
    page.get_by_role("button", name="Older →").click()
    page.wait_for_function("document.querySelectorAll('#workflows tbody tr').length === 2")
    assert page.locator("#workflows tbody").inner_text().count("nightly-") == 2

    page.goto(f"{server.url}/#/workflows?name=nightly&status=FAILED")
    page.wait_for_function("document.querySelectorAll('#workflows tbody tr').length === 1")
    row = page.locator(f"#workflows tr[data-workflow-id='{failed.workflow_id}']")
    assert "nightly-failed" in row.inner_text() and "FAILED" in row.inner_text()
    shot(page, "workflows")

    other = Tool(name="other-tool", server_url=server.url)
    other.set_default_cluster_name("multiprocess")
    lone = other.create_workflow(name="elsewhere", workflow_args=f"elsewhere-{time.time_ns()}")
    lone.add_task(other.get_task_template(template_name="t", command_template="true").create_task())
    lone.bind()
    today = datetime.now().date()  # the browser's days are this machine's
    page.goto(f"{server.url}/#/workflows?tool=other-tool&from={today}&to={today}")
    page.wait_for_function("document.querySelectorAll('#workflows tbody tr').length === 1")
    row = page.locator(f"#workflows tr[data-workflow-id='{lone.workflow_id}']")
    assert "other-tool" in row.inner_text() and "elsewhere" in row.inner_text()
    assert page.locator("input[name='tool']").input_value() == "other-tool"
    yesterday = today - timedelta(days=1)
    page.goto(f"{server.url}/#/workflows?tool=other-tool&to={yesterday}")
    page.locator("#workflows-page p.empty").wait_for()
    assert page.locator("#workflows tbody tr").count() == 0


def test_the_workflow_page_shows_its_data_and_follows_it_live(
    server: EmbeddedServer, page: Any, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    wf, steps = make_workflow(
        server.url,
        "live",
        [
            "true",
            "echo 'location 7 has no data' >&2; exit 3",
            f"while [ ! -e {gate} ]; do sleep 0.1; done",
        ],
    )
    wf.run(detach=True)
    waiting = steps[2]
    wait_until(
        lambda: any(i["status"] == "RUNNING" for i in task_instances(server.url, waiting.task_id)),
        "the gated task runs",
        30,
    )

    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    page.locator(f"#tasks tr[data-task-id='{waiting.task_id}']").wait_for()
    page.evaluate("window.notReloaded = true")
    assert page.locator("#workflow-status").inner_text() == "RUNNING"
    assert page.locator("#workflow-counts a[data-group='running']").inner_text() == "1"
    assert page.locator("#workflow-counts a[data-group='fatal']").inner_text() == "1"
    templates = page.locator("#templates").inner_text()
    assert "step" in templates and "summary" in templates
    errors = page.locator("#errors").inner_text()
    assert "location 7 has no data" in errors  # the real message, not the pattern
    page.wait_for_function("document.getElementById('dag')._cy !== undefined")
    graph = page.evaluate(
        "(() => { const cy = document.getElementById('dag')._cy;"
        " return [cy.nodes().length, cy.edges().length,"
        " cy.nodes('.running').map((n) => n.id())]; })()"
    )
    assert graph == [4, 3, [f"t{waiting.task_id}"]]  # three steps feed the summary
    lanes = page.locator("#timeline .lane")
    assert lanes.count() == 3  # three attempts started; the summary has not
    assert page.locator("#timeline .lane-bar.running").count() == 1
    page.locator("#errors button.link").first.click()
    group = page.locator("#group-errors")
    group.locator("tbody tr").first.wait_for()
    assert f"{steps[1].task_id} step_n-1" in group.inner_text()
    assert "location 7 has no data" in group.inner_text()
    shot(page, "workflow-running")

    gate.touch()  # the gated task finishes; the page follows without a reload
    wait_until(
        lambda: any(i["status"] == "DONE" for i in task_instances(server.url, waiting.task_id)),
        "the gated task finishes",
        30,
        interval=0.05,
    )
    row = page.locator(f"#tasks tr[data-task-id='{waiting.task_id}']")
    page.wait_for_function(  # from the server's DONE to the page: within LIVE_MS
        f"document.querySelector(\"#tasks tr[data-task-id='{waiting.task_id}']\")"
        ".innerText.includes('DONE')",
        timeout=LIVE_MS,
    )
    assert "DONE" in row.inner_text()
    assert page.evaluate("window.notReloaded") is True

    page.select_option("select[name='task-status']", "fatal")
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert str(steps[1].task_id) in page.locator("#tasks tbody").inner_text()
    shot(page, "workflow")


def test_the_task_page_shows_attempts_and_neighbours(server: EmbeddedServer, page: Any) -> None:
    wf, steps = make_workflow(server.url, "task-page", ["echo boom >&2; exit 4"])
    assert wf.run().final_status == "FAILED"
    failed = steps[0]
    page.goto(f"{server.url}/#/task/{failed.task_id}")
    attempt = page.locator("#attempts tbody tr").first
    attempt.wait_for()
    text = attempt.inner_text()
    assert "ERROR" in text and "4" in text and "boom" in text
    assert "cores" not in page.locator("#task-command").inner_text()
    assert "exit 4" in page.locator("#task-command").inner_text()
    args = page.locator("#task-args").inner_text()
    assert "node args: n=0" in args and "task args: none" in args and "on multiprocess" in args
    page.locator("#downstream a").first.click()  # to the summary task, by its link
    page.wait_for_function("location.hash.startsWith('#/task/')")
    page.locator("#upstream a").first.wait_for()
    assert str(failed.task_id) in page.locator("#upstream").inner_text()
    shot(page, "task")


def test_a_large_workflow_draws_its_templates_and_searches_tasks_by_name(
    server: EmbeddedServer, page: Any
) -> None:
    wf, steps = make_workflow(server.url, "large", ["true"] * 250)
    wf.bind()
    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    page.wait_for_function("document.getElementById('dag')?._cy !== undefined")
    graph = page.evaluate(
        "(() => { const cy = document.getElementById('dag')._cy;"
        " return [cy.nodes().map((n) => n.id()).sort(),"
        " cy.edges().map((e) => e.data('label'))]; })()"
    )
    assert graph == [["step", "summary"], ["250"]]  # 250 task edges drawn as one
    # a template node lists its tasks
    page.evaluate("document.getElementById('dag')._cy.getElementById('summary').emit('tap')")
    page.wait_for_function("location.hash.includes('template=summary')")
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert "summary" in page.locator("#tasks tbody").inner_text()
    page.go_back()
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 25")
    page.fill("input[name='task-name']", "n-123")
    page.press("input[name='task-name']", "Enter")
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 1")
    assert str(steps[123].task_id) in page.locator("#tasks tbody").inner_text()
    shot(page, "workflow-large")


def test_templates_chart_use_against_request_and_the_timeline_shows_the_latest(
    server: EmbeddedServer, page: Any
) -> None:
    tool = Tool(name="dashboard", server_url=server.url)
    tool.set_default_compute_resources_from_dict(
        "multiprocess", {"cores": 1, "memory": "1G", "runtime": "10m"}
    )
    template = tool.get_task_template(
        template_name="sized", command_template="sleep 0.{n}", node_args=["n"]
    )
    wf = tool.create_workflow(name="sized", workflow_args=f"sized-{time.time_ns()}")
    tasks = template.create_tasks(n=[1, 2, 3])
    wf.add_tasks(tasks)
    assert wf.run().final_status == "DONE"

    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    runtime = page.locator("#templates td.usage[data-kind='runtime']")
    runtime.wait_for()
    page.wait_for_function(  # the templates' use of resources arrives with the page's data
        "document.querySelector(\"#templates td.usage[data-kind='runtime'] small\")"
        ".innerText !== '…'"
    )
    label = runtime.locator("small").inner_text()
    assert "asked 10m 0s" in label and "used " in label and "median" in label
    chart = "#templates td.usage[data-kind='runtime'] svg"
    widths = page.evaluate(
        f'(() => {{ const svg = document.querySelector("{chart}");'
        " return [+svg.querySelector('.asked').getAttribute('width'),"
        " +svg.querySelector('.used').getAttribute('width')]; })()"
    )
    assert widths[0] == 100  # each sleep used well under the 10 minutes asked
    assert 0 < widths[1] < 1
    assert "asked 1.0G" in page.locator("#templates td.usage[data-kind='memory']").inner_text()

    # the timeline asks for the newest attempts; the API pages them newest first
    document = (
        "query($id: Int!, $after: String, $newest: Boolean!) { workflow(id: $id) {"
        " ... on Workflow { taskInstances(first: 2, after: $after, newestFirst: $newest) {"
        " items { id taskName } endCursor hasNextPage } } } }"
    )
    client = GraphQLClient(server.url)

    def instances(after: str | None, newest: bool = True) -> dict[str, Any]:
        variables = {"id": wf.workflow_id, "after": after, "newest": newest}
        return client.execute(document, variables)["workflow"]["taskInstances"]

    newest = instances(None)
    rest = instances(newest["endCursor"])
    ids = [i["id"] for i in newest["items"] + rest["items"]]
    assert newest["hasNextPage"] and not rest["hasNextPage"]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    oldest = instances(None, newest=False)
    oldest_first = oldest["items"] + instances(oldest["endCursor"], newest=False)["items"]
    lanes = page.locator("#timeline .lane .lane-label").all_inner_texts()
    assert lanes == [i["taskName"] for i in oldest_first]  # the oldest at the top
    shot(page, "workflow-usage")


# -- live under load, failures first, logs, steering, layout ---------------------------------

DONE_ON_PAGE = "#workflow-counts a[data-group='done']"
OVERFLOW = """(() => {
  const limit = document.documentElement.clientWidth + 1;
  const wide = [...document.querySelectorAll('body *')]
    .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > limit)
    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} `
      + Math.round(e.getBoundingClientRect().right));
  return [document.documentElement.scrollWidth, window.innerWidth, wide.slice(0, 5)];
})()"""


def api_done(client: GraphQLClient, workflow_id: int) -> int:
    document = (
        "query($id: Int!) { workflow(id: $id) { ... on Workflow { taskCounts { status count } } } }"
    )
    counts = client.execute(document, {"id": workflow_id})["workflow"]["taskCounts"]
    return sum(c["count"] for c in counts if c["status"] == "DONE")


def api_workflow(client: GraphQLClient, workflow_id: int) -> dict[str, Any]:
    document = (
        "query($id: Int!) { workflow(id: $id) { ... on Workflow { status maxConcurrentlyRunning"
        " latestRun { id status } templates { templateName maxConcurrentlyRunning } } } }"
    )
    return dict(client.execute(document, {"id": workflow_id})["workflow"])


def task_status(client: GraphQLClient, task_id: int) -> str:
    found = client.execute(
        "query($id: Int!) { task(id: $id) { ... on Task { status } } }", {"id": task_id}
    )
    return str(found["task"]["status"])


def test_the_page_stays_within_a_second_of_the_server_during_a_busy_run(
    server: EmbeddedServer, page: Any, browser: Any
) -> None:
    # Short tasks, but not so short that the run is over before it was watched a while:
    # 1,500 of 20 ms on 4 slots last about 8 s, some 200 tasks a second.
    wf, _ = make_workflow(server.url, "busy", ["sleep 0.02"] * 1500)
    wf.bind()
    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    page.evaluate("performance.setResourceTimingBufferSize(10000)")
    page.locator("#workflow-page[data-following='true']").wait_for()  # subscribed
    listing = browser.new_page()  # the workflows list follows the counts too
    listing.goto(f"{server.url}/#/workflows")
    share = listing.locator(f"#workflows tr[data-workflow-id='{wf.workflow_id}'] .done-share")
    share.wait_for()
    shares: set[str] = set()
    client = GraphQLClient(server.url)
    opened = page.evaluate("performance.now()")  # count the requests the run causes
    wf.run(detach=True)
    server_samples: list[tuple[float, int]] = []
    behind: list[tuple[float, int, int]] = []
    page_samples = 0
    deadline = time.monotonic() + 120
    while True:
        done = api_done(client, wf.workflow_id)
        server_samples.append((time.monotonic(), done))  # known once answered
        shown = int(page.locator(DONE_ON_PAGE).inner_text())
        now = time.monotonic()
        page_samples += 1
        # what the server had answered at least a second ago must be on the page by now
        known = [done for at, done in server_samples if at <= now - 1.0]
        if known and shown < known[-1]:
            behind.append((round(now, 2), shown, known[-1]))
        shares.add(share.inner_text())
        if shown == 1501:
            break
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.1)
    assert server_samples[-1][1] == 1501 and page_samples > 20
    assert 0 < [d for _, d in server_samples][len(server_samples) // 2] < 1501  # sampled mid-run
    assert not behind, f"the page was more than 1 s behind the server: {behind[:5]}"
    assert len(shares - {"0% done", "100% done"}) >= 2, shares  # the list moved mid-run
    listing.close()
    requests = page.evaluate(  # when the page sent each request, by the browser's clock
        "performance.getEntriesByType('resource')"
        ".filter((e) => e.name.endsWith('/graphql')).map((e) => e.startTime)"
    )
    requests = [r for r in requests if r > opened]
    assert len(requests) > 10
    busiest = max(sum(1 for r in requests if s <= r < s + 1000) for s in requests)
    assert busiest <= 4, f"{busiest} requests in one second"
    client.close()


def failing_workflow(url: str, tmp_path: Path) -> tuple[Any, list[Any]]:
    """Three tasks fail once and recover, two fail for good with messages of one kind."""
    transient = (
        "if [ -e {m} ]; then true; else touch {m}; "
        "echo 'Traceback (most recent call last):' >&2; "
        "echo 'OSError: transient glitch 7' >&2; exit 1; fi"
    )
    commands = ["true"] * 4
    commands += [transient.format(m=tmp_path / f"once-{i}") for i in range(3)]
    commands += [
        f"echo 'loading location {n}' >&2; echo 'KeyError: location {n} has no data' >&2; exit 3"
        for n in (9, 12)
    ]
    tool = Tool(name="dashboard", server_url=url)
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict("multiprocess", {"memory": "1G", "runtime": "1m"})
    step = tool.get_task_template(
        template_name="step", command_template="{cmd} # {n}", node_args=["n"], op_args=["cmd"]
    )
    wf = tool.create_workflow(name="failing", workflow_args=f"failing-{time.time_ns()}")
    steps = [step.create_task(n=i, cmd=c, max_attempts=2) for i, c in enumerate(commands)]
    wf.add_tasks(steps)
    return wf, steps


def test_a_failed_workflow_opens_on_what_failed(
    server: EmbeddedServer, browser: Any, tmp_path: Path
) -> None:
    wf, steps = failing_workflow(server.url, tmp_path)
    assert wf.run().final_status == "FAILED"
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.goto(f"{server.url}/#/workflow/{wf.workflow_id}")
    first_group = page.locator("#errors tbody tr").first
    first_group.wait_for()
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 2")
    # the group that failed for good comes first, with its real latest message and run
    group = first_group.inner_text()
    assert "2 failed for good" in group and "KeyError: location" in group and "has no data" in group
    assert "run " in group and "…" not in group
    recovered = page.locator("#errors tbody tr").nth(1).inner_text()
    assert "3 recovered" in recovered and "OSError: transient glitch 7" in recovered
    fatal_ids = {str(steps[7].task_id), str(steps[8].task_id)}
    shown = {r.get_attribute("data-task-id") for r in page.locator("#tasks tbody tr").all()}
    assert shown == fatal_ids  # the task table opens on the fatal tasks
    in_first_screen = page.evaluate(
        "[document.querySelector('#errors tbody tr'),"
        " document.querySelector('#tasks tbody tr:last-child')]"
        ".map((e) => e.getBoundingClientRect().bottom <= innerHeight)"
    )
    assert in_first_screen == [True, True]
    # nine tasks without edges: one row of nodes, not one huge circle each
    page.wait_for_function("document.getElementById('dag')?._cy !== undefined")
    shot(page, "workflow-failed-1024")
    height, widest = page.evaluate(
        "(() => { const cy = document.getElementById('dag')._cy;"
        " return [document.getElementById('dag').clientHeight,"
        " Math.max(...cy.nodes().map((n) => n.renderedWidth()))]; })()"
    )
    assert height <= 200 and widest <= 40
    # counts are links to the filtered table, kept in the URL
    page.locator("#workflow-counts a[data-group='done']").click()
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 7")
    assert "status=done" in page.evaluate("location.hash")
    page.reload()
    page.wait_for_function("document.querySelectorAll('#tasks tbody tr').length === 7")
    assert page.locator("select[name='task-status']").input_value() == "done"
    page.close()
