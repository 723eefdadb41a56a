"""Request ids and the request body limit, as plain ASGI middleware.

Every HTTP request gets an id, sent back as ``X-Request-Id`` and named in the log and in
masked errors, so that a user's report can be matched with the server's log. A body over
the limit is refused with 413 before the GraphQL layer reads it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from jobmon_server import logs

Scope = dict[str, Any]
Message = dict[str, Any]


class RequestLimits:
    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = request_id
        logs.request_id.set(request_id)
        if scope["type"] == "websocket":  # one id for the connection, named in its errors
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(declared, send_with_id)
            return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # No length given (chunked): read up to the limit, then replay what was read.
            body, more, size = [], True, 0
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await self._refuse(size, send_with_id)
                    return
                body.append(chunk)
                more = message.get("more_body", False)
            replay = [{"type": "http.request", "body": b"".join(body), "more_body": False}]

            async def receive_again() -> Message:
                return replay.pop() if replay else await receive()

            await self.app(scope, receive_again, send_with_id)
            return
        await self.app(scope, receive, send_with_id)

    async def _refuse(self, size: int, send: Any) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": (
                            f"the request body ({size} bytes or more) exceeds the server's "
                            f"limit of {self.max_body_bytes} bytes; send smaller batches"
                        )
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
