"""kill -9 of the server, and a PostgreSQL that crashes, mid-run, with real processes.

The worker and the client ride both out: no report is lost (a task whose DONE report
was dropped would run again, and show twice in the ledger), nothing runs twice at once,
and ``run()`` ends DONE.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.faults.harness import PrivatePostgres, check, site, wait_until
from tests.faults.test_worker_faults import client_result, start_workflow


def test_a_killed_server_restarted_on_its_database_loses_no_report(tmp_path: Path) -> None:
    with site(tmp_path, f"sqlite:///{tmp_path / 'jobmon.db'}") as place:
        server = place.server()
        place.worker("worker-1")
        ledger, tasks, client = start_workflow(place, "server_kill", 8, limit=4)
        wait_until(lambda: ledger.read().running() >= 2, "tasks run", alive=[client])
        server.kill9()
        # Tasks end while the server is away: their reports wait in the worker.
        wait_until(lambda: any(ledger.read().completions().values()), "a task ends", 30)
        time.sleep(1.0)  # the server stays away a little longer than one heartbeat
        place.server()
        assert client_result(client) == "DONE"
        check(ledger, tasks)


@pytest.fixture
def postgres(tmp_path: Path):  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        unavailable("a private PostgreSQL cluster is started as the postgres user (needs root)")
    try:
        cluster = PrivatePostgres()
    except FileNotFoundError as exc:
        unavailable(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


def test_a_database_that_crashes_and_comes_back_loses_no_report(
    tmp_path: Path, postgres: PrivatePostgres
) -> None:
    with site(tmp_path, postgres.url) as place:
        place.server()
        place.worker("worker-1")
        ledger, tasks, client = start_workflow(place, "database_crash", 8, limit=4)
        wait_until(lambda: ledger.read().running() >= 2, "tasks run", alive=[client])
        postgres.crash()
        # Tasks end while the database is down: the server answers UNAVAILABLE, and the
        # worker keeps their reports until it can take them.
        wait_until(lambda: any(ledger.read().completions().values()), "a task ends", 30)
        time.sleep(2.0)
        postgres.start()
        assert client_result(client) == "DONE"
        check(ledger, tasks)
        server_log = place.processes[0].output()
        assert "UNAVAILABLE" in server_log or "unavailable" in server_log
        assert "Unexpected error" not in client.output()
