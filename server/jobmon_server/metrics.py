"""Prometheus metrics at ``/metrics``: requests and their latency, tasks by status, and
instances waiting to be claimed per cluster.

Request metrics are counted in this process; the task and queue figures are read from the
database when scraped (from the kept status counts and an indexed count), so every replica
reports the same numbers for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.db.engine import Database
from jobmon_server.statuses import TI

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "jobmon_http_requests",
            "HTTP requests served, by path, method and status.",
            ["path", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "jobmon_http_request_seconds",
            "Time to answer an HTTP request, by path.",
            ["path"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.registry.register(_DatabaseCollector(db))

    def middleware(self, app: Any) -> Any:
        """ASGI middleware counting HTTP requests (long-poll claims included)."""

        async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = [500]

            async def send_status(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                path = scope.get("path", "")
                path = path if path in ("/graphql", "/health", "/metrics") else "other"
                self.requests.labels(path, scope.get("method", ""), str(status[0])).inc()
                self.latency.labels(path).observe(time.perf_counter() - started)

        return counted

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _DatabaseCollector:
    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only

    def collect(self) -> Iterator[Metric]:
        with self.db.read() as session:
            tasks, queued = _figures(session)
        by_status = GaugeMetricFamily("jobmon_tasks", "Tasks by status.", labels=["status"])
        for status, n in sorted(tasks.items()):
            by_status.add_metric([status], n)
        yield by_status
        waiting = GaugeMetricFamily(
            "jobmon_queued_instances",
            "Task instances waiting to be claimed by a worker, by cluster.",
            labels=["cluster"],
        )
        for cluster, n in sorted(queued.items()):
            waiting.add_metric([cluster], n)
        yield waiting


def _figures(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    count = models.TaskStatusCount
    tasks = {
        status: int(n or 0)
        for status, n in session.execute(
            select(count.status, func.sum(count.count)).group_by(count.status)
        ).all()
    }
    ti = models.TaskInstance
    queued = dict.fromkeys(session.scalars(select(models.Cluster.name)), 0)
    for name, n in session.execute(
        select(models.Cluster.name, func.count())
        .join(ti, ti.cluster_id == models.Cluster.id)
        .where(ti.status == TI.QUEUED)
        .group_by(models.Cluster.name)
    ).all():
        queued[name] = int(n)
    return tasks, queued
