"""A server inside another process (``jobmon up``, tests): uvicorn on a thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from jobmon_server.app import create_app
from jobmon_server.settings import Settings


@dataclass
class EmbeddedServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start(
    host: str = "127.0.0.1",
    port: int = 8070,
    db_url: str | None = None,
    timeout: float = 30.0,
    log_level: str = "warning",
    settings: Settings | None = None,
) -> EmbeddedServer:
    """Start the server on a thread and return once it accepts requests."""
    if settings is None:
        settings = Settings(db_url=db_url) if db_url else Settings()
    if port == 0:
        port = free_port(host)
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="jobmon-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the Jobmon server did not start on {host}:{port}")
        time.sleep(0.02)
    return EmbeddedServer(f"http://{host}:{port}", server, thread)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
