"""``configure_client_logging()``: the client's log lines on stderr, as Jobmon's does."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_client_logging(level: int = logging.INFO) -> None:
    """Show the client's log lines (binding, the run's start and end) on stderr.

    Calling it again changes nothing but the level.
    """
    logger = logging.getLogger("jobmon_client")
    logger.setLevel(level)
    if not any(getattr(h, "_jobmon_client", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._jobmon_client = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
