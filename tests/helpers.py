"""Small helpers shared by the tests: GraphQL look-ups and shell commands for tasks."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import httpx
from gql import Client, GraphQLRequest, gql
from gql.transport.websockets import WebsocketsTransport
from jobmon_client.subscriptions import websocket_url
from jobmon_client.transport import GraphQLClient

TASK_INSTANCES = """
query($id: Int!) {
  task(id: $id) {
    __typename
    ... on Task { id status numAttempts
      instances(first: 100) { items { id status exitCode workerId started finished
                                      distributorId hostname stdoutPath
                                      requestedResources stderrPath } } }
    ... on Error { message }
  }
}"""

WORKFLOW = """
query($id: Int!) {
  workflow(id: $id) {
    __typename
    ... on Workflow { id status totalTasks taskCounts { status count }
                      latestRun { id status } }
    ... on Error { message }
  }
}"""


T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    what: str,
    timeout: float = 60.0,
    interval: float = 0.1,
    abort: Callable[[], str | None] | None = None,
) -> T:
    """Poll ``check`` until it answers something true, and return that answer.

    Fails with "timed out waiting until <what>" at the deadline, or at once when ``abort``
    answers a reason (a process that died, say), so that a test never waits on a lost cause.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        reason = abort() if abort is not None else None
        if reason:
            raise AssertionError(f"{reason} while waiting until {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting until {what}")
        time.sleep(interval)


async def wait_until_async(
    check: Callable[[], T], what: str, timeout: float = 5.0, interval: float = 0.02
) -> T:
    """``wait_until`` for a test on an event loop: it sleeps without blocking the loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting until {what}")
        await asyncio.sleep(interval)


def task_instances(url: str, task_id: int) -> list[dict[str, Any]]:
    with GraphQLClient(url) as client:
        task = client.execute(TASK_INSTANCES, {"id": task_id})["task"]
    return list(task["instances"]["items"])


def workflow(url: str, workflow_id: int) -> dict[str, Any]:
    with GraphQLClient(url) as client:
        return dict(client.execute(WORKFLOW, {"id": workflow_id})["workflow"])


def stamp_command(directory: Path, label: str, seconds: float = 0.0) -> str:
    """A command that records when it started and ended, in nanoseconds, and sleeps between."""
    return (
        f"date +%s%N > {directory}/{label}.start; sleep {seconds}; "
        f"date +%s%N > {directory}/{label}.end"
    )


def read_stamps(directory: Path, label: str) -> tuple[int, int]:
    return (
        int((directory / f"{label}.start").read_text()),
        int((directory / f"{label}.end").read_text()),
    )


def python_command(code: str) -> str:
    """Run a snippet with this interpreter (quoted for /bin/sh)."""
    return f"{sys.executable} -c '{code}'"


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once a server process answers on ``url``/health."""

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def exited() -> str | None:
        return f"the server for {url} exited" if process.poll() is not None else None

    wait_until(healthy, f"the server for {url} starts", timeout, abort=exited)


class Collector:
    """Reads a subscription on a thread of its own, so that a test can wait on it with a
    timeout; ``close()`` (called for every collector when its test ends, see conftest)
    cancels it and closes its connection while its event loop still runs."""

    opened: ClassVar[list[Collector]] = []
    timeout = 60.0

    def __init__(self, url: str, document: str, variables: dict[str, Any], field: str) -> None:
        self.items: queue.Queue[Any] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(self._read(url, document, variables, field))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        Collector.opened.append(self)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    async def _read(self, url: str, document: str, variables: dict[str, Any], field: str) -> None:
        transport = WebsocketsTransport(
            url=websocket_url(url), subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
        )
        try:
            async with Client(transport=transport) as session:
                request = GraphQLRequest(gql(document), variable_values=variables)
                async for result in session.subscribe(request):
                    self.items.put(result[field])
        except Exception as exc:  # noqa: BLE001 - handed to the test
            self.items.put(exc)

    def take(self, count: int) -> list[dict[str, Any]]:
        return self.take_until(lambda _: True, count)

    def take_until(self, done: Any, at_least: int = 1) -> list[dict[str, Any]]:
        taken: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.timeout
        while len(taken) < at_least or not done(taken[-1]):
            try:
                item = self.items.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"the subscription sent nothing more for {self.timeout:g}s after "
                    f"{len(taken)} item(s); the last: {taken[-3:]}"
                ) from None
            assert not isinstance(item, Exception), item
            taken.append(item)
        return taken

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(10)
