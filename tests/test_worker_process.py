"""The worker's process layer and loop, without a server.

Processes are real children; the loop tests use an in-memory stand-in for the server's
three worker mutations (a real server cannot be assumed in these tests).
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
from jobmon_client.worker import Worker
from jobmon_client.worker.distributor import FinishedTask, LocalDistributor
from jobmon_client.worker.instance import ClaimedInstance
from jobmon_client.worker.limits import parse_runtime, runtime_limit, slots_needed
from jobmon_client.worker.process import TaskProcess, stderr_tail
from jobmon_client.worker.reporter import Reporter
from jobmon_client.worker.reports import finished
from jobmon_client.worker.slots import SlotPool

from tests.helpers import python_command

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
    item = {
        "id": instance_id,
        "taskId": instance_id,
        "workflowId": 7,
        "workflowRunId": 1,
        "name": f"task_{instance_id}",
        "command": command,
        "clusterName": "multiprocess",
        "resources": resources,
    }
    return ClaimedInstance.from_wire(item, parallelism=4)


def _run_until_finished(distributor: LocalDistributor) -> FinishedTask:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        done = distributor.wait(timeout=deadline - time.monotonic())
        if done:
            return done[0]
    raise AssertionError("no task finished in time")


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
    distributor = LocalDistributor(parallelism=2, log_dir=tmp_path)
    try:
        # The grandchild ignores SIGTERM: only the group SIGKILL after the shell's exit ends it.
        command = "(trap '' TERM; exec sleep 30) & echo $!; wait"
        task = distributor.launch(_instance(1, command, runtime="1s"))
        started = time.monotonic()
        done = _run_until_finished(distributor)
        assert time.monotonic() - started < 4  # well before the 5 s SIGKILL escalation
    finally:
        distributor.close()
    assert done.task is task
    assert done.task.kill_reason == "runtime"
    report = finished(done)
    assert report["status"] == "RESOURCE_ERROR"
    assert report["resourceKind"] == "runtime"
    assert "runtime limit of 1s exceeded" in report["errorMessage"]
    grandchild = int(Path(task.process.stdout_path).read_text())
    assert _gone(grandchild)
    assert distributor.busy_slots == 0 and not distributor.running


def test_kill_on_request_kills_the_group(tmp_path: Path) -> None:
    fifo, ready = _fifo(tmp_path)
    distributor = LocalDistributor(parallelism=2, log_dir=tmp_path)
    try:
        distributor.launch(_instance(2, f"sleep 30 & echo $! > {fifo}; wait"))
        grandchild = int(_read_line(ready))
        assert distributor.kill(2, "request")
        assert not distributor.kill(99, "request")  # not held: ignored
        done = _run_until_finished(distributor)
    finally:
        distributor.close()
        os.close(ready)
    report = finished(done)
    assert report["status"] == "ERROR_FATAL"
    assert report["errorMessage"] == "killed on request"
    assert _gone(grandchild)


def test_kill_escalates_to_sigkill_after_the_grace(tmp_path: Path) -> None:
    fifo, ready = _fifo(tmp_path)
    distributor = LocalDistributor(parallelism=1, log_dir=tmp_path, kill_grace=0.2)
    try:
        distributor.launch(_instance(3, f"trap '' TERM; echo > {fifo}; exec sleep 30"))
        _read_line(ready)
        distributor.kill(3, "request")
        done = _run_until_finished(distributor)
    finally:
        distributor.close()
        os.close(ready)
    assert done.result.exit_code == 128 + signal.SIGKILL


def test_failed_task_reports_error_with_stderr(tmp_path: Path) -> None:
    distributor = LocalDistributor(parallelism=1, log_dir=tmp_path)
    try:
        task = distributor.launch(_instance(4, "echo boom >&2; exit 3"))
        done = _run_until_finished(distributor)
    finally:
        distributor.close()
    assert task.process.stdout_path == str(tmp_path / "7" / "task_4.4.out")
    report = finished(done)
    assert report["status"] == "ERROR"
    assert report["exitCode"] == 3
    assert report["errorMessage"] == "boom"


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


def test_slot_pool_refills_the_backlog_once_half_is_used() -> None:
    pool = SlotPool(2)
    assert pool.wait_free() == 2
    pool.commit(2)
    assert pool.room() == 0  # no backlog: wait for a free slot
    pool.release(1)
    assert pool.room() == 1
    pool.commit(1)
    pool.set_backlog(8)
    assert pool.room() == 8  # up to total + backlog
    pool.commit(8)
    pool.release(4)
    assert pool.room() == 0  # 6 committed: above the low-water mark of 2 + 4
    pool.release(1)
    assert pool.room() == 5


def test_slot_pool_close_wakes_a_waiting_claimer() -> None:
    pool = SlotPool(1)
    pool.commit(1)
    result: list[int] = []
    waiter = threading.Thread(target=lambda: result.append(pool.wait_free()))
    waiter.start()
    pool.close()
    waiter.join(TIMEOUT)
    assert result == [0]


# -- the reporter ----------------------------------------------------------------------------


class RecordingClient:
    """Records report batches and heartbeats; the first report blocks until released."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.batches: list[list[dict[str, Any]]] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.in_flight = threading.Event()
        self.release = threading.Event()

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        assert variables is not None
        if "heartbeat" in document:
            with self.cond:
                self.heartbeats.append(variables)
                self.cond.notify_all()
            return {"heartbeat": {"killInstanceIds": [8]}}
        self.in_flight.set()
        assert self.release.wait(TIMEOUT)
        with self.cond:
            self.batches.append(variables["reports"])
            self.cond.notify_all()
        return {"reportTaskInstances": {"accepted": 1, "ignored": [], "killInstanceIds": []}}


def test_reporter_sends_what_queued_during_a_request_as_one_ordered_batch() -> None:
    client = RecordingClient()
    reporter = Reporter(lambda: client, "w", lambda: [], lambda ids: None)
    reporter.start()
    try:
        reporter.put([{"taskInstanceId": 1, "status": "LAUNCHED"}])
        assert client.in_flight.wait(TIMEOUT)
        later = [{"taskInstanceId": 2, "status": s} for s in ("LAUNCHED", "RUNNING", "DONE")]
        reporter.put(later[:2])
        reporter.put(later[2:])
        client.release.set()
    finally:
        reporter.close()
    assert client.batches == [[{"taskInstanceId": 1, "status": "LAUNCHED"}], later]


def test_reporter_heartbeats_held_instances_and_passes_kills_on() -> None:
    client = RecordingClient()
    kills: list[list[int]] = []
    reporter = Reporter(lambda: client, "w", lambda: [4, 5], kills.append, heartbeat_interval=0.05)
    reporter.start()
    try:
        with client.cond:
            assert client.cond.wait_for(lambda: client.heartbeats, TIMEOUT)
    finally:
        reporter.close()
    assert client.heartbeats[0] == {
        "workerId": "w",
        "taskInstanceIds": [4, 5],
        "nextReportSeconds": pytest.approx(0.15),
    }
    assert kills[0] == [8]


# -- the worker loop against an in-memory server -------------------------------------------


class FakeServer:
    """Answers the worker mutations from memory and records every report in order."""

    def __init__(self, instances: list[dict[str, Any]]) -> None:
        self.cond = threading.Condition()
        self.queued = list(instances)
        self.kills: list[int] = []
        self.reports: list[dict[str, Any]] = []
        self.heartbeats: list[list[int]] = []
        self.closed = False

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        assert variables is not None
        if "claimTaskInstances" in document:
            return {"claimTaskInstances": self._claim(variables)}
        if "reportTaskInstances" in document:
            with self.cond:
                self.reports.extend(variables["reports"])
                self.cond.notify_all()
            return {"reportTaskInstances": {"accepted": 1, "ignored": [], "killInstanceIds": []}}
        if "heartbeat" in document:
            with self.cond:
                self.heartbeats.append(variables["taskInstanceIds"])
            return {"heartbeat": {"killInstanceIds": []}}
        raise AssertionError(document)

    def _claim(self, variables: dict[str, Any]) -> dict[str, Any]:
        with self.cond:
            self.cond.wait_for(
                lambda: self.queued or self.kills or self.closed, variables["waitSeconds"]
            )
            limit = variables["limit"]
            claimed, self.queued = self.queued[:limit], self.queued[limit:]
            kills, self.kills = self.kills, []
        return {"instances": claimed, "killInstanceIds": kills, "heartbeatIntervalSeconds": 30}

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


def _wire(instance_id: int, command: str) -> dict[str, Any]:
    return {
        "id": instance_id,
        "taskId": 100 + instance_id,
        "workflowId": 9,
        "workflowRunId": 3,
        "name": f"t{instance_id}",
        "command": command,
        "clusterName": "multiprocess",
        "resources": {"cores": 1},
    }


def _start_worker(server: FakeServer, tmp_path: Path) -> tuple[threading.Thread, threading.Event]:
    worker = Worker(
        "multiprocess",
        parallelism=2,
        log_dir=tmp_path,
        worker_id="test-worker",
        client_factory=lambda: server,
        claim_wait_seconds=1.0,
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
    assert launched["stderrPath"] == str(tmp_path / "9" / "t2.2.err")
    done = next(r for r in server.reports if r["status"] == "DONE")
    assert done["exitCode"] == 0 and "maxRssBytes" in done


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
