"""Where the client, the worker and the CLI find the server.

Order: an explicit argument, then ``JOBMON_SERVER_URL``, then ``server_url`` in the
config file (``JOBMON_CONFIG`` or ``~/.jobmon/config.toml``), then the default that
``jobmon up`` listens on. A shared server's token comes from ``JOBMON_TOKEN`` or ``token``
in the same file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

DEFAULT_SERVER_URL = "http://127.0.0.1:8070"


def config_path() -> Path:
    return Path(os.environ.get("JOBMON_CONFIG", Path.home() / ".jobmon" / "config.toml"))


def read_config() -> dict[str, object]:
    path = config_path()
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return tomllib.load(f)


def server_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get("JOBMON_SERVER_URL") or read_config().get("server_url")
    return str(url or DEFAULT_SERVER_URL).rstrip("/")


def graphql_url(explicit: str | None = None) -> str:
    url = server_url(explicit)
    return url if url.endswith("/graphql") else url + "/graphql"


def token() -> str | None:
    """The token for a shared server: ``JOBMON_TOKEN``, else ``token`` in the config file."""
    value = os.environ.get("JOBMON_TOKEN") or read_config().get("token")
    return str(value) if value else None


def auth_headers() -> dict[str, str]:
    found = token()
    return {"Authorization": f"Bearer {found}"} if found else {}
