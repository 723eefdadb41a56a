"""Schema-driven fuzzing of a real server: a few thousand seeded requests, hostile,
boundary and wrong-typed, over HTTP and the websocket. No answer may be a 500 or a masked
"Unexpected error", the server's log holds no traceback, and /health answers throughout.

"Throughout" is measured without racing the machine's load: no request may cost the
server's event loop (its main thread) 100 ms of CPU each time it is sent, so none can hold
/health that long;
/health itself is asked every 50 ms and must always answer, within a few seconds at worst
on a machine busy with other work.

JOBMON_FUZZ_SEED and JOBMON_FUZZ_REQUESTS change the run; ``bench/fuzz.py`` runs longer.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import Counter
from typing import Any

import httpx
import websockets

from tests.fuzz.conftest import EdgeServer
from tests.fuzz.generator import Fuzzer

SEED = int(os.environ.get("JOBMON_FUZZ_SEED", "15"))
REQUESTS = int(os.environ.get("JOBMON_FUZZ_REQUESTS", "3000"))
WEBSOCKET_OPERATIONS = 200
LOOP_CPU_WITHIN = 0.1
HEALTH_WITHIN = 5.0  # a gross stall; a loaded machine alone can make answers take 1-2 s


class HealthWatch:
    """Asks /health every 50 ms on a thread of its own; keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.wait(0.05):
                started = time.perf_counter()
                answer = client.get(f"{self.url}/health")
                self.latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    self.failures.append(answer.text)

    def __enter__(self) -> HealthWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def check_answer(status: int, text: str, what: str) -> dict[str, Any] | None:
    assert status != 500, f"500 for {what}: {text[:300]}"
    assert status in (200, 400, 413), f"{status} for {what}: {text[:300]}"
    assert "Unexpected error" not in text, f"masked answer for {what}: {text[:300]}"
    answer = json.loads(text)
    assert isinstance(answer, dict) and ("data" in answer or "errors" in answer), text[:300]
    if status == 400:
        assert answer["errors"][0]["message"], text[:300]
    return answer


def test_generated_requests_are_answered_clearly(edge: EdgeServer) -> None:
    fuzzer = Fuzzer(SEED)
    outcomes: Counter[str] = Counter()
    costly: list[tuple[float, Any]] = []
    started = time.monotonic()
    with HealthWatch(edge.url) as health, httpx.Client(timeout=60) as client:

        def send(request: Any) -> tuple[httpx.Response, float]:
            before = edge.loop_cpu_seconds()
            answer = client.post(
                edge.graphql, content=request.body, headers={"content-type": request.content_type}
            )
            return answer, edge.loop_cpu_seconds() - before

        for _ in range(REQUESTS):
            request = fuzzer.request()
            answer, cpu = send(request)
            check_answer(answer.status_code, answer.text, request.description)
            outcomes[f"{request.kind} {answer.status_code}"] += 1
            if cpu >= LOOP_CPU_WITHIN:
                costly.append((cpu, request))
        # A request that holds the loop does so every time; a collector's pass or a
        # neighbour's work that fell within one request does not: each is sent again.
        stalls = [
            (cpu, request.description)
            for cpu, request in costly
            if min(send(request)[1] for _ in range(3)) >= LOOP_CPU_WITHIN
        ]
    elapsed = time.monotonic() - started
    assert stalls == [], f"requests that cost the event loop 100 ms of CPU: {stalls}"
    assert health.failures == []
    assert health.latencies and max(health.latencies) < HEALTH_WITHIN, max(health.latencies)
    assert edge.log_problems() == []
    # The run reached both sides: answers with data, and refusals of each kind.
    assert outcomes["operation 200"] > REQUESTS // 2 and outcomes["malformed 400"] > 0
    print(
        f"{REQUESTS} requests in {elapsed:.1f} s: {dict(outcomes)}; slowest /health "
        f"{max(health.latencies) * 1000:.0f} ms; {len(costly)} requests cost the loop "
        f"100 ms once, none again"
    )


def test_generated_operations_on_one_websocket_leave_it_open(edge: EdgeServer) -> None:
    fuzzer = Fuzzer(SEED + 1)

    async def run() -> Counter[str]:
        kinds: Counter[str] = Counter()
        url = edge.graphql.replace("http", "ws", 1)
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for i in range(WEBSOCKET_OPERATIONS):
                root = ("Query", "Mutation", "Subscription")[i % 3]
                query, variables, name = fuzzer.operation(root)
                op_id = f"op{i}"
                if i % 10 == 9:  # a message Python's JSON refuses, with its id readable
                    text = (
                        f'{{"type": "subscribe", "id": "{op_id}", "payload": {{"query": '
                        f'{json.dumps(query)}, "variables": {{"x": {"7" * 5000}}}}}}}'
                    )
                else:
                    text = json.dumps(
                        {
                            "type": "subscribe",
                            "id": op_id,
                            "payload": {"query": query, "variables": variables},
                        }
                    )
                await ws.send(text)
                while True:
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except TimeoutError:  # a live subscription with nothing to say yet
                        await ws.send(json.dumps({"type": "complete", "id": op_id}))
                        kinds["live"] += 1
                        break
                    if message.get("id") != op_id:
                        continue
                    assert "Unexpected error" not in json.dumps(message), (name, message)
                    if message["type"] in ("error", "complete"):
                        kinds[message["type"]] += 1
                        break
                    if message["type"] == "next" and root != "Subscription":
                        kinds["next"] += 1
            await ws.send(json.dumps({"type": "ping"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "pong":
                pass
        return kinds

    kinds = asyncio.run(run())
    assert kinds["error"] > 0 and kinds["next"] > 0, kinds
    assert edge.log_problems() == []
