"""Reads are open to every token (a user's or a worker's); /metrics needs a token like the
API; /health and the dashboard's files need none."""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import Secure, alices_tool, unique

READ = """query($id: Int!) { workflow(id: $id) { __typename ... on Workflow { user
  tasks(first: 10) { items { command } } } } }"""


def test_every_token_may_read_every_workflow(
    secure: Secure, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = alices_tool(secure, monkeypatch, "multiprocess")
    template = tool.get_task_template(
        template_name="r", command_template="echo {n}", node_args=["n"]
    )
    name = unique()
    wf = tool.create_workflow(name=name, workflow_args=name)
    wf.add_tasks(template.create_tasks(n=[1]))
    wf_id = wf.bind()
    for who in ("alice", "bob", "mp_worker", "admin"):
        answer = secure.data(who, READ, id=wf_id)["workflow"]
        assert answer == {
            "__typename": "Workflow",
            "user": "alice",
            "tasks": {"items": [{"command": "echo 1"}]},
        }
    assert secure.post(None, READ, id=wf_id).status_code == 401


def test_metrics_need_a_token_on_a_server_with_tokens(secure: Secure) -> None:
    refused = httpx.get(f"{secure.url}/metrics", timeout=30)
    assert refused.status_code == 401
    assert "requires a token" in refused.json()["errors"][0]["message"]
    wrong = httpx.get(f"{secure.url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401
    for who in ("bob", "mp_worker"):
        scraped = httpx.get(
            f"{secure.url}/metrics",
            headers={"Authorization": f"Bearer {secure.tokens[who]}"},
            timeout=30,
        )
        assert scraped.status_code == 200
        assert "jobmon_" in scraped.text
    assert httpx.get(f"{secure.url}/health", timeout=30).status_code == 200
    assert httpx.get(f"{secure.url}/", timeout=30).status_code == 200  # the dashboard's page
