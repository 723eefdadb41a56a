"""An attempt's stdout or stderr, read from the file its worker reported, tail first.

The server reads only the path recorded for the instance, never one a client names. Of
those it reads only regular files, and only ones it can vouch for: under the directories
of ``JOBMON_LOG_ROOTS`` when that is set, else files owned by the server's own user or by
the user of the instance's run (a path a worker reported cannot expose the server's other
files). A file it cannot read is an answer saying why, not an error.
"""

from __future__ import annotations

import os
import pwd
import socket
import stat
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.errors import NotFoundError, ValidationFailed

MAX_BYTES = 2**20
# GraphQL's Int is 32-bit: offsets in a larger file cannot be said.
MAX_FILE_BYTES = 2**31 - 1


class LogStream(Enum):
    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True)
class LogSource:
    """Where an attempt's stream was written, and by whom."""

    task_instance_id: int
    stream: LogStream
    path: str | None
    hostname: str | None
    user: str


@dataclass(frozen=True)
class Chunk:
    task_instance_id: int
    stream: LogStream
    path: str
    text: str
    start: int
    end: int
    size: int

    @property
    def has_earlier(self) -> bool:
        return self.start > 0


@dataclass(frozen=True)
class Unreadable:
    message: str
    path: str | None


def check_window(before: int | None, max_bytes: int) -> None:
    if not 1 <= max_bytes <= MAX_BYTES:
        raise ValidationFailed(
            f"maxBytes must be between 1 and {MAX_BYTES}, not {max_bytes}; read a long log "
            "in pages with `before`",
            "maxBytes",
        )
    if before is not None and before < 0:
        raise ValidationFailed(f"before must be an offset of 0 or more, not {before}", "before")


def log_source(session: Session, task_instance_id: int, stream: LogStream) -> LogSource:
    ti, run = models.TaskInstance, models.WorkflowRun
    row = session.execute(
        select(ti.stdout_path, ti.stderr_path, ti.hostname, run.user)
        .join(run, run.id == ti.workflow_run_id)
        .where(ti.id == task_instance_id)
    ).first()
    if row is None:
        raise NotFoundError(f"task instance {task_instance_id} does not exist")
    stdout, stderr, hostname, user = row
    return LogSource(
        task_instance_id, stream, stdout if stream is LogStream.STDOUT else stderr, hostname, user
    )


def read_log(
    source: LogSource, before: int | None, max_bytes: int, roots: tuple[str, ...] = ()
) -> Chunk | Unreadable:
    """Up to ``max_bytes`` ending at ``before`` (the file's end when None), starting on a
    line boundary unless one line is longer than the window. Blocking: run in a thread."""
    name = source.stream.value
    if not source.path:
        return Unreadable(
            f"task instance {source.task_instance_id} has no {name} file recorded: it did not "
            "start, or its worker did not report where it wrote",
            None,
        )
    path = source.path
    if roots:
        path = os.path.realpath(path)
        if not any(_within(path, root) for root in roots):
            return Unreadable(
                f"this server reads logs only under {os.pathsep.join(roots)} "
                "(JOBMON_LOG_ROOTS); read the file where it was written",
                source.path,
            )
    try:
        # Non-blocking so that a FIFO in its place cannot hang the read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return Unreadable(_missing(source), source.path)
    except PermissionError:
        return Unreadable(
            f"the server may not read the {name} file (permission denied); read it as the "
            "workflow's user where it was written",
            source.path,
        )
    except OSError as exc:
        return Unreadable(f"the server cannot open the {name} file: {exc.strerror}", source.path)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Unreadable(f"the {name} path is not a regular file", source.path)
        if not roots and not _owned_by(info.st_uid, source.user):
            return Unreadable(
                f"the {name} file is owned neither by the run's user ({source.user}) nor by "
                "the server's; the server reads such files only under JOBMON_LOG_ROOTS",
                source.path,
            )
        size = info.st_size
        if size > MAX_FILE_BYTES:
            return Unreadable(
                f"the {name} file has {size} bytes, more than this server serves (2 GiB); "
                f"read it where it was written (tail -c {max_bytes} PATH)",
                source.path,
            )
        end = size if before is None else min(before, size)
        start = max(0, end - max_bytes)
        f.seek(start)
        data = f.read(end - start)
    end = start + len(data)  # the file may have shrunk since fstat
    cut = _line_start(data) if start > 0 else 0
    return Chunk(
        task_instance_id=source.task_instance_id,
        stream=source.stream,
        path=source.path,
        text=data[cut:].decode("utf-8", errors="replace"),
        start=start + cut,
        end=end,
        size=max(size, end),
    )


def _line_start(data: bytes) -> int:
    """Where the first whole line of ``data`` starts; with no line break in it, the first
    whole UTF-8 character (a line longer than the window is cut, but not mid-character)."""
    newline = data.find(b"\n")
    if 0 <= newline < len(data) - 1:
        return newline + 1
    skip = 0
    while skip < min(len(data), 3) and data[skip] & 0xC0 == 0x80:
        skip += 1
    return skip


def _within(path: str, root: str) -> bool:
    root = os.path.realpath(root)
    return os.path.commonpath([path, root]) == root


def _owned_by(uid: int, user: str) -> bool:
    if uid == os.geteuid():
        return True
    try:
        return pwd.getpwnam(user).pw_uid == uid
    except KeyError:
        return False


def _missing(source: LogSource) -> str:
    name = source.stream.value
    here = socket.gethostname()
    if source.hostname and source.hostname.split(".")[0] != here.split(".")[0]:
        return (
            f"the {name} file is not on this server's filesystem: it was written on "
            f"{source.hostname} and the server runs on {here}; read it there, or put logs on "
            "a filesystem both share"
        )
    return f"the {name} file does not exist (yet, or any more): it may have been deleted or moved"
