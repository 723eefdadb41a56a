"""The ASGI application: GraphQL at /graphql, the playground, health, background duties."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from jobmon_server import playground
from jobmon_server.context import Services
from jobmon_server.db.engine import Database
from jobmon_server.db.migrate import upgrade
from jobmon_server.graphql.schema import build_schema
from jobmon_server.limits import RequestLimits
from jobmon_server.metrics import CONTENT_TYPE, Metrics
from jobmon_server.reaper import reap_forever
from jobmon_server.settings import Settings

log = logging.getLogger(__name__)


class JobmonGraphQL(GraphQL):
    """Strawberry's ASGI view with our context and our offline playground."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            build_schema(settings), graphql_ide="graphiql" if settings.playground else None
        )
        self.services = services

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"request": request, "response": response, "services": self.services}

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
    graphql = JobmonGraphQL(services)
    metrics = Metrics(services.db)

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
        reaper = asyncio.create_task(reap_forever(services))
        try:
            yield
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
            services.db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/metrics", serve_metrics),
            *(playground.routes() if settings.playground else []),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(metrics.middleware),
            Middleware(RequestLimits, max_body_bytes=settings.max_body_bytes),
        ],
    )
    app.state.services = services
    return app


def _select_one() -> Any:
    from sqlalchemy import text

    return text("SELECT 1")
