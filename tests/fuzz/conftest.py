"""A real server on a loopback port over SQLite, with its log captured, for hostile requests.

Everything here is refused at the edge, before any database work, so one backend tells
what every backend does (tests/fuzz/test_bad_inputs.py sends lone surrogates to all three).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from jobmon_server.embedded import EmbeddedServer, start
from jobmon_server.settings import Settings

T = TypeVar("T")


class Captured(logging.Handler):
    """Every record the server logs at WARNING or above, and every traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING or record.exc_info:
            self.records.append(record)

    def problems(self) -> list[str]:
        return [
            f"{r.name} {r.levelname}: {r.getMessage()[:300]}"
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()
        ]


@dataclass
class EdgeServer:
    server: EmbeddedServer
    log: Captured
    health: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def graphql(self) -> str:
        return f"{self.server.url}/graphql"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    db = tmp_path_factory.mktemp("edge") / "jobmon.db"
    captured = Captured()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("strawberry")]
    for logger in loggers:
        logger.addHandler(captured)
    server = start(port=0, settings=Settings(db_url=f"sqlite:///{db}"))
    try:
        yield EdgeServer(server, captured)
    finally:
        server.stop()
        for logger in loggers:
            logger.removeHandler(captured)


def health_while(url: str, hostile: Callable[[], T]) -> tuple[T, list[float]]:
    """Run ``hostile`` on a thread and time /health answers until it returns."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = hostile()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            outcome["error"] = exc

    latencies: list[float] = []
    with httpx.Client(timeout=30) as client:
        client.get(f"{url}/health")  # the connection is open before timing starts
        thread = threading.Thread(target=run)
        thread.start()
        while thread.is_alive() or not latencies:
            started = time.perf_counter()
            answer = client.get(f"{url}/health")
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], latencies
