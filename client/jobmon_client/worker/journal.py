"""A worker's journal on local disk: the reports the server has not acknowledged yet, and
what its distributor noted about each instance it started (a pid, a Slurm job id).

A worker killed at any moment loses nothing: the next worker of the same cluster on the
same host finds the journal, adopts the instances, sends the reports again (reports are
idempotent) and checks what still runs. One file per worker, one JSON object per line:

    {"r": SEQ, "report": {...}}     a report to send
    {"rs": SEQ, "reports": [...]}   reports to send, numbered from SEQ on
    {"a": [SEQ, ...]}               reports the server answered
    {"n": ID, "info": {...}}        what the distributor noted about instance ID
    {"x": ID}                       instance ID needs no note any more

Within a ``round`` (the worker loop runs each of its rounds in one) notes are held in
memory until the round's reports are written, or the round ends, so that a round of
launches and ends is one write. A note lost with a worker killed within a round costs
nothing the guardian does not cover: the guardian stops the task, and the next worker
checks the pid the server was told.

A live worker holds an exclusive flock on its file, so a journal whose lock is free belongs
to a worker that has stopped. The file is rewritten with only what is still open when it
grows, and removed when the worker stops with nothing open.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SUFFIX = ".journal"
COMPACT_BYTES = 4 * 2**20


def default_state_dir() -> Path:
    return Path.home() / ".jobmon" / "workers"


def journal_dir(state_dir: Path, server_url: str, cluster_name: str) -> Path:
    """Journals of one cluster's workers of one server on this host (a home directory may
    be shared by several hosts)."""
    server = hashlib.sha1(server_url.encode()).hexdigest()[:12]
    return Path(state_dir).expanduser() / socket.gethostname() / server / _safe(cluster_name)


@dataclass
class Contents:
    """What a journal holds that is still open."""

    worker_id: str
    reports: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)

    def read_line(self, line: str) -> None:
        entry = json.loads(line)
        if "r" in entry:
            self.reports[int(entry["r"])] = entry["report"]
        elif "rs" in entry:
            for offset, report in enumerate(entry["reports"]):
                self.reports[int(entry["rs"]) + offset] = report
        elif "a" in entry:
            for seq in entry["a"]:
                self.reports.pop(int(seq), None)
        elif "n" in entry:
            self.notes[int(entry["n"])] = entry["info"]
        elif "x" in entry:
            self.notes.pop(int(entry["x"]), None)


class Journal:
    """The journal of this worker (thread-safe)."""

    def __init__(self, directory: Path, worker_id: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{_safe(worker_id)}{SUFFIX}"
        self._worker_id = worker_id
        self._lock = threading.Lock()
        self._open = Contents(worker_id)
        self._seq = 0
        self._pending: list[bytes] = []  # notes not written yet
        self._holding = False  # within a round: notes wait for the next write
        self._fd = self._open_locked(self.path)
        os.write(self._fd, _line({"worker": worker_id}))
        self._size = os.fstat(self._fd).st_size

    @staticmethod
    def _open_locked(path: Path) -> int:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd

    def add_reports(self, reports: Iterable[dict[str, Any]]) -> list[int]:
        """Record reports (and the notes held) before they are sent; returns their sequence
        numbers."""
        reports = list(reports)
        with self._lock:
            first = self._seq + 1
            seqs = list(range(first, first + len(reports)))
            self._seq += len(reports)
            self._open.reports.update(zip(seqs, reports, strict=True))
            if reports:
                self._pending.append(_line({"rs": first, "reports": reports}))
            self._write([])
        return seqs

    def acknowledge(self, seqs: Iterable[int]) -> None:
        with self._lock:
            done = [s for s in seqs if self._open.reports.pop(s, None) is not None]
            if done:
                self._write([{"a": done}])

    def note(self, instance_id: int, info: dict[str, Any]) -> None:
        """Note something about an instance (at once, or by the end of the round)."""
        with self._lock:
            self._open.notes[instance_id] = info
            self._pending.append(_line({"n": instance_id, "info": info}))
            if not self._holding:
                self._write([])

    def forget(self, instance_id: int) -> None:
        with self._lock:
            if self._open.notes.pop(instance_id, None) is not None:
                self._pending.append(b'{"x":%d}\n' % instance_id)
                if not self._holding:
                    self._write([])

    @contextlib.contextmanager
    def round(self) -> Iterator[None]:
        """Hold notes until the next write, and write what is held when the block ends
        (called from one thread: the worker loop's)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._pending:
                with self._lock:
                    self._write([])

    def close(self) -> None:
        """Stop journaling; the file goes when nothing is left open in it."""
        with self._lock:
            if self._fd < 0:
                return
            if not self._open.reports and not self._open.notes:
                with contextlib.suppress(OSError):
                    self.path.unlink()
            else:
                self._write([])
            os.close(self._fd)
            self._fd = -1

    def _write(self, entries: list[dict[str, Any]]) -> None:
        """Append the notes held and ``entries`` in one write."""
        if self._fd < 0:
            return
        data = b"".join(self._pending) + b"".join(_line(e) for e in entries)
        self._pending.clear()
        if not data:
            return
        os.write(self._fd, data)
        self._size += len(data)
        if self._size > COMPACT_BYTES:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the file with what is still open (the held notes among it), under the
        same lock."""
        self._pending.clear()
        entries: list[dict[str, Any]] = [{"worker": self._worker_id}]
        entries += [{"r": s, "report": r} for s, r in sorted(self._open.reports.items())]
        entries += [{"n": i, "info": n} for i, n in sorted(self._open.notes.items())]
        data = b"".join(_line(e) for e in entries)
        temporary = self.path.with_name(self.path.name + ".new")
        fd = self._open_locked(temporary)
        try:
            os.write(fd, data)
            os.replace(temporary, self.path)
        except BaseException:
            os.close(fd)
            raise
        os.close(self._fd)
        self._fd = fd
        self._size = len(data)


@contextlib.contextmanager
def predecessors(directory: Path, own: Path | None = None) -> Iterator[list[Contents]]:
    """The journals of stopped workers in ``directory``, locked while in use; they are
    removed when the block ends without an error (their contents were taken over)."""
    found: list[tuple[int, Path, Contents]] = []
    try:
        for path in sorted(Path(directory).glob(f"*{SUFFIX}")):
            if own is not None and path == own:
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live worker's
                os.close(fd)
                continue
            contents = _read(fd, path)
            found.append((fd, path, contents))
        yield [c for _, _, c in found]
        for _, path, _ in found:
            with contextlib.suppress(OSError):
                path.unlink()
    finally:
        for fd, _, _ in found:
            os.close(fd)


def _read(fd: int, path: Path) -> Contents:
    with os.fdopen(os.dup(fd), "r", encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    worker_id = path.name[: -len(SUFFIX)]
    contents = Contents(worker_id)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry_worker = json.loads(line).get("worker")
            if entry_worker:
                contents.worker_id = str(entry_worker)
                continue
            contents.read_line(line)
        except (ValueError, KeyError, TypeError, AttributeError):
            # The last line of a worker killed while writing may be cut: skip it.
            log.warning("skipping line %d of %s, which cannot be read", number, path)
    return contents


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one, not one per line


def _line(entry: dict[str, Any]) -> bytes:
    return _ENCODER.encode(entry).encode() + b"\n"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:150] or "worker"
