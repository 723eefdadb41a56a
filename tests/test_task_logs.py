"""An attempt's stdout and stderr read through the server, tail first, and ``jobmon task logs``."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jobmon_client import Tool
from jobmon_client.transport import GraphQLClient, ServerError
from jobmon_server import attempt_logs
from jobmon_server.embedded import start
from jobmon_server.settings import Settings

from tests.conftest import Stack
from tests.helpers import python_command, task_instances
from tests.test_cli import Jobmon

# One backend: reading a log does not depend on the database.
sqlite_only = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)

LOG = """
query Log($id: Int!, $stream: LogStream!, $before: Int, $maxBytes: Int!) {
  taskInstanceLog(taskInstanceId: $id, stream: $stream, before: $before, maxBytes: $maxBytes) {
    __typename
    ... on LogChunk { taskInstanceId stream path text start end size hasEarlier }
    ... on LogUnavailable { message unreadablePath: path }
    ... on NotFound { message }
  }
}"""
LINES = 400
LAST_LINE = "ValueError: location 7 has no data for the year 2031 (the last line of the traceback)"


def read(
    url: str, ti: int, stream: str = "STDERR", before: int | None = None, max_bytes: int = 65536
) -> dict[str, Any]:
    with GraphQLClient(url) as client:
        variables = {"id": ti, "stream": stream, "before": before, "maxBytes": max_bytes}
        found = dict(client.execute(LOG, variables)["taskInstanceLog"])
    if "unreadablePath" in found:  # path is String! in a chunk, nullable here: aliased
        found["path"] = found.pop("unreadablePath")
    return found


@dataclass
class Failed:
    task_id: int
    instance_ids: list[int]
    stderr: str
    stdout: str


@pytest.fixture(scope="module")
def failed(stack: Stack) -> Failed:
    """A task that fails twice after writing a long stderr (a traceback, ending in
    ``LAST_LINE``) and a little stdout with non-ASCII text."""
    tool = Tool(name=f"logs_{time.monotonic_ns()}", server_url=stack.url)
    tool.set_default_cluster_name("multiprocess")
    tool.set_default_compute_resources_from_dict(
        "multiprocess", {"cores": 1, "memory": "1G", "runtime": "10m"}
    )
    template = tool.get_task_template(
        template_name="noisy", command_template="{cmd}", op_args=["cmd"]
    )
    code = (
        'import sys; print("résumé ✓"); '
        f'[print(f"  frame {{i}}: in step_{{i}} é", file=sys.stderr) for i in range({LINES})]; '
        f'print("{LAST_LINE}", file=sys.stderr); sys.exit(4)'
    )
    task = template.create_task(name="noisy", cmd=python_command(code), max_attempts=2)
    wf = tool.create_workflow(name="logs", workflow_args=f"logs_{time.monotonic_ns()}")
    wf.add_tasks([task])
    assert wf.run().final_status == "FAILED"
    instances = task_instances(stack.url, task.task_id)
    paths = [Path(i["stderrPath"]) for i in instances]
    out = Path(instances[-1]["stdoutPath"]).read_text()
    return Failed(task.task_id, [int(i["id"]) for i in instances], paths[-1].read_text(), out)


@sqlite_only
def test_the_tail_ends_with_the_last_line_and_starts_on_a_line(
    stack: Stack, failed: Failed
) -> None:
    ti = failed.instance_ids[-1]
    whole = read(stack.url, ti)
    assert whole["__typename"] == "LogChunk"
    assert (whole["start"], whole["hasEarlier"], whole["stream"]) == (0, False, "STDERR")
    assert whole["text"] == failed.stderr
    assert whole["end"] == whole["size"] == len(failed.stderr.encode())
    tail = read(stack.url, ti, max_bytes=1000)
    assert tail["text"].rstrip("\n").endswith(LAST_LINE)
    assert tail["hasEarlier"] and tail["end"] == whole["size"]
    assert tail["text"].startswith("  frame ")  # cut on a line boundary
    assert 900 < len(tail["text"].encode()) <= 1000


@sqlite_only
def test_pages_with_before_give_back_the_whole_file(stack: Stack, failed: Failed) -> None:
    ti = failed.instance_ids[0]
    pieces, before, pages = [], None, 0
    while True:
        chunk = read(stack.url, ti, before=before, max_bytes=4096)
        pieces.insert(0, chunk["text"])
        pages += 1
        if not chunk["hasEarlier"]:
            break
        assert chunk["start"] < (before if before is not None else chunk["size"])
        before = chunk["start"]
    assert "".join(pieces) == failed.stderr
    assert pages >= len(failed.stderr.encode()) // 4096


@sqlite_only
def test_stdout_is_read_as_utf8(stack: Stack, failed: Failed) -> None:
    chunk = read(stack.url, failed.instance_ids[-1], stream="STDOUT")
    assert chunk["stream"] == "STDOUT" and chunk["path"].endswith(".out")
    assert chunk["text"] == failed.stdout == "résumé ✓\n"


@sqlite_only
def test_unknown_instance_and_bad_windows(stack: Stack) -> None:
    assert read(stack.url, 10**9)["__typename"] == "NotFound"
    with pytest.raises(ServerError, match="maxBytes must be between 1 and 1048576"):
        read(stack.url, 1, max_bytes=2**20 + 1)
    with pytest.raises(ServerError, match="before must be an offset"):
        read(stack.url, 1, before=-1)


@sqlite_only
def test_a_file_the_server_cannot_read_says_why(
    stack: Stack, failed: Failed, tmp_path: Path
) -> None:
    ti = failed.instance_ids[0]
    path = Path(read(stack.url, ti)["path"])
    saved = path.read_bytes()
    try:
        path.unlink()
        gone = read(stack.url, ti)
        assert gone == {
            "__typename": "LogUnavailable",
            "path": str(path),
            "message": "the stderr file does not exist (yet, or any more): it may have been "
            "deleted or moved",
        }
        os.mkfifo(path)  # a reader of a FIFO would wait for a writer forever
        assert "not a regular file" in read(stack.url, ti)["message"]
        path.unlink()
        path.write_bytes(saved)
        if os.geteuid() == 0:  # only root can give the file away
            os.chown(path, 65534, 65534)
            refused = read(stack.url, ti)
            assert refused["__typename"] == "LogUnavailable"
            assert "owned neither by the run's user" in refused["message"]
            os.chown(path, 0, 0)
        assert read(stack.url, ti)["text"] == saved.decode()
    finally:
        if path.is_fifo():
            path.unlink()
        if not path.exists():
            path.write_bytes(saved)


@sqlite_only
def test_a_server_with_log_roots_reads_only_under_them(
    stack: Stack, failed: Failed, tmp_path: Path
) -> None:
    """A second server on the same database, allowed only another directory."""
    server = start(port=0, settings=Settings(db_url=stack.db_url, log_roots=(str(tmp_path),)))
    try:
        refused = read(server.url, failed.instance_ids[0])
        assert refused["__typename"] == "LogUnavailable"
        assert refused["message"].startswith(f"this server reads logs only under {tmp_path}")
    finally:
        server.stop()
    server = start(port=0, settings=Settings(db_url=stack.db_url, log_roots=(str(stack.log_dir),)))
    try:
        assert read(server.url, failed.instance_ids[0])["text"] == failed.stderr
    finally:
        server.stop()


def source(path: Path, hostname: str | None = None) -> attempt_logs.LogSource:
    return attempt_logs.LogSource(1, attempt_logs.LogStream.STDERR, str(path), hostname, "nobody")


def test_a_line_longer_than_the_window_is_cut_on_a_character(tmp_path: Path) -> None:
    log = tmp_path / "long.err"
    log.write_bytes(("é" * 100).encode() + b"\xff\n")
    chunk = attempt_logs.read_log(source(log), None, 51)
    assert isinstance(chunk, attempt_logs.Chunk)
    assert chunk.text == "é" * 24 + "\ufffd\n"  # started on a whole character; bad byte shown
    assert (chunk.start, chunk.end, chunk.has_earlier) == (152, 202, True)


def test_a_file_written_on_another_host_names_both_hosts(tmp_path: Path) -> None:
    missing = attempt_logs.read_log(source(tmp_path / "x.err", "node-17.cluster"), None, 100)
    assert isinstance(missing, attempt_logs.Unreadable)
    assert "it was written on node-17.cluster and the server runs on" in missing.message


@sqlite_only
def test_jobmon_task_logs_shows_the_latest_stderr_and_names_the_file(
    stack: Stack, failed: Failed
) -> None:
    jobmon = Jobmon(stack.url)
    shown = jobmon.run("task", "logs", "-t", str(failed.task_id))
    assert shown.stdout == failed.stderr  # the text as written, nothing added
    header = shown.stderr.strip().splitlines()
    assert len(header) == 1
    latest = failed.instance_ids[-1]
    assert f"attempt 2 of 2 (task instance {latest}, ERROR, exit 4): stderr " in header[0]
    assert header[0].split(": stderr ")[1].startswith(read(stack.url, latest)["path"])

    tail = jobmon.run("task", "logs", "-t", str(failed.task_id), "--bytes", "500")
    assert tail.stdout.rstrip("\n").endswith(LAST_LINE)
    assert tail.stdout.startswith("  frame ") and len(tail.stdout.encode()) <= 500
    assert "earlier bytes not shown: --all shows the whole file" in tail.stderr

    first = jobmon.run("task", "logs", "-t", str(failed.task_id), "--attempt", "1", "--all")
    assert first.stdout == failed.stderr
    assert f"attempt 1 of 2 (task instance {failed.instance_ids[0]}," in first.stderr
    by_id = jobmon.run(
        "task", "logs", "-t", str(failed.task_id), "-i", str(failed.instance_ids[0]), "--stdout"
    )
    assert by_id.stdout == failed.stdout and ": stdout " in by_id.stderr
    data = jobmon.json("task", "logs", "-t", str(failed.task_id), "-c", "100")
    assert data["has_earlier"] and data["end"] == data["size"] == len(failed.stderr.encode())
    assert data["text"].rstrip("\n").endswith(LAST_LINE) and data["task_instance_id"] == latest


@sqlite_only
def test_jobmon_task_logs_says_clearly_what_it_cannot_show(stack: Stack, failed: Failed) -> None:
    jobmon = Jobmon(stack.url)
    task = str(failed.task_id)
    assert jobmon.fails("task", "logs", "-t", task, "--attempt", "3") == (
        f"error: task {task} (noisy) has 2 attempt(s): --attempt takes 1 to 2"
    )
    assert "is not an attempt of task" in jobmon.fails("task", "logs", "-t", task, "-i", "999999")
    assert "task 999999 does not exist" in jobmon.fails("task", "logs", "-t", "999999")
    path = Path(read(stack.url, failed.instance_ids[-1])["path"])
    saved = path.read_bytes()
    path.unlink()
    try:
        message = jobmon.fails("task", "logs", "-t", task)
    finally:
        path.write_bytes(saved)
    assert message == (
        f"error: cannot show the stderr of task {task} attempt 2 (task instance "
        f"{failed.instance_ids[-1]}) at {path}: the stderr file does not exist (yet, or any "
        "more): it may have been deleted or moved"
    )


@sqlite_only
def test_jobmon_task_logs_pages_through_a_log_larger_than_a_request(
    stack: Stack, failed: Failed
) -> None:
    """The server sends at most 1 MiB at once; --all and a larger --bytes take pages."""
    jobmon = Jobmon(stack.url)
    first = failed.instance_ids[0]
    path = Path(read(stack.url, first)["path"])
    saved = path.read_bytes()
    big = "".join(f"line {i:07d} {'x' * 60}\n" for i in range(40_000))  # 2.9 MB
    path.write_text(big)
    try:
        args = ("task", "logs", "-t", str(failed.task_id), "-a", "1")
        assert jobmon.run(*args, "--all").stdout == big
        tail = jobmon.run(*args, "--bytes", str(1_500_000)).stdout
        assert big.endswith(tail) and tail.startswith("line ")
        assert 1_500_000 - 80 < len(tail) <= 1_500_000
    finally:
        path.write_bytes(saved)
