"""No token in a URL that is logged: the dashboard authenticates its websocket in
``connection_init``, and the server's log never carries a token, even one a careless
client put in a URL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jobmon_server.auth import create_token
from jobmon_server.db.engine import Database
from jobmon_server.db.migrate import upgrade
from jobmon_server.embedded import free_port
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.browser import CHROMIUM, launch
from tests.conftest import unavailable
from tests.helpers import wait_until

JOBMON = str(Path(sys.executable).parent / "jobmon")


@dataclass
class LoggedServer:
    url: str
    log: Path
    tokens: dict[str, str]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServer]:
    """``jobmon server --auth token`` in its own process, logging at INFO to a file."""
    directory = tmp_path_factory.mktemp("logged-server")
    db_url = f"sqlite:///{directory / 'jobmon.db'}"
    upgrade(db_url)
    database = Database(db_url)
    with database.write() as session:
        tokens = {"alice": create_token(session, "alice"), "bob": create_token(session, "bob")}
    database.dispose()
    port = free_port()
    log = directory / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [JOBMON, "server", "--port", str(port), "--auth", "token", "--db", db_url],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: _healthy(url),
            "the server answers /health",
            abort=lambda: None if process.poll() is None else log.read_text(),
        )
        yield LoggedServer(url, log, tokens)
    finally:
        process.terminate()
        process.wait(30)


def test_the_dashboard_authenticates_its_websocket_in_connection_init(
    logged: LoggedServer,
) -> None:
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed; run scripts/browser.sh")
    from playwright.sync_api import sync_playwright

    token = logged.tokens["alice"]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.add_init_script(f"localStorage.setItem('jobmonToken', {json.dumps(token)})")
            acked: list[str] = []
            with page.expect_websocket(timeout=30_000) as opened:
                page.goto(f"{logged.url}/")
            socket = opened.value

            def on_frame(payload: Any) -> None:
                text = payload if isinstance(payload, str) else payload.decode()
                if json.loads(text).get("type") == "connection_ack":
                    acked.append(text)

            socket.on("framereceived", on_frame)
            deadline = time.monotonic() + 30
            while not acked and time.monotonic() < deadline:
                page.wait_for_timeout(50)  # lets Playwright deliver the frames
            assert acked, "the server did not acknowledge the dashboard's websocket"
            assert "token" not in socket.url
        finally:
            browser.close()
    text = logged.log_text()
    assert "WebSocket /graphql" in text  # the websocket's request line is logged ...
    assert token not in text  # ... with no token in it


def test_a_websocket_without_a_token_in_connection_init_is_refused(
    logged: LoggedServer,
) -> None:
    ws_url = logged.url.replace("http://", "ws://") + "/graphql"
    for payload in ({}, {"token": "not-a-token"}):
        with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        socket.send(
            json.dumps({"type": "connection_init", "payload": {"token": logged.tokens["bob"]}})
        )
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"


def test_a_token_a_client_puts_in_a_url_is_refused_and_not_logged(
    logged: LoggedServer,
) -> None:
    token = logged.tokens["bob"]
    for path in ("/graphql?op=1&token=", "/metrics?access_token="):
        answer = httpx.get(f"{logged.url}{path}{token}", timeout=30)
        assert answer.status_code == 401  # a token is taken from the Authorization header only
    ws_url = logged.url.replace("http://", "ws://") + f"/graphql?token={token}"
    with connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
    # The access line is written after the answer.
    wait_until(
        lambda: "/metrics?access_token=[redacted]" in logged.log_text(),
        "the access line of /metrics is logged",
        timeout=10,
        interval=0.05,
    )
    text = logged.log_text()
    assert "/graphql?op=1&token=[redacted]" in text
    assert "/graphql?token=[redacted]" in text
    assert token not in text


def test_a_websocket_that_never_authenticates_is_closed(logged: LoggedServer) -> None:
    ws_url = logged.url.replace("http://", "ws://") + "/graphql"
    started = time.monotonic()
    with (
        connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket,  # type: ignore[list-item]
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    assert time.monotonic() - started < 20  # within the server's 10 s, not Strawberry's minute


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
