"""The worker's process layer, the local distributor and the loop, without a server.

Processes are real children; the loop and reporter tests answer the worker's documents
with ``MockClient``, which checks each of them against the schema.
"""

from __future__ import annotations

import os
import resource
import select
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from jobmon_client.distributor import ClaimedInstance, Ended, Launched
from jobmon_client.worker import Worker
from jobmon_client.worker.limits import parse_runtime, runtime_limit, slots_needed
from jobmon_client.worker.local import LocalDistributor
from jobmon_client.worker.process import TaskProcess, stderr_tail
from jobmon_client.worker.reporter import Reporter

from tests.helpers import python_command, wait_until
from tests.mock_client import MockClient

TIMEOUT = 10.0


def _wait_exit(process: TaskProcess, timeout: float = TIMEOUT) -> None:
    ready, _, _ = select.select([process], [], [], timeout)
    assert ready, "process did not exit in time"


def _gone(pid: int, timeout: float = TIMEOUT) -> bool:
    """True once ``pid`` has exited (a zombie counts as exited)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(pidfd)


def _fifo(tmp_path: Path) -> tuple[Path, int]:
    """A named pipe a task writes to once it is ready, and its read end."""
    path = tmp_path / "ready"
    os.mkfifo(path)
    return path, os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def _read_line(fd: int) -> str:
    assert select.select([fd], [], [], TIMEOUT)[0], "the task did not start"
    return os.read(fd, 100).decode()


def _instance(instance_id: int, command: str, **resources: Any) -> ClaimedInstance:
    return ClaimedInstance.from_wire(_wire(instance_id, command, workflow_id=7, **resources))


def _wire(instance_id: int, command: str, workflow_id: int = 9, **resources: Any) -> dict[str, Any]:
    return {
        "id": instance_id,
        "taskId": 100 + instance_id,
        "workflowId": workflow_id,
        "workflowRunId": 3,
        "arrayId": 1,
        "name": f"task_{instance_id}",
        "command": command,
        "clusterName": "multiprocess",
        "resources": resources or {"cores": 1},
        "concurrencyLimit": 100,
    }


def _launch(distributor: LocalDistributor, instance: ClaimedInstance) -> Launched:
    [launched] = distributor.submit([instance])
    assert isinstance(launched, Launched), launched
    return launched


def _ended(distributor: LocalDistributor, seen: list[Launched | Ended]) -> list[Ended]:
    """Waits a little for the distributor's events, keeps them in ``seen``; answers the ends."""
    seen += distributor.wait(1.0)
    return [e for e in seen if isinstance(e, Ended)]


def _run_until_ended(distributor: LocalDistributor) -> Ended:
    seen: list[Launched | Ended] = []
    return wait_until(lambda: _ended(distributor, seen), "a task ends", TIMEOUT, 0)[0]


def _local(tmp_path: Path, parallelism: int = 2, **options: Any) -> LocalDistributor:
    return LocalDistributor("multiprocess", parallelism, tmp_path, **options)


# -- one process -------------------------------------------------------------------------


def test_peak_memory_of_a_task_larger_than_the_worker_is_measured(tmp_path: Path) -> None:
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    size = mine + 200 * 2**20
    code = f"b = bytearray({size}); b[::4096] = bytes(len(b[::4096]))"
    process = TaskProcess.spawn(python_command(code), tmp_path / "o", tmp_path / "e")
    _wait_exit(process)
    result = process.reap()
    assert result.exit_code == 0, (tmp_path / "e").read_text()
    assert result.max_rss_bytes is not None
    assert size <= result.max_rss_bytes < size + 100 * 2**20


def test_exit_zero_gives_usage_and_log_files(tmp_path: Path) -> None:
    out, err = tmp_path / "t.out", tmp_path / "t.err"
    process = TaskProcess.spawn("echo hello; echo note >&2; read x || echo eof", out, err)
    _wait_exit(process)
    result = process.reap()
    assert result.exit_code == 0
    assert result.max_rss_bytes is None  # a shell is smaller than this process: not measurable
    assert result.cpu_seconds >= 0
    assert result.wallclock_seconds > 0
    assert out.read_text() == "hello\neof\n"  # stdin is /dev/null
    assert err.read_text() == "note\n"


def test_exit_three_keeps_the_stderr_tail(tmp_path: Path) -> None:
    command = "i=1; while [ $i -le 30 ]; do echo line$i >&2; i=$((i+1)); done; exit 3"
    process = TaskProcess.spawn(command, tmp_path / "t.out", tmp_path / "t.err")
    _wait_exit(process)
    assert process.reap().exit_code == 3
    tail = stderr_tail(tmp_path / "t.err")
    assert tail.splitlines() == [f"line{i}" for i in range(11, 31)]


def test_stderr_tail_reads_at_most_4_kib(tmp_path: Path) -> None:
    path = tmp_path / "big.err"
    path.write_text("x" * 10_000 + "\nlast line\n")
    assert stderr_tail(path) == "last line"
    assert stderr_tail(tmp_path / "missing.err") == ""


def test_killed_by_signal_reports_128_plus_signal(tmp_path: Path) -> None:
    process = TaskProcess.spawn("kill -9 $$", tmp_path / "t.out", tmp_path / "t.err")
    _wait_exit(process)
    assert process.reap().exit_code == 128 + signal.SIGKILL


def test_each_task_has_its_own_process_group(tmp_path: Path) -> None:
    process = TaskProcess.spawn("exit 0", tmp_path / "t.out", tmp_path / "t.err")
    try:
        assert os.getpgid(process.pid) == process.pid
        assert os.getsid(process.pid) == process.pid
    finally:
        _wait_exit(process)
        process.reap()


# -- the local distributor -----------------------------------------------------------------


def test_runtime_limit_kills_the_whole_group(tmp_path: Path) -> None:
    distributor = _local(tmp_path)
    try:
        # The grandchild ignores SIGTERM: only the group SIGKILL after the shell's exit ends it.
        command = "(trap '' TERM; exec sleep 30) & echo $!; wait"
        launched = _launch(distributor, _instance(1, command, runtime="1s"))
        started = time.monotonic()
        ended = _run_until_ended(distributor)
        assert time.monotonic() - started < 4  # well before the 5 s SIGKILL escalation
    finally:
        distributor.close()
    assert ended.instance_id == 1
    assert ended.status == "RESOURCE_ERROR"
    assert ended.resource_kind == "runtime"
    assert ended.error_message is not None
    assert "runtime limit of 1s exceeded" in ended.error_message
    assert launched.stdout_path is not None
    grandchild = int(Path(launched.stdout_path).read_text())
    assert _gone(grandchild)
    assert distributor.busy_slots == 0 and not distributor.running


def test_kill_on_request_kills_the_group(tmp_path: Path) -> None:
    fifo, ready = _fifo(tmp_path)
    distributor = _local(tmp_path)
    try:
        _launch(distributor, _instance(2, f"sleep 30 & echo $! > {fifo}; wait"))
        grandchild = int(_read_line(ready))
        distributor.terminate([2, 99])  # 99 is not held: ignored
        ended = _run_until_ended(distributor)
    finally:
        distributor.close()
        os.close(ready)
    assert (ended.instance_id, ended.status) == (2, "ERROR_FATAL")
    assert ended.error_message == "killed on request"
    assert _gone(grandchild)


def test_kill_escalates_to_sigkill_after_the_grace(tmp_path: Path) -> None:
    fifo, ready = _fifo(tmp_path)
    distributor = _local(tmp_path, parallelism=1, kill_grace=0.2)
    try:
        _launch(distributor, _instance(3, f"trap '' TERM; echo > {fifo}; exec sleep 30"))
        _read_line(ready)
        distributor.terminate([3])
        ended = _run_until_ended(distributor)
    finally:
        distributor.close()
        os.close(ready)
    assert ended.exit_code == 128 + signal.SIGKILL


def test_failed_task_reports_error_with_stderr(tmp_path: Path) -> None:
    distributor = _local(tmp_path, parallelism=1)
    try:
        launched = _launch(distributor, _instance(4, "echo boom >&2; exit 3"))
        ended = _run_until_ended(distributor)
    finally:
        distributor.close()
    assert launched.stdout_path == str(tmp_path / "7" / "task_4.4.out")
    assert launched.running and launched.distributor_id.isdigit()
    assert (ended.status, ended.exit_code, ended.error_message) == ("ERROR", 3, "boom")


def test_instances_beyond_the_free_slots_wait_and_start_as_slots_free(tmp_path: Path) -> None:
    distributor = _local(tmp_path, parallelism=1)
    try:
        events = distributor.submit([_instance(5, "exit 0"), _instance(6, "exit 0")])
        assert [type(e).__name__ for e in events] == ["Launched"]  # one slot
        assert sorted(distributor.held()) == [5, 6]
        seen: list[Launched | Ended] = []
        wait_until(lambda: len(_ended(distributor, seen)) >= 2, "both end", TIMEOUT, 0)
    finally:
        distributor.close()
    assert [(type(e).__name__, e.instance_id) for e in seen] == [
        ("Ended", 5),
        ("Launched", 6),
        ("Ended", 6),
    ]


def test_capacity_keeps_a_backlog_for_short_tasks_only(tmp_path: Path) -> None:
    distributor = _local(tmp_path, parallelism=2, max_backlog=8)
    try:
        assert distributor.capacity() == 2  # nothing ended yet: no backlog
        distributor.submit([_instance(i, "exit 0") for i in (1, 2)])
        assert distributor.capacity() == 0  # both slots busy
        seen: list[Launched | Ended] = []
        wait_until(lambda: len(_ended(distributor, seen)) >= 2, "both end", TIMEOUT, 0)
        # Short tasks: claim ahead, up to the slots and the backlog.
        assert distributor.capacity() == 2 + 8
        distributor.submit([_instance(3, "sleep 3"), _instance(4, "sleep 3")])
        assert distributor.capacity() == 8
        long: list[Launched | Ended] = []
        wait_until(lambda: len(_ended(distributor, long)) >= 2, "the long tasks end", TIMEOUT, 0)
        assert distributor.capacity() == 2  # long tasks now: no backlog
    finally:
        distributor.close()


def test_a_task_is_stopped_when_the_lease_runs_out(tmp_path: Path) -> None:
    distributor = _local(tmp_path, parallelism=1, kill_grace=0.2)
    try:
        _launch(distributor, _instance(8, "exec sleep 30"))
        distributor.set_lease(2.5)  # stopped 2 s before it runs out
        started = time.monotonic()
        ended = _run_until_ended(distributor)
    finally:
        distributor.close()
    assert time.monotonic() - started < TIMEOUT
    assert ended.status == "UNKNOWN_ERROR"
    assert ended.error_message is not None and "lease ran out" in ended.error_message


def test_stop_ends_running_and_waiting_instances_for_retry(tmp_path: Path) -> None:
    distributor = _local(tmp_path, parallelism=1, kill_grace=0.2)
    try:
        distributor.submit([_instance(9, "exec sleep 30"), _instance(10, "exec sleep 30")])
        distributor.stop()
        assert distributor.capacity() == 0
        seen: list[Launched | Ended] = []
        wait_until(lambda: len(_ended(distributor, seen)) >= 2, "both end", TIMEOUT, 0)
        ends = {e.instance_id: e for e in seen if isinstance(e, Ended)}
    finally:
        distributor.close()
    assert {e.status for e in ends.values()} == {"UNKNOWN_ERROR"}
    assert {e.error_message for e in ends.values()} == {"worker stopped"}
    assert not distributor.held()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (2.5, 2.5),
        ("45", 45.0),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1.5h", 5400.0),
        ("1d", 86400.0),
        ("1:30:00", 5400.0),
        ("10:30", 630.0),
        ("1-12:00:00", 129600.0),
    ],
)
def test_parse_runtime(value: object, seconds: float) -> None:
    assert parse_runtime(value) == seconds


@pytest.mark.parametrize("value", ["", "soon", "-5", "1:2:3:4", 0, True, None, "5x"])
def test_parse_runtime_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_runtime(value)


def test_resources_defaults() -> None:
    assert runtime_limit({}) is None
    assert runtime_limit({"runtime": "2m"}) == 120.0
    assert slots_needed({}, 4) == 1
    assert slots_needed({"cores": 3}, 4) == 3
    assert slots_needed({"cores": 16}, 4) == 4


# -- the reporter ----------------------------------------------------------------------------


class ReportServer:
    """Answers reports and heartbeats; reports can be held back, or made to fail."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.batches: list[list[dict[str, Any]]] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.in_flight = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failures: list[Exception] = []  # raised by the next reports, one each

    def __call__(self, field: str, args: dict[str, Any]) -> Any:
        if field == "heartbeat":
            with self.cond:
                self.heartbeats.append(args)
                self.cond.notify_all()
            return {"killInstanceIds": [8]}
        assert field == "workerSync", field
        self.in_flight.set()
        assert self.release.wait(TIMEOUT)
        with self.cond:
            if self.failures:
                raise self.failures.pop(0)
            self.batches.append(list(args["reports"]))
            self.cond.notify_all()
        return {
            "accepted": len(args["reports"]),
            "ignored": [],
            "refused": [],
            "killInstanceIds": [],
            "instances": [],
            "heartbeatIntervalSeconds": 30,
            "leaseSeconds": 90,
        }

    def reported(self) -> list[dict[str, Any]]:
        with self.cond:
            return [r for batch in self.batches for r in batch]


def _report(instance_id: int, status: str) -> dict[str, Any]:
    return {"taskInstanceId": instance_id, "status": status}


def test_reporter_sends_what_queued_during_a_request_as_one_ordered_batch() -> None:
    server = ReportServer()
    server.release.clear()
    client = MockClient(server)
    reporter = Reporter(lambda: client, "w", lambda: [], lambda ids: None)
    reporter.start()
    try:
        reporter.put([_report(1, "LAUNCHED")])
        assert server.in_flight.wait(TIMEOUT)
        later = [_report(2, s) for s in ("LAUNCHED", "RUNNING", "DONE")]
        reporter.put(later[:2])
        reporter.put(later[2:])
        server.release.set()
    finally:
        reporter.close()
    assert server.batches == [[_report(1, "LAUNCHED")], later]


def test_reporter_sends_a_small_batch_with_the_reports_that_follow_while_instances_run() -> None:
    """While instances it holds run, a small batch (final reports too) waits for the reports
    that follow; once it holds none (a chain's task just ended, say) it goes at once."""
    server = ReportServer()
    client = MockClient(server)
    held = [5, 6]
    reporter = Reporter(
        lambda: client, "w", lambda: list(held), lambda ids: None, coalesce_seconds=60.0
    )
    reporter.start()
    try:
        reporter.put([_report(5, "LAUNCHED"), _report(5, "RUNNING")])
        held.remove(5)
        reporter.put([_report(5, "DONE")])
        time.sleep(0.2)  # not a race: while 6 is held the batch would wait a minute
        assert server.batches == []
        held.remove(6)
        reporter.put([_report(6, "DONE")])
        with server.cond:
            assert server.cond.wait_for(lambda: server.batches, TIMEOUT)
    finally:
        reporter.close()
    expected = [_report(5, s) for s in ("LAUNCHED", "RUNNING", "DONE")] + [_report(6, "DONE")]
    assert server.batches == [expected]


def test_reporter_sends_a_long_queue_in_requests_within_the_servers_bound() -> None:
    server = ReportServer()
    client = MockClient(server)
    reporter = Reporter(lambda: client, "w", lambda: [], lambda ids: None)
    reports = [_report(i, "DONE") for i in range(1, 25_001)]
    reporter.put(reports)
    reporter.start()
    try:
        with server.cond:
            assert server.cond.wait_for(
                lambda: sum(len(b) for b in server.batches) == len(reports), TIMEOUT
            )
    finally:
        reporter.close()
    assert [len(b) for b in server.batches] == [10_000, 10_000, 5_000]
    assert [r for b in server.batches for r in b] == reports


def test_journal_writes_a_rounds_notes_with_its_reports_and_reads_them_back(
    tmp_path: Path,
) -> None:
    from jobmon_client.worker import journal

    old = journal.Journal(tmp_path, "dead-worker")
    with old.round():
        old.note(7, {"pid": 70, "started": 1.5})
        assert b'"n":7' not in old.path.read_bytes()  # held until the round's reports
        old.add_reports([_report(7, "LAUNCHED"), _report(7, "RUNNING")])
        assert b'"n":7' in old.path.read_bytes()
        old.note(8, {"pid": 80, "started": 2.5})
        old.forget(7)
    old.acknowledge([1])
    os.close(old._fd)  # the worker died: its lock is gone, its file stays
    with journal.predecessors(tmp_path) as olds:
        (contents,) = olds
        assert contents.worker_id == "dead-worker"
        assert contents.notes == {8: {"pid": 80, "started": 2.5}}
        assert contents.reports == {2: _report(7, "RUNNING")}


def test_reporter_keeps_reports_while_the_server_is_unreachable_or_unavailable() -> None:
    from jobmon_client.transport import ServerUnavailable, ServerUnreachable

    server = ReportServer()
    server.failures = [ServerUnreachable("no answer"), ServerUnavailable("database away")]
    client = MockClient(server)
    reporter = Reporter(lambda: client, "w", lambda: [], lambda ids: None)
    reporter.start()
    try:
        reporter.put([_report(1, "DONE"), _report(2, "ERROR")])
        with server.cond:
            assert server.cond.wait_for(lambda: server.batches, TIMEOUT)
    finally:
        reporter.close()
    assert server.batches == [[_report(1, "DONE"), _report(2, "ERROR")]]  # nothing dropped


def test_reporter_splits_a_refused_batch_to_find_the_report_the_server_objects_to() -> None:
    from jobmon_client.transport import ServerError

    refused = {"taskInstanceId": 3, "status": "DONE", "cpuSeconds": -1}

    def handler(field: str, args: dict[str, Any]) -> Any:
        if any(r.get("cpuSeconds") == -1 for r in args["reports"]):
            raise ServerError("cpuSeconds must not be negative")
        return server(field, args)

    server = ReportServer()
    client = MockClient(handler)
    reporter = Reporter(lambda: client, "w", lambda: [], lambda ids: None)
    reporter.start()
    try:
        reporter.put([_report(1, "DONE"), refused, _report(2, "DONE")])
        with server.cond:
            assert server.cond.wait_for(lambda: len(server.reported()) == 2, TIMEOUT)
    finally:
        reporter.close()
    assert sorted(r["taskInstanceId"] for r in server.reported()) == [1, 2]


def test_reporter_heartbeats_held_instances_and_passes_kills_on() -> None:
    server = ReportServer()
    client = MockClient(server)
    kills: list[list[int]] = []
    reporter = Reporter(lambda: client, "w", lambda: [4, 5], kills.append, heartbeat_interval=0.05)
    reporter.start()
    try:
        with server.cond:
            assert server.cond.wait_for(lambda: server.heartbeats, TIMEOUT)
    finally:
        reporter.close()
    assert server.heartbeats[0] == {
        "workerId": "w",
        "taskInstanceIds": [4, 5],
        "nextReportSeconds": pytest.approx(0.15),
    }
    assert kills[0] == [8]


def test_the_lease_runs_from_the_claim_and_is_renewed_by_heartbeats() -> None:
    server = ReportServer()
    client = MockClient(server)
    reporter = Reporter(
        lambda: client, "w", lambda: [4, 5], lambda ids: None, heartbeat_interval=60
    )
    assert reporter.lease_remaining() is None  # nothing claimed: no lease to keep
    claimed_at = time.monotonic() - 100
    reporter.claimed([4, 5], claimed_at)
    remaining = reporter.lease_remaining()
    assert remaining is not None and remaining == pytest.approx(180 - 100, abs=1)
    reporter.set_intervals(0.05, lease=1.0)
    reporter.start()
    try:
        with server.cond:
            assert server.cond.wait_for(lambda: server.heartbeats, TIMEOUT)
        # renewed by the heartbeat's answer
        wait_until(
            lambda: (reporter.lease_remaining() or -1) > 0, "the lease renews", TIMEOUT, 0.01
        )
    finally:
        reporter.close()


# -- the worker loop against a stand-in server ----------------------------------------------


class FakeServer:
    """Answers the worker's documents from memory and records every report in order."""

    def __init__(self, instances: list[dict[str, Any]]) -> None:
        self.cond = threading.Condition()
        self.queued = list(instances)
        self.kills: list[int] = []
        self.reports: list[dict[str, Any]] = []
        self.heartbeats: list[list[int]] = []
        self.adopted: list[dict[str, Any]] = []
        self.adopt_calls: list[dict[str, Any]] = []
        self.closed = False

    def __call__(self, field: str, args: dict[str, Any]) -> Any:
        if field == "workerSync":
            with self.cond:
                self.reports.extend(args["reports"])
                self.cond.notify_all()
            return {
                "accepted": len(args["reports"]),
                "ignored": [],
                "refused": [],
                **self._claim(args),
            }
        if field == "heartbeat":
            with self.cond:
                self.heartbeats.append(args["taskInstanceIds"])
            return {"killInstanceIds": []}
        if field == "announceWorker":
            return {"__typename": "Worker", "id": args["workerId"]}
        if field == "workerStopped":
            return True
        if field == "adoptTaskInstances":
            self.adopt_calls.append(args)
            adopted, self.adopted = self.adopted, []
            return adopted
        raise AssertionError(field)

    def _claim(self, args: dict[str, Any]) -> dict[str, Any]:
        with self.cond:
            if not args["reports"]:
                self.cond.wait_for(
                    lambda: self.queued or self.kills or self.closed, args["waitSeconds"]
                )
            limit = args["claimLimit"]
            claimed, self.queued = self.queued[:limit], self.queued[limit:]
            kills, self.kills = self.kills, []
        return {
            "instances": claimed,
            "killInstanceIds": kills,
            "heartbeatIntervalSeconds": 30,
            "leaseSeconds": 90,
        }

    def kill(self, *instance_ids: int) -> None:
        with self.cond:
            self.kills.extend(instance_ids)
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for_reports(self, predicate: Any) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.reports), TIMEOUT), self.reports

    def statuses(self, instance_id: int) -> list[str]:
        return [r["status"] for r in self.reports if r["taskInstanceId"] == instance_id]


def _start_worker(
    server: FakeServer, tmp_path: Path, worker_id: str = "test-worker"
) -> tuple[threading.Thread, threading.Event]:
    client = MockClient(server)
    worker = Worker(
        "multiprocess",
        server_url="http://127.0.0.1:9",
        parallelism=2,
        log_dir=tmp_path,
        state_dir=tmp_path / "state",
        worker_id=worker_id,
        client_factory=lambda: client,
        claim_wait_seconds=1.0,
        options={"kill_grace": 0.5},
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    return thread, stop


def _stop_worker(server: FakeServer, thread: threading.Thread, stop: threading.Event) -> None:
    stop.set()
    server.close()
    thread.join(TIMEOUT)
    assert not thread.is_alive()


def _final(reports: list[dict[str, Any]], ids: list[int]) -> bool:
    finals = {"DONE", "ERROR", "ERROR_FATAL", "UNKNOWN_ERROR", "RESOURCE_ERROR"}
    return {r["taskInstanceId"] for r in reports if r["status"] in finals} >= set(ids)


def test_worker_claims_runs_and_reports_in_order(tmp_path: Path) -> None:
    server = FakeServer([_wire(1, "true"), _wire(2, "echo two"), _wire(3, "exit 0")])
    thread, stop = _start_worker(server, tmp_path)
    try:
        server.wait_for_reports(lambda reports: _final(reports, [1, 2, 3]))
    finally:
        _stop_worker(server, thread, stop)
    for instance_id in (1, 2, 3):
        assert server.statuses(instance_id) == ["LAUNCHED", "RUNNING", "DONE"]
    launched = next(r for r in server.reports if r["taskInstanceId"] == 2)
    assert launched["distributorId"].isdigit()
    assert launched["hostname"]
    assert Path(launched["stdoutPath"]).read_text() == "two\n"
    assert launched["stderrPath"] == str(tmp_path / "9" / "task_2.2.err")
    done = next(r for r in server.reports if r["status"] == "DONE")
    assert done["exitCode"] == 0 and "cpuSeconds" in done


def test_worker_kills_on_request_and_ignores_unknown_ids(tmp_path: Path) -> None:
    server = FakeServer([_wire(5, "sleep 30")])
    thread, stop = _start_worker(server, tmp_path)
    try:
        server.wait_for_reports(lambda reports: "RUNNING" in server.statuses(5))
        server.kill(5, 404)
        server.wait_for_reports(lambda reports: _final(reports, [5]))
    finally:
        _stop_worker(server, thread, stop)
    assert server.statuses(5) == ["LAUNCHED", "RUNNING", "ERROR_FATAL"]
    assert server.reports[-1]["errorMessage"] == "killed on request"
    assert not server.statuses(404)


def test_worker_stop_reports_running_tasks_for_retry(tmp_path: Path) -> None:
    server = FakeServer([_wire(6, "sleep 30"), _wire(7, "sleep 30")])
    thread, stop = _start_worker(server, tmp_path)
    server.wait_for_reports(
        lambda reports: "RUNNING" in server.statuses(6) and "RUNNING" in server.statuses(7)
    )
    _stop_worker(server, thread, stop)
    for instance_id in (6, 7):
        assert server.statuses(instance_id) == ["LAUNCHED", "RUNNING", "UNKNOWN_ERROR"]
    assert {r["errorMessage"] for r in server.reports if r["status"] == "UNKNOWN_ERROR"} == {
        "worker stopped"
    }
    assert not list((tmp_path / "state").rglob("*.journal"))  # nothing left open


def test_a_worker_takes_over_what_a_stopped_worker_left_in_its_journal(tmp_path: Path) -> None:
    """The journal of a worker that died: a report it never sent, and a process it started
    that still runs. The next worker adopts both instances, sends the report and stops the
    process before reporting it (so that its retry never runs beside it)."""
    from jobmon_client.config import graphql_url
    from jobmon_client.worker import journal

    directory = journal.journal_dir(
        tmp_path / "state", graphql_url("http://127.0.0.1:9"), "multiprocess"
    )
    orphan = TaskProcess.spawn("exec sleep 60", tmp_path / "o.out", tmp_path / "o.err")
    old = journal.Journal(directory, "dead-worker")
    old.add_reports([_report(11, "DONE")])
    old.note(12, {"pid": orphan.pid, "started": time.time()})
    os.close(old._fd)  # the worker died: its lock is gone, its file stays
    server = FakeServer([])
    server.adopted = [
        {
            "id": 11,
            "taskId": 111,
            "workflowId": 9,
            "status": "RUNNING",
            "distributorId": "1",
            "hostname": "elsewhere",
        },
        {
            "id": 12,
            "taskId": 112,
            "workflowId": 9,
            "status": "RUNNING",
            "distributorId": str(orphan.pid),
            "hostname": os.uname().nodename,
        },
    ]
    thread, stop = _start_worker(server, tmp_path, worker_id="next-worker")
    try:
        server.wait_for_reports(lambda reports: _final(reports, [11, 12]))
        reaped = orphan.reap()  # our child here: the worker could only signal it
    finally:
        _stop_worker(server, thread, stop)
    assert server.adopt_calls == [
        {"clusterName": "multiprocess", "workerId": "next-worker", "fromWorkerIds": ["dead-worker"]}
    ]
    assert server.statuses(11) == ["DONE", "UNKNOWN_ERROR"]  # the journal's report first
    assert server.statuses(12) == ["UNKNOWN_ERROR"]
    assert reaped.exit_code == 128 + signal.SIGTERM
    assert not (directory / "dead-worker.journal").exists()
