"""No request stalls others: each hostile request below is refused before the work that
would stall the server, while /health keeps answering.

Two measures, neither a race against a busy machine: the server's event loop (its main
thread) spends less than 100 ms of CPU on the hostile request, and /health, asked again and
again while the request is in flight, answers each time within a second (the stalls these
requests caused took seconds). Large bodies are decoded on a worker thread; Python's JSON
decoder holds the interpreter's lock while it runs, about 25 ms a megabyte, which the
second measure bounds.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jobmon_server.graphql.caches import BYTES_PER_CHARACTER, DocumentCache

from tests.fuzz.conftest import EdgeServer, health_while

CPU_WITHIN = 0.1
HEALTH_WITHIN = 1.0


def send(edge: EdgeServer, query: str, variables: dict[str, Any] | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()

    def hostile() -> dict:
        answer = httpx.post(
            edge.graphql,
            content=body,
            headers={"content-type": "application/json"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    before = edge.loop_cpu_seconds()
    answer = hostile()
    used = edge.loop_cpu_seconds() - before
    assert used < CPU_WITHIN, f"the event loop spent {used:.2f} s of CPU on the request"
    again, latencies = health_while(edge.url, hostile)
    assert again == answer
    assert max(latencies) < HEALTH_WITHIN, f"/health took {max(latencies):.3f} s"
    return answer


def refusal(answer: dict) -> str:
    assert answer.get("data") is None, answer
    return str(answer["errors"][0]["message"])


def fragment_bomb(levels: int) -> str:
    fragments = ["fragment F0 on Query { __typename }"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    return f"query {{ ...F{levels} }} " + " ".join(fragments)


def test_a_fragment_bomb_is_refused_before_validation(edge: EdgeServer) -> None:
    bomb = fragment_bomb(20)
    assert len(bomb) < 1100
    message = refusal(send(edge, bomb))
    assert message == (
        "the operation has 1,048,576 fields once its fragments are spread, over the limit "
        "of 3,000; ask for fewer fields or aliases"
    )
    deeper = refusal(send(edge, fragment_bomb(40)))
    assert "1,099,511,627,776 fields" in deeper
    # Validators visit every operation: naming another one does not let the bomb through.
    named = refusal(send(edge, fragment_bomb(20) + " query Other { __typename }"))
    assert "1,048,577 fields" in named
    both = fragment_bomb(20) + " query Other { __typename }"
    for name, says in (("Other", "1,048,577 fields"), ("Missing", "Unknown operation named")):
        answer = httpx.post(edge.graphql, json={"query": both, "operationName": name}, timeout=60)
        assert says in answer.json()["errors"][0]["message"]


def test_a_cycle_of_fragments_is_refused(edge: EdgeServer) -> None:
    cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    assert "(a cycle of fragments)" in refusal(send(edge, cycle))


def test_a_costly_query_is_refused_with_its_cost_and_the_limit(edge: EdgeServer) -> None:
    page = "workflows(first: 1000) { items { tasks(first: 1000) { items { id } } } }"
    many = "{ " + " ".join(f"a{i}: {page}" for i in range(100)) + " }"
    assert len(many) < 10_000
    message = refusal(send(edge, many))
    assert message.startswith("the operation's cost is 300,200,000 ")
    assert "over the limit of 500,000; ask for smaller pages (first) or fewer aliases" in message
    one = refusal(send(edge, f"{{ {page} }}"))
    assert "cost is 3,002,000" in one
    # Page sizes given as variables count too.
    by_variable = refusal(
        send(
            edge,
            "query($n: Int!) { workflows(first: $n) { items { tasks(first: $n) { items { id } } "
            "} } }",
            {"n": 1000},
        )
    )
    assert "cost is 3,002,000" in by_variable
    # Ordinary pages are answered, the client's largest among them.
    fine = send(edge, "{ workflows(first: 100) { items { id } hasNextPage } }")
    assert "errors" not in fine
    nodes = send(
        edge,
        "{ workflow(id: 1) { __typename ... on Workflow { taskNodes(first: 50000) { "
        "items { id templateVersionId nodeArgsHash } endCursor hasNextPage } } } }",
    )
    assert "errors" not in nodes


@pytest.mark.parametrize(
    ("query", "variables", "says"),
    [
        (
            "mutation($t: [TaskTemplateInput!]!) { bindTaskTemplates(toolVersionId: 1, "
            "templates: $t) { __typename } }",
            {
                "t": [
                    {
                        "name": f"t{i}",
                        "commandTemplate": "x",
                        "nodeArgs": [],
                        "taskArgs": [],
                        "opArgs": [],
                    }
                    for i in range(20_000)
                ]
            },
            "templates of bindTaskTemplates has 20,000 items, over the limit of 500",
        ),
        (
            'mutation($r: [InstanceReport!]!) { reportTaskInstances(workerId: "w", '
            "reports: $r) { accepted } }",
            {"r": [{"taskInstanceId": i, "status": "RUNNING"} for i in range(50_000)]},
            "reports of reportTaskInstances has 50,000 items, over the limit of 1,000",
        ),
        (
            'mutation($i: [Int!]!) { heartbeat(workerId: "w", taskInstanceIds: $i, '
            "nextReportSeconds: 60) { killInstanceIds } }",
            {"i": list(range(200_000))},
            "taskInstanceIds of heartbeat has 200,000 items, over the limit of 10,000",
        ),
    ],
    ids=["bindTaskTemplates", "reportTaskInstances", "heartbeat"],
)
def test_a_typed_batch_past_its_bound_is_refused_before_coercion(
    edge: EdgeServer, query: str, variables: dict, says: str
) -> None:
    message = refusal(send(edge, query, variables))
    assert says in message and message.endswith("a request; send them in batches")


def test_lists_inside_inputs_count_towards_a_bound_too(edge: EdgeServer) -> None:
    template = {"name": "t", "commandTemplate": "x", "taskArgs": [], "opArgs": []}
    templates = [{**template, "nodeArgs": ["a"] * 10_000} for _ in range(3)]
    message = refusal(
        send(
            edge,
            "mutation($t: [TaskTemplateInput!]!) { bindTaskTemplates(toolVersionId: 1, "
            "templates: $t) { __typename } }",
            {"t": templates},
        )
    )
    assert message == (
        "variable $t[1].nodeArgs brings the request's typed list items past 20,000 (each is "
        "coerced one by one); send them in batches"
    )


def test_json_batches_past_their_bounds_are_refused(edge: EdgeServer) -> None:
    sync = send(
        edge,
        'mutation($r: JSON!) { workerSync(workerId: "w", clusterName: "nowhere", reports: $r) '
        "{ accepted } }",
        {"r": [{"taskInstanceId": i, "status": "RUNNING"} for i in range(20_000)]},
    )
    assert "at most 10000 reports a request, not 20000" in refusal(sync)
    n = 10_001
    columns = {
        "templateVersionIds": [1] * n,
        "names": ["n"] * n,
        "commands": ["true"] * n,
        "nodeArgs": [{}] * n,
        "taskArgs": [{}] * n,
        "maxAttempts": [1] * n,
        "resourceIndexes": [0] * n,
        "resources": [],
    }
    tasks = send(
        edge,
        "mutation($t: JSON!) { bindTasks(workflowId: 1, tasks: $t) { __typename "
        "... on ValidationError { message } } }",
        {"t": columns},
    )
    assert tasks["data"]["bindTasks"]["message"].startswith(
        "at most 10,000 tasks a request, not 10,001"
    )
    ids = list(range(50_001))
    edges = send(
        edge,
        "mutation($u: JSON!, $d: JSON!) { bindEdges(workflowId: 1, upstreamTaskIds: $u, "
        "downstreamTaskIds: $d) { __typename ... on ValidationError { message } } }",
        {"u": ids, "d": ids},
    )
    assert edges["data"]["bindEdges"]["message"].startswith(
        "at most 50,000 edges a request, not 50,001"
    )
    usage = send(
        edge,
        'query($n: JSON) { templateResourceUsage(toolName: "a", templateName: "b", '
        "nodeArgs: $n) { numInstances } }",
        {"n": {"location_id": [str(i) for i in range(20_000)]}},
    )
    assert (
        refusal(usage) == "nodeArgs holds 20,000 values, over the limit of 10,000; ask about fewer"
    )


def test_a_large_body_is_decoded_off_the_event_loop(edge: EdgeServer) -> None:
    # 5 MB of JSON, checked (nesting, text) on a worker thread, answered in full.
    filler = [{"a": ["x" * 100, 1, 2.5]}] * 40_000
    answer = send(
        edge,
        "mutation($f: JSON!) { bindTasks(workflowId: 1, tasks: $f) { __typename } }",
        {"f": filler},
    )
    assert answer == {"data": {"bindTasks": {"__typename": "ValidationError"}}}


@pytest.fixture(autouse=True)
def _clean_log(edge: EdgeServer) -> Any:
    yield
    assert edge.log_problems() == []


def test_the_document_cache_is_bounded_by_bytes() -> None:
    cache = DocumentCache(budget_bytes=10 * 2**20)
    from graphql import parse
    from jobmon_server.graphql.caches import Entry

    for i in range(2000):
        query = "{ " + f"a{i}: __typename " * 300 + "}"
        cache.put(query, Entry(parse("{ __typename }")))
        assert cache.used_bytes <= cache.budget_bytes
    assert 0 < len(cache) <= 10 * 2**20 // (len(query) * BYTES_PER_CHARACTER)
    newest = "{ " + "a1999: __typename " * 300 + "}"
    assert cache.get(newest) is not None
    huge = "{ " + "b: __typename " * 10_000 + "}"
    cache.put(huge, Entry(parse("{ __typename }")))
    assert cache.get(huge) is None


def test_every_document_the_python_client_sends_is_within_the_bounds() -> None:
    import importlib
    import pkgutil

    import jobmon_client
    from graphql import GraphQLError, OperationDefinitionNode, parse
    from jobmon_client.binding import TASK_NODE_PAGE, TASK_NODES
    from jobmon_server.graphql.budget import Bounds, Refused, check
    from jobmon_server.graphql.schema import schema

    documents = {}
    for module in pkgutil.walk_packages(jobmon_client.__path__, "jobmon_client."):
        if ".slurm" in module.name or module.name.endswith("__main__"):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if isinstance(value, str) and value.lstrip().startswith(("query", "mutation")):
                try:
                    documents[f"{module.name}.{name}"] = (value, parse(value))
                except GraphQLError:
                    continue
    assert len(documents) > 20
    for where, (text, document) in documents.items():
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        first = TASK_NODE_PAGE if text == TASK_NODES else 1000
        variables = {
            v.variable.name.value: first
            for v in operation.variable_definitions or ()
            if v.variable.name.value == "first"
        }
        try:
            check(schema._schema, document, None, variables, Bounds())
        except Refused as exc:
            raise AssertionError(f"{where}: {exc}") from None
