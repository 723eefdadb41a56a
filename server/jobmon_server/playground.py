"""GraphiQL playground served from local files, so it works without internet access.

Strawberry's built-in GraphiQL page loads React and GraphiQL from a CDN. This page loads
the same libraries from ``static/graphiql`` instead (see the README there for versions
and licenses). Mount ``routes()`` in the app and answer a browser's GET on the GraphQL
path with ``playground_html()``.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR: Path = Path(__file__).parent / "static" / "graphiql"
STATIC_PATH = "/static/graphiql"
DEFAULT_GRAPHQL_PATH = "/graphql"
_PATH_META = f'<meta name="jobmon-graphql-path" content="{DEFAULT_GRAPHQL_PATH}" />'


def routes() -> list[BaseRoute]:
    """Routes serving the playground's scripts and styles under ``/static/graphiql``."""
    return [Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static")]


@functools.cache
def _template() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def playground_html(graphql_path: str = DEFAULT_GRAPHQL_PATH) -> str:
    """The playground page for the GraphQL endpoint at ``graphql_path`` on this origin.

    The page builds the HTTP and WebSocket URLs from ``window.location`` and this path.
    """
    page = _template()
    if graphql_path == DEFAULT_GRAPHQL_PATH:
        return page
    meta = f'<meta name="jobmon-graphql-path" content="{html.escape(graphql_path)}" />'
    return page.replace(_PATH_META, meta, 1)
