"""Server logs: plain lines for a terminal, or one JSON object per line for a log shipper.

Lines logged while a request is served carry its id (the ``X-Request-Id`` it answers with).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
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


# A token in a query string (``?token=...``, ``&access_token=...``): never written to a log.
_TOKEN_IN_URL = re.compile(r"([?&](?:access_)?token=)[^&\s\"']*", re.IGNORECASE)
# The loggers that write request lines (uvicorn's access log, its websocket lines).
URL_LOGGERS = ("uvicorn.access", "uvicorn.error")


class RedactTokens(logging.Filter):
    """Rewrites a record whose message carries a token in a URL, token replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _TOKEN_IN_URL.search(record.getMessage()):
            return True
        # The arguments keep their places: uvicorn's access formatter reads them one by one.
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        record.msg = _redacted(record.msg)
        return True


def _redacted(value: object) -> object:
    return _TOKEN_IN_URL.sub(r"\1[redacted]", value) if isinstance(value, str) else value


def redact_tokens_in_server_logs() -> None:
    """Put ``RedactTokens`` on the loggers that log URLs (once per process)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
