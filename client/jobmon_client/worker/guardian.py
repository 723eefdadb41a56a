"""The guardian of a local worker's tasks: ``python -I guardian.py GRACE``.

Tasks run in their own sessions, so they outlive a worker that is killed. The guardian is
a small process of its own (standard library only, in a session of its own) that the
worker tells, through a pipe on the guardian's stdin, what it starts and how long the
server holds it:

    + PID START     a task's process group (its leader PID, started at START, epoch seconds)
    - PID           that task ended
    L SECONDS       the worker's lease runs out in SECONDS unless renewed ("L -": none)

When the pipe closes (the worker ended, whatever killed it), on SIGTERM, or when the lease
runs out, the guardian stops every group it knows: SIGTERM, then SIGKILL after GRACE
seconds. Each group is checked to be the same first (a session leader started at START, or
what is left of its group), so a reused pid is never signalled. After a lease ran out it
keeps serving, for the worker may renew.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

START_TOLERANCE_SECONDS = 2.0


def _boot_time() -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    return 0.0


_BOOT = _boot_time()
_TICKS = os.sysconf("SC_CLK_TCK")


def owns_group(pid: int, started: float) -> bool:
    """Whether process group ``pid`` is still the task's: its leader is the session leader
    that started at ``started``, or the leader has exited and members of its group remain
    (a group id is never reused while the group has members)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return _group_exists(pid)
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is the state; [3] the session id; [19] the start time in clock ticks.
    if fields[0] == "Z":
        return _group_exists(pid)
    start = _BOOT + int(fields[19]) / _TICKS
    return int(fields[3]) == pid and abs(start - started) <= START_TOLERANCE_SECONDS


def stop_groups(groups: dict[int, float], grace: float) -> None:
    """SIGTERM every group that is still the same process, SIGKILL what is left."""
    alive = [pid for pid, started in groups.items() if owns_group(pid, started)]
    for pid in alive:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if _group_exists(pid)]
    for pid in alive:
        _signal(pid, signal.SIGKILL)


def _signal(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Terminated(Exception):
    pass


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def serve(fd: int, grace: float) -> None:
    groups: dict[int, float] = {}
    try:
        _serve(fd, grace, groups)
    except _Terminated:  # stopped by hand: the tasks stop with it
        stop_groups(groups, grace)


def _serve(fd: int, grace: float, groups: dict[int, float]) -> None:
    lease_ends: float | None = None
    buffered = b""
    while True:
        timeout = None if lease_ends is None else max(0.0, lease_ends - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:  # the lease ran out: the server will run these tasks elsewhere
            stop_groups(groups, grace)
            groups.clear()
            lease_ends = None
            continue
        chunk = os.read(fd, 65536)
        if not chunk:  # the worker is gone
            stop_groups(groups, grace)
            return
        buffered += chunk
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            parts = line.decode().split()
            if not parts:
                continue
            if parts[0] == "+" and len(parts) == 3:
                groups[int(parts[1])] = float(parts[2])
            elif parts[0] == "-" and len(parts) == 2:
                groups.pop(int(parts[1]), None)
            elif parts[0] == "L" and len(parts) == 2:
                lease_ends = None if parts[1] == "-" else time.monotonic() + float(parts[1])


def main(argv: list[str]) -> int:
    grace = float(argv[1]) if len(argv) > 1 else 5.0
    # The worker's terminal signals are the worker's business: this process ends when
    # the pipe closes (or on SIGTERM, stopping the tasks first).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    serve(sys.stdin.fileno(), grace)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
