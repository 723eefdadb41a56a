"""Where the client, the worker and the CLI find the server.

Order: an explicit argument, then ``JOBMON_SERVER_URL``, then ``server_url`` in the
config file (``JOBMON_CONFIG`` or ``~/.jobmon/config.toml``), then the default that
``jobmon up`` listens on. A shared server's token comes from ``JOBMON_TOKEN`` or ``token``
in the same file; a worker's (and its Slurm runners') from ``JOBMON_WORKER_TOKEN`` or
``worker_token``, else the same token. The commands a worker runs never see the worker's.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
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


WORKER_TOKEN_VARIABLE = "JOBMON_WORKER_TOKEN"


def worker_token() -> str | None:
    """The worker's credential: ``JOBMON_WORKER_TOKEN``, else ``worker_token`` in the config
    file, else the user's token (an admin's works too)."""
    value = os.environ.get(WORKER_TOKEN_VARIABLE) or read_config().get("worker_token")
    return str(value) if value else token()


def worker_auth_headers() -> dict[str, str]:
    found = worker_token()
    return {"Authorization": f"Bearer {found}"} if found else {}


def task_environment() -> Mapping[str, str]:
    """The environment a task's command runs in: the worker's, without its credential."""
    if WORKER_TOKEN_VARIABLE not in os.environ:
        return os.environ
    return {k: v for k, v in os.environ.items() if k != WORKER_TOKEN_VARIABLE}


_TOKEN_KEY = os.fsencode(WORKER_TOKEN_VARIABLE)


def task_environment_bytes() -> Mapping[bytes, bytes]:
    """``task_environment`` as the encoded mapping the OS takes: ``os.environ``'s own, as it
    is now, unless the credential must be left out. Spawning from it saves decoding every
    variable per task."""
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):
        return {os.fsencode(k): os.fsencode(v) for k, v in task_environment().items()}
    if _TOKEN_KEY not in data:
        return data
    return {k: v for k, v in data.items() if k != _TOKEN_KEY}
