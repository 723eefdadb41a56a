"""Following streams of the server over WebSocket (graphql-transport-ws).

``follow(document, variables, cursor_field)`` yields each item and, when the connection
drops, reconnects with the cursor of the last item it yielded, so nothing is lost and
nothing repeats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from jobmon_client.config import auth_headers, graphql_url
from jobmon_client.transport import ServerError

log = logging.getLogger(__name__)


def websocket_url(server_url: str | None = None) -> str:
    url = graphql_url(server_url)
    return "ws" + url.removeprefix("http") if url.startswith("http") else url


def subscribe(
    server_url: str | None, document: str, variables: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """One subscription, until the server ends it or the connection drops (which raises)."""
    transport = WebsocketsTransport(
        url=websocket_url(server_url),
        headers=auth_headers(),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        ping_interval=20,
        pong_timeout=20,
    )
    client = Client(transport=transport)
    request = GraphQLRequest(gql(document), variable_values=variables)
    try:
        yield from client.subscribe(request)
    except TransportQueryError as exc:
        messages = "; ".join(e.get("message", str(e)) for e in exc.errors or []) or str(exc)
        raise ServerError(messages) from None


def follow(
    server_url: str | None,
    document: str,
    variables: dict[str, Any],
    field: str,
    *,
    after: str | None = None,
    retry_seconds: float = 2.0,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[dict[str, Any]]:
    """Items of a cursor stream, reconnecting after failures from the last cursor seen."""
    cursor = after
    while not stop():
        try:
            for result in subscribe(server_url, document, {**variables, "after": cursor}):
                item = result[field]
                cursor = item["cursor"]
                yield item
            return
        except ServerError:
            raise
        except Exception as exc:  # noqa: BLE001 - any transport failure: reconnect
            log.warning("subscription lost (%s); reconnecting from %s", exc, cursor)
            time.sleep(retry_seconds)
