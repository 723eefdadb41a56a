"""Server logs: plain lines for a terminal, or one JSON object per line for a log shipper.

Lines logged while a request is served carry its id (the ``X-Request-Id`` it answers with).
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jobmon_request_id", default=None
)
PLAIN = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        record.request_id = current
        record.request = f" [{current}]" if current else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id  # type: ignore[attr-defined]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str, fmt: str = "plain") -> None:
    """Log to stderr at ``level`` as plain text or JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
