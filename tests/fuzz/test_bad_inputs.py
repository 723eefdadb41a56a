"""Every bad input is a clear, typed answer: never a 500, never "Unexpected error", and no
traceback in the server's log. Over HTTP, on the websocket, and in the Python client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient, InvalidTextError

from tests.conftest import Stack
from tests.fuzz.conftest import EdgeServer

LONE = "\ud800"


def post_raw(edge: EdgeServer, body: bytes) -> httpx.Response:
    return httpx.post(
        edge.graphql, content=body, headers={"content-type": "application/json"}, timeout=30
    )


def post(edge: EdgeServer, query: str, variables: dict[str, Any] | None = None) -> Any:
    # json.dumps writes lone surrogates as escapes and inf as Infinity, as a careless
    # client would; httpx's own encoder would refuse them before sending.
    body = json.dumps({"query": query, "variables": variables}).encode()
    answer = post_raw(edge, body)
    assert answer.status_code != 500, answer.text
    return answer


def error_of(answer: httpx.Response) -> str:
    errors = answer.json()["errors"]
    message = errors[0]["message"]
    assert "Unexpected error" not in message, message
    return str(message)


@pytest.fixture(autouse=True)
def _clean_log(edge: EdgeServer) -> Any:
    yield
    assert edge.log_problems() == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "must be a JSON object with query, variables and operationName, not null"),
        (b"true", "not true"),
        (b"12", "not 12"),
        (b'[{"query": "{ __typename }"}]', "does not batch requests"),
        (b'{"query": "{ __typename \xff }"}', "not valid UTF-8"),
        (
            b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 3000 + b"]" * 3000 + b"}}",
            "deeper than 64",
        ),
        (
            b'{"query": "{ __typename }", "variables": {"a": ' + b"1" * 4301 + b"}}",
            "the body holds an integer of 4301 digits; integers may have at most 4300",
        ),
        (
            b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}',
            "variables.a is not valid text: it holds a lone surrogate (U+D800)",
        ),
        (
            b'{"query": "{ __typename }", "variables": {"a": "x\\u0000"}}',
            "variables.a is not valid text: it holds a NUL character",
        ),
        (b'{"query": 12}', "query must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "variables must be an object"),
        (b"{", "not valid JSON"),
    ],
)
def test_a_malformed_body_is_a_400_that_says_why(edge: EdgeServer, body: bytes, says: str) -> None:
    answer = post_raw(edge, body)
    assert answer.status_code == 400
    assert says in error_of(answer)


@pytest.mark.parametrize(
    ("declared", "value", "says"),
    [
        ("Int!", "x", "Int cannot represent non-integer value: 'x'"),
        ("Int!", None, "Expected value of non-null type 'Int!' not to be None."),
        ("Int!", 2**40, "Int cannot represent non 32-bit signed integer value"),
        ("Int!", 1.5, "Int cannot represent non-integer value: 1.5"),
        ("Int!", float("nan"), "Int cannot represent non-integer value: nan"),
    ],
)
def test_a_bad_variable_has_graphql_cores_own_message(
    edge: EdgeServer, declared: str, value: Any, says: str
) -> None:
    answer = post(
        edge, f"query($id: {declared}) {{ workflow(id: $id) {{ __typename }} }}", {"id": value}
    )
    assert answer.status_code == 200
    message = error_of(answer)
    assert message.startswith("Variable '$id' has invalid value") and says in message


def test_dates_floats_and_cursors_are_range_checked_by_name(edge: EdgeServer) -> None:
    garbage = post(
        edge,
        "query($d: DateTime) { workflows(createdAfter: $d) { hasNextPage } }",
        {"d": "garbage"},
    )
    assert "Value cannot represent a DateTime" in error_of(garbage)
    year_one = post(
        edge, '{ workflows(createdAfter: "0001-01-01T00:00:00+05:00") { hasNextPage } }'
    )
    assert "DateTime must lie between 1900-01-01 and 9999-01-01" in error_of(year_one)
    as_variable = post(
        edge,
        "query($d: DateTime) { workflows(createdAfter: $d) { hasNextPage } }",
        {"d": "0001-01-01T00:00:00+05:00"},
    )
    message = error_of(as_variable)
    assert "$d" in message and "DateTime must lie between" in message

    cursor = post(edge, f'{{ workflows(after: "{2**63}") {{ hasNextPage }} }}')
    assert f"'{2**63}' is not a cursor" in error_of(cursor)

    heartbeat = post(
        edge,
        'mutation { heartbeat(workerId: "w", taskInstanceIds: [1], '
        "nextReportSeconds: 1e400) { killInstanceIds } }",
    )
    assert "argument nextReportSeconds of heartbeat must be a finite Float" in error_of(heartbeat)
    week = post(
        edge,
        'mutation { heartbeat(workerId: "w", taskInstanceIds: [1], '
        "nextReportSeconds: 1e9) { killInstanceIds } }",
    )
    assert "nextReportSeconds must be from 0 to 604800" in error_of(week)

    report = (
        "mutation($r: [InstanceReport!]!) { "
        'reportTaskInstances(workerId: "w", reports: $r) { accepted } }'
    )
    rss = post(
        edge,
        report,
        {"r": [{"taskInstanceId": 1, "status": "RUNNING", "maxRssBytes": float("inf")}]},
    )
    assert "variable $r[0].maxRssBytes" in error_of(rss)


def test_clusters_templates_and_subscriptions_over_http_are_answered(edge: EdgeServer) -> None:
    twice = post(
        edge,
        'mutation { registerCluster(name: "twice", distributor: "sequential", '
        'queues: [{name: "q"}, {name: "q"}]) { __typename '
        "... on ValidationError { message field } } }",
    )
    assert twice.json()["data"]["registerCluster"] == {
        "__typename": "ValidationError",
        "message": "queue 'q' is named more than once; name each queue once",
        "field": "queues",
    }
    no_limit = post(
        edge,
        "mutation { setTemplateConcurrency(workflowId: 999999, "
        'templateName: "t", user: "u") { __typename } }',
    )
    assert no_limit.json()["data"]["setTemplateConcurrency"]["__typename"] == "NotFound"

    over_http = post(edge, "subscription { workflowEvents(workflowId: 1) { cursor } }")
    assert "subscriptions are served over the websocket" in error_of(over_http)
    unknown = post_raw(
        edge, json.dumps({"query": "query A { __typename }", "operationName": "B"}).encode()
    )
    assert unknown.status_code == 400 and 'Unknown operation named "B"' in error_of(unknown)


def test_invalid_text_is_refused_before_any_database(stack: Stack) -> None:
    # A NUL written as GraphQL's own escape, in a literal: PostgreSQL cannot store it.
    nul = httpx.post(
        f"{stack.url}/graphql",
        json={
            "query": '{ templateResourceUsage(toolName: "a\\u0000b", templateName: "t") '
            "{ numInstances } }"
        },
        timeout=30,
    ).json()
    assert nul["errors"][0]["message"] == (
        "argument toolName of templateResourceUsage is not valid text: it holds a NUL character"
    )
    for document, variables in [
        ("mutation($n: String!) { bindTool(name: $n) { __typename } }", {"n": f"a{LONE}"}),
        (
            'mutation($n: String!) { registerCluster(name: $n, distributor: "sequential", '
            "queues: []) { __typename } }",
            {"n": LONE},
        ),
        (
            "mutation($t: JSON!) { bindTasks(workflowId: 1, tasks: $t) { __typename } }",
            {"t": {"commands": [f"echo {LONE}"]}},
        ),
    ]:
        answer = httpx.post(
            f"{stack.url}/graphql",
            content=json.dumps({"query": document, "variables": variables}).encode(),
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 400, answer.text
        assert "lone surrogate (U+D800)" in answer.json()["errors"][0]["message"]


def test_the_python_client_refuses_a_lone_surrogate_before_sending() -> None:
    # No server listens here: the refusal must come before any attempt to send.
    client = GraphQLClient("http://127.0.0.1:9/graphql", retries=0)
    with pytest.raises(InvalidTextError, match=r"variables\.name is not valid text"):
        client.execute(
            "mutation($name: String!) { bindTool(name: $name) { __typename } }",
            {"name": f"tool{LONE}"},
        )
    with pytest.raises(InvalidTextError, match=r"variables\.t\.commands\[1\]"):
        client.execute("query { __typename }", {"t": {"commands": ["ok", f"{LONE}"]}})


def test_the_websocket_answers_bad_operations_alone(edge: EdgeServer) -> None:
    async def session() -> dict[str, Any]:
        url = edge.graphql.replace("http", "ws", 1)
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "id": "live",
                        "payload": {"query": "subscription { workflowStatusChanges { cursor } }"},
                    }
                )
            )
            bad = {
                "name": {"query": "query A { __typename }", "operationName": "B"},
                "syntax": {"query": "{ ("},
                "surrogate": {"query": "{ __typename }", "variables": {"a": LONE}},
            }
            for op_id, payload in bad.items():
                await ws.send(json.dumps({"type": "subscribe", "id": op_id, "payload": payload}))
            await ws.send(
                '{"type": "subscribe", "id": "digits", "payload": {"query": '
                '"query($i: Int!) { workflow(id: $i) { __typename } }", '
                '"variables": {"i": ' + "1" * 5000 + "}}}"
            )
            answers: dict[str, Any] = {}
            while len(answers) < 4:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                answers[message["id"]] = message
            # The socket and its subscription live on: a new operation is answered, and the
            # live subscription is still there to be completed.
            await ws.send(
                json.dumps(
                    {"type": "subscribe", "id": "after", "payload": {"query": "{ __typename }"}}
                )
            )
            await ws.send(json.dumps({"type": "ping"}))
            while "pong" not in answers or "after" not in answers:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                answers.setdefault(message.get("id") or message["type"], message)
            return answers

    answers = asyncio.run(session())
    messages = {
        k: v["payload"][0]["message"] for k, v in answers.items() if v.get("type") == "error"
    }
    assert messages["name"] == 'Unknown operation named "B".'
    assert messages["syntax"].startswith("Syntax Error")
    assert "lone surrogate" in messages["surrogate"]
    assert "an integer of 5000 digits" in messages["digits"]
    assert answers["after"]["payload"] == {"data": {"__typename": "Query"}}
    assert answers["pong"]["type"] == "pong"
    assert all("Unexpected error" not in m for m in messages.values())


def test_a_cycle_sent_by_raw_mutations_is_refused_with_the_clients_message(
    edge: EdgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMON_SERVER_URL", edge.url)
    register = (
        'mutation { registerCluster(name: "sequential", distributor: "sequential", '
        'queues: [{name: "null.q", default: true}]) { __typename } }'
    )
    assert post(edge, register).json()["data"]["registerCluster"]["__typename"] == "Cluster"
    tool = Tool(name="cycle_edge")
    tool.set_default_cluster_name("sequential")
    template = tool.get_task_template(
        template_name="t", command_template="echo {a}", node_args=["a"]
    )
    a, b, c = (template.create_task(a=i, name=f"t{i}") for i in range(3))
    b.add_upstream(a)
    c.add_upstream(b)
    wf = tool.create_workflow(name="cycle", workflow_args="edge")
    wf.add_tasks([a, b, c])
    wf.bind()
    edges = post(
        edge,
        "mutation($w: Int!, $u: JSON!, $d: JSON!) { bindEdges(workflowId: $w, "
        "upstreamTaskIds: $u, downstreamTaskIds: $d) { __typename } }",
        {"w": wf.workflow_id, "u": [c.task_id], "d": [a.task_id]},
    )
    assert edges.json()["data"]["bindEdges"]["__typename"] == "BoundEdges"
    complete = post(
        edge,
        "mutation($w: Int!) { completeBind(workflowId: $w, totalTasks: 3) { "
        "__typename ... on ValidationError { message } } }",
        {"w": wf.workflow_id},
    )
    refusal = complete.json()["data"]["completeBind"]
    assert refusal["__typename"] == "ValidationError"

    client_side = tool.create_workflow(name="cycle2", workflow_args="edge2")
    x, y, z = (template.create_task(a=i, name=f"t{i}") for i in range(3))
    y.add_upstream(x)
    z.add_upstream(y)
    x.add_upstream(z)
    client_side.add_tasks([x, y, z])
    with pytest.raises(ValueError) as raised:
        client_side.bind()
    prefix = "the task dependencies form a cycle through task '"
    suffix = "; remove one of these dependencies"
    for message in (refusal["message"], str(raised.value)):
        assert message.startswith(prefix) and message.endswith(suffix)
        path = message[message.index(": ") + 2 : -len(suffix)].split(" -> ")
        assert sorted(path[:-1]) == ["t0", "t1", "t2"] and path[0] == path[-1]


def test_a_message_that_is_not_an_object_closes_the_socket_with_a_reason(
    edge: EdgeServer,
) -> None:
    async def close_reason(message: str) -> tuple[int | None, str | None]:
        url = edge.graphql.replace("http", "ws", 1)
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
            await ws.send(message)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code, ws.close_reason

    for message in ("5", "[]", '"subscribe"', "null"):
        code, reason = asyncio.run(close_reason(message))
        assert (code, reason) == (4400, "a message must be a JSON object with a type")


def test_a_websocket_connection_has_a_request_id_for_its_masked_errors() -> None:
    from jobmon_server.graphql.masking import request_id_of
    from jobmon_server.limits import RequestLimits
    from starlette.websockets import WebSocket

    seen: dict[str, Any] = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen["id"] = request_id_of({"request": WebSocket(scope, receive, send)})

    scope = {"type": "websocket", "path": "/graphql", "headers": []}
    asyncio.run(RequestLimits(app, max_body_bytes=10)(scope, None, None))
    assert len(seen["id"]) == 12 and seen["id"] != "unknown"


@pytest.mark.parametrize(
    ("content_type", "says"),
    [
        ("application/json-seq", "must be a JSON object"),
        ("application/json; charset=utf-8", "must be a JSON object"),
        ("text/plain", "Unsupported content type"),
        ("multipart/form-data; boundary=x", "Unsupported content type"),
    ],
)
def test_a_body_of_any_content_type_is_answered_with_a_400(
    edge: EdgeServer, content_type: str, says: str
) -> None:
    answer = httpx.post(
        edge.graphql, content=b"null", headers={"content-type": content_type}, timeout=30
    )
    assert answer.status_code == 400 and says in error_of(answer)
    get = httpx.get(edge.graphql, params={"query": "{ __typename }", "variables": "null"})
    assert get.status_code in (200, 400) and "Unexpected" not in get.text
    deep = httpx.get(edge.graphql, params={"query": "{ __typename }", "variables": "[" * 3000})
    assert deep.status_code == 400
    assert any(says in error_of(deep) for says in ("not valid JSON", "deeper than 64"))
