"""A workflow's tasks by status, a page at a time, against a real server on every database:
several statuses at once come in id order, each once, whatever the page size."""

from __future__ import annotations

from typing import Any

from tests.conftest import Stack
from tests.test_subscriptions import workflow_of

TASKS = """
query($id: Int!, $statuses: [TaskStatus!], $template: String, $name: String, $first: Int!,
      $after: String) {
  workflow(id: $id) {
    ... on Workflow {
      tasks(statuses: $statuses, templateName: $template, nameContains: $name, first: $first,
            after: $after) { items { id status } endCursor hasNextPage }
    }
  }
}"""


def every_page(stack: Stack, wf_id: int, first: int, **filters: Any) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = stack.query(
            TASKS,
            id=wf_id,
            first=first,
            after=after,
            **{"statuses": None, "template": None, "name": None, **filters},
        )["workflow"]["tasks"]
        pages.append([t["id"] for t in page["items"]])
        if not page["hasNextPage"]:
            return pages
        after = page["endCursor"]


def test_tasks_of_several_statuses_page_in_id_order(stack: Stack, unique: str) -> None:
    commands = ["true", "exit 1", "true", "exit 1", "true"]
    wf, tasks = workflow_of(stack.url, f"pages_{unique}", commands)
    assert wf.run().final_status == "FAILED"
    ids = [t.task_id for t in tasks]
    done, fatal = ids[0::2], ids[1::2]
    assert every_page(stack, wf.workflow_id, 2, statuses=["ERROR_FATAL", "DONE"]) == [
        ids[0:2],
        ids[2:4],
        ids[4:5],
    ]
    assert every_page(stack, wf.workflow_id, 1, statuses=["ERROR_FATAL"]) == [[i] for i in fatal]
    assert every_page(stack, wf.workflow_id, 5, statuses=["DONE", "RUNNING"]) == [done]
    assert every_page(stack, wf.workflow_id, 5, statuses=["RUNNING", "QUEUED"]) == [[]]
    assert every_page(
        stack, wf.workflow_id, 2, statuses=["DONE", "ERROR_FATAL"], template="t", name="n-3"
    ) == [[ids[3]]]
    assert every_page(stack, wf.workflow_id, 2, statuses=["DONE"], template="other") == [[]]
