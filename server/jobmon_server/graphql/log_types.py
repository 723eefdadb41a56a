"""The types of an attempt's log, read in chunks (the logic is in ``attempt_logs``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from jobmon_server import attempt_logs
from jobmon_server.graphql.types import NotFound

strawberry.enum(attempt_logs.LogStream, description="Which of an attempt's output files.")
LogStream = attempt_logs.LogStream


@strawberry.type(
    description=(
        "Bytes [start, end) of a log of size bytes, decoded as UTF-8 (bad bytes replaced); "
        "the chunk starts on a line boundary unless one line is longer than asked. Read "
        "earlier text with before: start."
    )
)
class LogChunk:
    task_instance_id: int
    stream: LogStream
    path: str
    text: str
    start: int
    end: int
    size: int
    has_earlier: bool

    @classmethod
    def of(cls, chunk: attempt_logs.Chunk) -> LogChunk:
        return cls(
            task_instance_id=chunk.task_instance_id,
            stream=chunk.stream,
            path=chunk.path,
            text=chunk.text,
            start=chunk.start,
            end=chunk.end,
            size=chunk.size,
            has_earlier=chunk.has_earlier,
        )


@strawberry.type(description="The log exists in name but the server cannot read it, and why.")
class LogUnavailable:
    message: str
    path: str | None


TaskInstanceLogResult = Annotated[
    LogChunk | NotFound | LogUnavailable, strawberry.union("TaskInstanceLogResult")
]


def result_of(found: attempt_logs.Chunk | attempt_logs.Unreadable) -> LogChunk | LogUnavailable:
    if isinstance(found, attempt_logs.Chunk):
        return LogChunk.of(found)
    return LogUnavailable(message=found.message, path=found.path)
