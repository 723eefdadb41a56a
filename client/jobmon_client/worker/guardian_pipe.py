"""The worker's side of the guardian (``guardian.py``): its process and the pipe the worker
tells it through, and signalling a task's process group."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys

from jobmon_client.worker import guardian

log = logging.getLogger(__name__)


def group_alive(pgid: int) -> bool:
    """Whether a process group still has a member (one of another user's counts)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class GuardianPipe:
    """The guardian process and the pipe the worker tells it through.

    ``add`` and ``remove`` are buffered and go out in one write at ``flush``: the
    distributor flushes after each round of launches (and at most every few launches), so
    the guardian is woken once a round, not twice a task. The window this leaves: a worker
    killed between spawning a task and the flush that follows leaves that task unknown to
    the guardian (as it would between the spawn and a write of its own, only longer: the
    time of one launch round, a few milliseconds).
    """

    def __init__(self, grace: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", guardian.__file__, str(grace)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        assert self.process.stdin is not None
        self._fd = self.process.stdin.fileno()
        os.set_blocking(self._fd, True)
        self._buffer: list[str] = []

    def alive(self) -> bool:
        return self.process.poll() is None

    def add(self, pid: int, started: float) -> None:
        """A task's group to guard (sent at the next ``flush``)."""
        self._buffer.append(f"+ {pid} {started:.3f}\n")

    def remove(self, pid: int) -> None:
        """A task's group that ended (sent at the next ``flush``)."""
        self._buffer.append(f"- {pid}\n")

    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> None:
        if self._buffer:
            self._send("")

    def lease(self, seconds: float | None) -> None:
        self._send("L -\n" if seconds is None else f"L {max(0.0, seconds):.3f}\n")

    def _send(self, line: str) -> None:
        """Write what is buffered, then ``line`` (in one write, unless it is long)."""
        data = ("".join(self._buffer) + line).encode()
        self._buffer.clear()
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except (BrokenPipeError, OSError) as exc:
            log.warning("the guardian of this worker's tasks is gone (%s)", exc)

    def close(self) -> None:
        """Tell the guardian nothing runs any more, and let it end."""
        self._buffer.clear()
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
