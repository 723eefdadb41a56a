"""Real processes to kill, and a ledger every task writes, for the fault-injection tests.

Each task appends to one ledger file: a ``start`` line, a ``beat`` line every 0.2 s while
it runs, and an ``end`` line when it finishes (or ``kill`` when it is terminated). Lines
are short single appends, so they never interleave. From the ledger a test checks that
no two attempts of a task ever ran at the same time, and that each task ran to its end
exactly once.

Settings are short so that a lease runs out in seconds: heartbeats every second, a lease
of three, declared lost a second and a half after that.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests import helpers

BIN = Path(sys.executable).parent
FAST = {
    "JOBMON_HEARTBEAT_INTERVAL": "1",
    "JOBMON_LEASE_GRACE": "1.5",
    "JOBMON_REAPER_INTERVAL": "0.3",
    "JOBMON_STALL_SECONDS": "0",
}
BEAT_SECONDS = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool],
    what: str,
    timeout: float = 120.0,
    alive: list[Process] = (),  # type: ignore[assignment]
) -> None:
    """Wait for ``check``; fail at the deadline, or at once if one of ``alive`` ended."""

    def ended() -> str | None:
        for process in alive:
            if process.popen.poll() is not None:
                return (
                    f"{process.argv} ended ({process.popen.returncode}):\n"
                    f"{process.output()[-3000:]}\n"
                )
        return None

    helpers.wait_until(check, what, timeout, abort=ended)


def ledger_command(ledger: Path, task: str, seconds: float) -> str:
    """A shell command that records its life in ``ledger`` and runs for ``seconds``."""
    beats = max(1, round(seconds / BEAT_SECONDS))
    log = f'echo "$1 {task} $(date +%s%N) $$" >> {ledger}'
    return (
        f"note() {{ {log}; }}; "
        f"trap 'note kill; exit 143' TERM; note start; i=0; "
        f"while [ $i -lt {beats} ]; do sleep {BEAT_SECONDS} & wait $!; note beat; "
        f"i=$((i+1)); done; note end"
    )


@dataclass
class Attempt:
    pid: int
    start: int
    last: int
    ended: bool = False
    killed: bool = False


@dataclass
class Ledger:
    path: Path
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)

    def read(self) -> Ledger:
        by_task: dict[str, dict[int, Attempt]] = defaultdict(dict)
        text = self.path.read_text() if self.path.exists() else ""
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            kind, task, when, pid_text = parts
            now, pid = int(when), int(pid_text)
            attempt = by_task[task].get(pid)
            if attempt is None:
                attempt = by_task[task][pid] = Attempt(pid, now, now)
            attempt.last = max(attempt.last, now)
            attempt.ended |= kind == "end"
            attempt.killed |= kind == "kill"
        self.attempts = {
            task: sorted(found.values(), key=lambda a: a.start) for task, found in by_task.items()
        }
        return self

    def overlaps(self) -> list[str]:
        """Attempts of one task that ran at the same time: one started before another's
        last sign of life."""
        found = []
        for task, attempts in self.attempts.items():
            for earlier, later in zip(attempts, attempts[1:], strict=False):
                if later.start < earlier.last:
                    early = (earlier.last - later.start) / 1e9
                    found.append(
                        f"{task}: pid {later.pid} started {early:.2f}s before pid "
                        f"{earlier.pid} stopped"
                    )
        return found

    def completions(self) -> dict[str, int]:
        return {task: sum(a.ended for a in attempts) for task, attempts in self.attempts.items()}

    def started(self) -> set[str]:
        return set(self.attempts)

    def running(self) -> int:
        """Attempts that began and have not finished, in the ledger so far."""
        return sum(
            1 for attempts in self.attempts.values() for a in attempts if not (a.ended or a.killed)
        )


def check(ledger: Ledger, tasks: list[str]) -> None:
    """Every task ran to its end exactly once, and no two attempts of one task overlapped."""
    ledger.read()
    assert not ledger.overlaps(), ledger.overlaps()
    completions = ledger.completions()
    wrong = {t: completions.get(t, 0) for t in tasks if completions.get(t, 0) != 1}
    assert not wrong, f"tasks that did not run to their end exactly once: {wrong}"


class Process:
    """A jobmon process (server, worker, up or a client script) in its own process group."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.log = log
        self._log_file = log.open("ab")
        self.popen = subprocess.Popen(
            argv, stdout=self._log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def kill9(self) -> None:
        """kill -9 of this process alone (its tasks and helpers are left to fend)."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self, timeout: float = 60.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(30)
        self._log_file.close()
        return self.popen.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Site:
    """A directory of logs, journals and ledgers, and the processes started in it."""

    root: Path
    db_url: str
    port: int = field(default_factory=free_port)
    processes: list[Process] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            **FAST,
            "JOBMON_SERVER_URL": self.url,
            "JOBMON_DB_URL": self.db_url,
            "HOME": str(self.root / "home"),
        }
        (self.root / "home").mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str, *args: str) -> Process:
        process = Process([str(BIN / "jobmon"), *args], self.root / f"{name}.log", self.env)
        self.processes.append(process)
        return process

    def server(self) -> Process:
        process = self.start("server", "server", "--port", str(self.port), "--db", self.db_url)
        self.wait_healthy(process)
        return process

    def worker(self, name: str = "worker", parallelism: int = 4) -> Process:
        return self.start(
            name,
            "worker",
            "--cluster",
            "multiprocess",
            "--parallelism",
            str(parallelism),
            "--log-dir",
            str(self.root / "task-logs"),
        )

    def up(self, name: str = "up") -> Process:
        process = self.start(
            name,
            "up",
            "--port",
            str(self.port),
            "--db",
            self.db_url,
            "--parallelism",
            "4",
            "--log-dir",
            str(self.root / "task-logs"),
        )
        self.wait_healthy(process)
        return process

    def script(self, name: str, path: Path, *args: str) -> Process:
        process = Process([sys.executable, str(path), *args], self.root / f"{name}.log", self.env)
        self.processes.append(process)
        return process

    def wait_healthy(self, process: Process, timeout: float = 60.0) -> None:
        def healthy() -> bool:
            assert process.popen.poll() is None, f"{process.argv} ended:\n{process.output()}"
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, f"{process.argv[1]} answers on {self.url}", timeout)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@contextmanager
def site(root: Path, db_url: str) -> Iterator[Site]:
    place = Site(root, db_url)
    try:
        yield place
    finally:
        place.stop_all()
        _kill_leftover_tasks(place.root / "ledger")


def _kill_leftover_tasks(ledger_path: Path) -> None:
    """Whatever a test left running (a failed test's orphans) ends with it."""
    ledger = Ledger(ledger_path).read()
    for attempts in ledger.attempts.values():
        for attempt in attempts:
            if not (attempt.ended or attempt.killed):
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(attempt.pid, signal.SIGKILL)


WORKFLOW_SCRIPT = '''
"""A workflow of ledger tasks, run (or resumed) with the arguments the test gives."""
import json, sys
from jobmon_client import Tool

# The spec itself, or @FILE holding it (a long task list exceeds the argument limit).
arg = sys.argv[1]
spec = json.loads(open(arg[1:]).read() if arg.startswith("@") else arg)
tool = Tool(name=spec["tool"])
tool.set_default_cluster_name("multiprocess")
tool.set_default_compute_resources_from_dict("multiprocess", {"cores": 1, "runtime": "10m"})
template = tool.get_task_template(
    template_name="ledger", command_template="{command} # {label}", node_args=["label"],
    op_args=["command"]
)
wf = tool.create_workflow(name=spec["tool"], workflow_args=spec["args"],
                          max_concurrently_running=spec.get("limit", 100))
wf.add_tasks([template.create_task(label=label, command=command)
              for label, command in spec["tasks"].items()])
result = wf.run(resume=spec.get("resume", False),
                reset_running_jobs=spec.get("cold", True),
                seconds_until_timeout=spec.get("timeout", 300))
print("RESULT", result.workflow_status, result.workflow_id, flush=True)
'''


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, on a free port, that it may crash and restart
    (the machine's shared one is never touched)."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise FileNotFoundError("PostgreSQL's initdb is not installed")
        self.bin = found[-1].parent
        # Not under pytest's directory, which the postgres user cannot enter.
        self.root = Path(tempfile.mkdtemp(prefix="jobmon-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()
        subprocess.run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "jobmon",
            ],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/jobmon"

    def _as_postgres(self, *argv: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "pg.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
            "start",
        )

    def crash(self) -> None:
        """Stop at once, as a crash would (no checkpoint, connections cut)."""
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
        )

    def stop(self) -> None:
        with suppress(RuntimeError):
            self._as_postgres(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
            )
        shutil.rmtree(self.root, ignore_errors=True)
