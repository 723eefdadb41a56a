"""Independent requests sent a few at a time, so that the server is never idle between them.

A bind sends a million tasks as a hundred chunk requests. One at a time, the server waits
while the client builds and sends the next and the client waits while the server stores
one; with two in flight, the server reads and checks one request while it stores the one
before.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from jobmon_client.transport import GraphQLClient, unwrap

PIPELINE_DEPTH = 2  # requests in flight at once


def execute_pipelined(
    client: GraphQLClient, document: str, field: str, requests: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Send independent, idempotent requests with up to ``PIPELINE_DEPTH`` in flight, each
    thread on a connection of its own; answer their results in order. ``requests`` is read
    as they go, so that a million tasks' requests are never all in memory."""
    pending = iter(requests)
    first = next(pending, None)
    if first is None:
        return []
    second = next(pending, None)
    if second is None:
        return [unwrap(client.execute(document, first), field)]
    local = threading.local()
    copies: list[GraphQLClient] = []

    def send(variables: dict[str, Any]) -> dict[str, Any]:
        own = getattr(local, "client", None)
        if own is None:
            own = local.client = client.copy()
            copies.append(own)  # list.append is atomic
        return unwrap(own.execute(document, variables), field)

    answers = []
    in_flight: deque[Future[dict[str, Any]]] = deque()
    try:
        with ThreadPoolExecutor(PIPELINE_DEPTH, thread_name_prefix="jobmon-requests") as pool:
            try:
                in_flight.extend(pool.submit(send, v) for v in (first, second))
                for variables in pending:
                    answers.append(in_flight.popleft().result())
                    in_flight.append(pool.submit(send, variables))
                while in_flight:
                    answers.append(in_flight.popleft().result())
            finally:
                for future in in_flight:
                    future.cancel()
    finally:
        for copy in copies:
            copy.close()
    return answers
