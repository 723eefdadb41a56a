"""The ASGI application: GraphQL at /graphql, the playground, health, background duties."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from jobmon_server import logs, playground
from jobmon_server.auth import MISSING_TOKEN, TokenCache, bearer, init_token
from jobmon_server.context import Services
from jobmon_server.db.engine import Database
from jobmon_server.db.migrate import upgrade
from jobmon_server.events import EventHub
from jobmon_server.graphql.loaders import Loaders
from jobmon_server.graphql.schema import build_schema
from jobmon_server.graphql.transport import (
    CheckedHTTP,
    CheckedTransportWSHandler,
    CheckedWebSocketAdapter,
)
from jobmon_server.limits import RequestLimits
from jobmon_server.metrics import CONTENT_TYPE, Metrics
from jobmon_server.reaper import reap_forever
from jobmon_server.settings import Settings

log = logging.getLogger(__name__)
CONNECTION_INIT_WAIT = timedelta(seconds=10)


class JobmonGraphQL(CheckedHTTP, GraphQL):
    """Strawberry's ASGI view with our context, our offline playground, and bodies and
    websocket messages checked before any GraphQL work (``graphql/transport.py``)."""

    websocket_adapter_class = CheckedWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = CheckedTransportWSHandler  # type: ignore[assignment]

    def __init__(self, services: Services, tokens: TokenCache) -> None:
        settings = services.settings
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.playground else None,
            # A websocket is let in before it authenticates (in connection_init): one that
            # does not is closed soon, so that idle sockets cannot pile up.
            connection_init_wait_timeout=CONNECTION_INIT_WAIT,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.services = services
        self.tokens = tokens

    async def get_context(  # type: ignore[override]  # Strawberry's stub says None
        self, request: Any, response: Any
    ) -> dict[str, Any]:
        identity = request.scope.get("state", {}).get("identity")
        return {
            "request": request,
            "response": response,
            "services": self.services,
            "identity": identity,
            "loaders": Loaders(self.services),
        }

    async def on_ws_connect(self, context: dict[str, Any]) -> Any:  # type: ignore[override]
        """A websocket on a server with tokens authenticates in its ``connection_init``
        payload (``{"token": ...}``), so that no token travels in a URL, which is logged."""
        if self.services.settings.auth != "token" or context.get("identity") is not None:
            return await super().on_ws_connect(context)  # type: ignore[arg-type]
        token = init_token(context.get("connection_params"))
        identity = None
        if token is not None:
            identity = await to_thread.run_sync(self.tokens.identify, self.services.db.read, token)
        if identity is None:
            raise ConnectionRejectionError()
        context["identity"] = identity
        return await super().on_ws_connect(context)  # type: ignore[arg-type]

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(playground.playground_html())


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Starlette:
    settings = settings or Settings()
    if migrate:
        upgrade(settings.db_url)
    services = Services(
        db=Database(
            settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        ),
        settings=settings,
    )
    services.hub = EventHub(services.db, settings.event_poll_seconds, settings.event_notify)
    tokens = TokenCache()
    graphql = JobmonGraphQL(services, tokens)
    metrics = Metrics(services.db)
    logs.redact_tokens_in_server_logs()

    async def serve_metrics(_: Request) -> Response:
        body = await to_thread.run_sync(metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    async def health(_: Request) -> JSONResponse:
        try:
            await services.read(lambda s: s.execute(_select_one()).scalar())
        except Exception as exc:  # noqa: BLE001 - the point is to report any failure
            return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "database": services.db.dialect})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        services.wakeup.bind_loop(asyncio.get_running_loop())
        # What exists now (modules, the schema, the models) lives as long as the process:
        # kept out of the collector's full passes, which would otherwise walk it all and
        # hold the event loop for a few hundred milliseconds.
        gc.freeze()
        duties = [
            asyncio.create_task(reap_forever(services)),
            asyncio.create_task(services.hub.run()),  # type: ignore[union-attr]
        ]
        try:
            yield
        finally:
            for task in duties:
                task.cancel()
            for task in duties:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            services.db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/metrics", serve_metrics),
            *(playground.routes() if settings.playground else []),
            Mount("/", StaticFiles(directory=gui_directory(), html=True), name="dashboard"),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(metrics.middleware),
            *(
                [Middleware(TokenAuth, services=services, tokens=tokens)]
                if settings.auth == "token"
                else []
            ),
            Middleware(RequestLimits, max_body_bytes=settings.max_body_bytes),
        ],
    )
    app.state.services = services
    return app


# What needs a token on a server with tokens: the API and the metrics (they tell who runs
# what). /health, the dashboard's files and the playground page do not.
GUARDED_PATHS = ("/graphql", "/metrics")


class TokenAuth:
    """Refuses requests without a valid token; passes the token's user on.

    A websocket without an ``Authorization`` header (a browser cannot set one) is let
    through to authenticate in its ``connection_init`` (``JobmonGraphQL.on_ws_connect``);
    until then it is served nothing.
    """

    def __init__(self, app: Any, services: Services, tokens: TokenCache) -> None:
        self.app = app
        self.services = services
        self.cache = tokens

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") not in GUARDED_PATHS:
            await self.app(scope, receive, send)
            return
        is_page = (
            scope["type"] == "http"
            and scope.get("path") == "/graphql"
            and scope.get("method") == "GET"
            and not scope.get("query_string")
        )
        if is_page:  # the playground page itself; its requests carry the token
            await self.app(scope, receive, send)
            return
        token = bearer(scope.get("headers", []))
        if token is None and scope["type"] == "websocket":
            await self.app(scope, receive, send)  # it authenticates in connection_init
            return
        identity = None
        if token is not None:
            identity = await to_thread.run_sync(self.cache.identify, self.services.db.read, token)
        if identity is None:
            message = (
                MISSING_TOKEN
                if token is None
                else "the token was not accepted; "
                + ("it may have been revoked: ask an admin for a new one")
            )
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4401, "reason": message[:120]})
                return
            response = JSONResponse({"errors": [{"message": message}]}, status_code=401)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)


def gui_directory() -> Path:
    """The dashboard's files: inside the installed package, or gui/ of a checkout."""
    installed = Path(__file__).resolve().parent / "gui"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[2] / "gui"


def _select_one() -> Any:
    from sqlalchemy import text

    return text("SELECT 1")


def app_from_environment() -> Starlette:
    """For ``uvicorn --factory`` with several worker processes: settings from JOBMON_*
    variables; the database was upgraded once before the processes started."""
    logs.configure(
        os.environ.get("JOBMON_LOG_LEVEL", "info"), os.environ.get("JOBMON_LOG_FORMAT", "plain")
    )
    return create_app(Settings(), migrate=False)
