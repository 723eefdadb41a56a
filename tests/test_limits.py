"""Request limits, request ids and metrics of a real server.

The limits do not depend on the database, so they run on one; the metrics count rows and
run on every database. The depth limit is tested in test_schema.py, without a server.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from jobmon_server.graphql.schema import build_schema
from jobmon_server.settings import Settings
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Stack, one_backend


def post(stack: Stack, query: str) -> httpx.Response:
    return httpx.post(f"{stack.url}/graphql", json={"query": query}, timeout=30)


@one_backend
def test_too_many_aliases_are_refused(stack: Stack) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(101))
    answer = post(stack, f"{{ {aliases} }}").json()
    assert "101 aliases found. Allowed: 100" in answer["errors"][0]["message"]
    assert "data" not in answer or answer["data"] is None


@one_backend
def test_a_long_query_is_refused_and_errors_stop_at_ten(stack: Stack) -> None:
    padding = "# " + "x" * 9_000 + "\n"
    long = post(stack, padding + "{ __typename }")
    assert long.status_code == 400
    message = long.json()["errors"][0]["message"]
    assert "the query is 9,017 characters" in message and "at most 8,192" in message
    # the same in variables is data, not query text: accepted
    answer = httpx.post(
        f"{stack.url}/graphql",
        json={
            "query": "query($n: String!) { __type(name: $n) { name } }",
            "variables": {"n": "x" * 17_000},
        },
        timeout=30,
    )
    assert answer.json() == {"data": {"__type": None}}
    wrong = " ".join(f"a{i}: nope{i}" for i in range(50))
    errors = post(stack, f"{{ {wrong} }}").json()["errors"]
    assert len(errors) == 11 and "Too many validation errors" in errors[-1]["message"]


@one_backend
def test_an_oversized_body_is_refused_whole_or_streamed(stack: Stack) -> None:
    limit = stack.server.server.config.app.state.services.settings.max_body_bytes
    declared = httpx.post(
        f"{stack.url}/graphql",
        content=b" " * (limit + 1),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert declared.status_code == 413
    assert f"exceeds the server's limit of {limit} bytes" in declared.json()["errors"][0]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for _ in range(limit // 2**20 + 2):
            yield b" " * 2**20

    streamed = httpx.post(f"{stack.url}/graphql", content=chunks(), timeout=60)
    assert streamed.status_code == 413
    assert post(stack, "{ __typename }").json() == {"data": {"__typename": "Query"}}


@one_backend
def test_every_response_names_its_request(stack: Stack) -> None:
    first = post(stack, "{ __typename }").headers["x-request-id"]
    second = post(stack, "{ __typename }").headers["x-request-id"]
    assert len(first) == 12 and first != second


def test_metrics_parse_and_count_tasks_and_requests(stack: Stack) -> None:
    post(stack, "{ __typename }")
    text = httpx.get(f"{stack.url}/metrics", timeout=30).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = families["jobmon_http_requests"]
    assert any(
        s.labels == {"path": "/graphql", "method": "POST", "status": "200"} and s.value >= 1
        for s in requests.samples
        if s.name == "jobmon_http_requests_total"
    )
    assert "jobmon_http_request_seconds" in families
    queued = {s.labels["cluster"]: s.value for s in families["jobmon_queued_instances"].samples}
    assert {"sequential", "multiprocess"} <= set(queued)
    assert "jobmon_tasks" in families


def test_introspection_can_be_switched_off() -> None:
    query = "{ __schema { queryType { name } } }"
    assert build_schema(Settings(introspection=True)).execute_sync(query).errors is None
    closed = build_schema(Settings(introspection=False)).execute_sync(query)
    assert closed.errors and "introspection" in closed.errors[0].message.lower()
