"""One task's command as a child process: launch it, signal its group, collect its result.

The command runs as ``/bin/sh -c COMMAND``, spawned with ``os.posix_spawn(setsid=True)``
so that its own process group holds everything it starts, with stdin from /dev/null and
stdout/stderr into files. Its exit is observed through a pidfd, which becomes readable
when the process ends; ``wait4`` then gives the exit status and resource usage.

Linux counts the worker's own peak RSS into a spawned child's ``ru_maxrss`` (the child
starts in the worker's address space before its exec, and the kernel keeps that address
space's peak). A peak not clearly above the worker's own therefore says nothing about the
task: it is reported as unknown (None) rather than as a false number.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jobmon_client.config import task_environment

SHELL = "/bin/sh"
STDERR_TAIL_BYTES = 4096
STDERR_TAIL_LINES = 20
INHERITED_MARGIN_KB = 8 * 1024
_OUTPUT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


@dataclass(slots=True, frozen=True)
class ProcessResult:
    """How a process ended and what it used."""

    exit_code: int  # 128 + signal number when killed by a signal
    max_rss_bytes: int | None  # None: not above the worker's own peak, so unknown
    cpu_seconds: float
    wallclock_seconds: float


class TaskProcess:
    """A running command in its own process group, watched through a pidfd."""

    __slots__ = ("pid", "pidfd", "started", "stdout_path", "stderr_path", "inherited_rss_kb")

    def __init__(
        self,
        pid: int,
        pidfd: int,
        started: float,
        stdout_path: str,
        stderr_path: str,
        inherited_rss_kb: int = 0,
    ) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.started = started
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self.inherited_rss_kb = inherited_rss_kb

    @classmethod
    def spawn(
        cls,
        command: str,
        stdout_path: str | Path,
        stderr_path: str | Path,
        env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    ) -> TaskProcess:
        """Start ``/bin/sh -c command``; raises OSError when it cannot start."""
        out, err = os.fspath(stdout_path), os.fspath(stderr_path)
        file_actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out, _OUTPUT_FLAGS, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, err, _OUTPUT_FLAGS, 0o644),
        ]
        started = time.monotonic()
        inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        pid = os.posix_spawn(
            SHELL,
            [SHELL, "-c", command],
            task_environment() if env is None else env,
            file_actions=file_actions,
            setsid=True,
        )
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        return cls(pid, pidfd, started, out, err, inherited)

    def _measurable(self, max_rss_kb: int) -> bool:
        """Above the worker's own peak, with a margin for what the worker allocated while
        spawning (other threads run meanwhile)."""
        inherited = self.inherited_rss_kb
        return max_rss_kb > inherited + max(inherited // 10, INHERITED_MARGIN_KB)

    def fileno(self) -> int:
        """The pidfd: readable once the process has exited."""
        return self.pidfd

    def signal_group(self, signum: int) -> bool:
        """Send a signal to the process group; False when the group is gone."""
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def reap(self) -> ProcessResult:
        """Collect the exited process (blocks if it is still running) and close the pidfd."""
        _, status, usage = os.wait4(self.pid, 0)
        ended = time.monotonic()
        os.close(self.pidfd)
        code = os.waitstatus_to_exitcode(status)
        return ProcessResult(
            exit_code=128 - code if code < 0 else code,
            max_rss_bytes=usage.ru_maxrss * 1024 if self._measurable(usage.ru_maxrss) else None,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            wallclock_seconds=ended - self.started,
        )


def stderr_tail(path: str | Path) -> str:
    """The last lines of a file (at most 4 KiB, 20 lines), '' if it is missing or empty."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - STDERR_TAIL_BYTES))
            data = f.read(STDERR_TAIL_BYTES)
    except OSError:
        return ""
    lines = data.decode("utf-8", errors="replace").splitlines()
    if len(data) == STDERR_TAIL_BYTES and size > STDERR_TAIL_BYTES and len(lines) > 1:
        lines = lines[1:]  # the first line is cut
    return "\n".join(lines[-STDERR_TAIL_LINES:]).strip()
