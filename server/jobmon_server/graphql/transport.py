"""How requests reach the schema: bodies over HTTP and messages on the websocket, checked.

Over HTTP a malformed body is a 400 whose JSON says why. On the websocket a bad operation
(an integer of thousands of digits, a lone surrogate, an unknown operation name, a syntax
error) is answered with an error for that operation alone: the socket and the other
subscriptions on it go on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import suppress
from typing import Any

from anyio import to_thread
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.responses import JSONResponse, Response
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import NonTextMessageReceived
from strawberry.http.typevars import Context, RootValue
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage
from strawberry.utils.aio import aclosing

from jobmon_server.graphql import bodies

DECODE_OFF_LOOP_BYTES = 1 << 20
"""Bodies larger than this are decoded on a worker thread, not on the event loop."""


def error_response(message: str, status: int = 400) -> Response:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


class CheckedHTTP:
    """Mixed into the GraphQL view: strict, bounded decoding of every HTTP body."""

    def parse_json(self, data: str | bytes) -> Any:  # GET's variables and extensions
        try:
            return bodies.decode(data)
        except bodies.BadBody as exc:
            raise HTTPException(400, str(exc)) from None

    async def parse_http_body(self, request: Any) -> Any:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        streaming = self._get_stream_transport_from_headers(request.headers)  # type: ignore[attr-defined]
        if request.method != "POST" or "application/json" not in content_type or streaming:
            return await super().parse_http_body(request)  # type: ignore[misc]
        body = await request.get_body()
        try:
            if len(body) > DECODE_OFF_LOOP_BYTES:
                value = await to_thread.run_sync(bodies.decode, body)
            else:
                value = bodies.decode(body)
            data = bodies.request_of(value)
        except bodies.BadBody as exc:
            raise HTTPException(400, str(exc)) from None
        return GraphQLRequestData(
            query=data.get("query"),
            variables=data.get("variables"),
            operation_name=data.get("operationName"),
            extensions=data.get("extensions"),
            protocol="http",
        )

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        try:
            return await super().run(request)  # type: ignore[misc]
        except HTTPException as exc:  # Strawberry's own refusals, as JSON like ours
            return error_response(exc.reason, exc.status_code)


REFUSED = "jobmon.refused"
"""The type of a message this adapter made from one it could not accept."""


class CheckedWebSocketAdapter(ASGIWebSocketAdapter):
    """Decodes websocket messages with the same bounds as HTTP bodies.

    A subscribe message whose payload is refused becomes a REFUSED message for its id, so
    that the handler answers that operation alone; anything else refused closes the socket
    (4400) with the reason, as the protocol asks of invalid messages.
    """

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[Any, None]:
        from starlette.websockets import WebSocketDisconnect, WebSocketState

        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    yield bodies.decode(text)
                except bodies.BadBody as exc:
                    yield _refusal(text, str(exc))
        except KeyError:
            raise NonTextMessageReceived from None
        except WebSocketDisconnect:
            pass


def _refusal(text: str, reason: str) -> dict[str, Any]:
    """The id of a refused message, found by a lenient second reading, and why."""
    found: Any = None
    with suppress(ValueError, RecursionError):
        found = json.loads(text, parse_int=lambda _: 0)
    message_id = found.get("id") if isinstance(found, dict) else None
    return {
        "type": REFUSED,
        "id": message_id if isinstance(message_id, str) else None,
        "reason": reason,
        "subscribe": isinstance(found, dict) and found.get("type") == "subscribe",
    }


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, RootValue]):
    """graphql-transport-ws where one bad operation never ends the others."""

    async def handle_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            await self.handle_invalid_message("a message must be a JSON object with a type")
            return
        if message.get("type") == REFUSED:
            if message["subscribe"] and message["id"] and self.connection_acknowledged:
                await self.send_message(
                    {
                        "id": message["id"],
                        "type": "error",  # type: ignore[typeddict-item]
                        "payload": [{"message": message["reason"]}],
                    }
                )
                return
            await self.handle_invalid_message(message["reason"][:120])
            return
        if message.get("type") == "subscribe":
            payload = message.get("payload")
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                await self.handle_invalid_message("a subscribe message needs payload.query")
                return
            try:
                bodies.request_of(payload, what="the payload")
            except bodies.BadBody as exc:
                await self.send_message(
                    {
                        "id": str(message.get("id")),
                        "type": "error",  # type: ignore[typeddict-item]
                        "payload": [{"message": str(exc)}],
                    }
                )
                return
        await super().handle_message(message)  # type: ignore[arg-type]

    async def run_operation(self, operation: Operation[Context, RootValue]) -> None:
        """Strawberry's, but an unknown operation name is that operation's error."""
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message(
                CompleteMessage(id=operation.id, type="complete")
            )
        except _OperationStreamClosed:
            return
        except CannotGetOperationTypeError as exc:
            await operation.send_initial_errors([GraphQLError(exc.as_http_error_reason())])
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None  # an operation's own error is sent to it as an error message
