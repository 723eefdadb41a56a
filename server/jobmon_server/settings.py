"""Server settings, from arguments or JOBMON_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_db_url() -> str:
    return os.environ.get("JOBMON_DB_URL") or f"sqlite:///{Path.home() / '.jobmon' / 'jobmon.db'}"


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Settings:
    db_url: str = field(default_factory=default_db_url)
    # How often workers send heartbeats, and how long the reaper waits past a deadline.
    heartbeat_interval: float = field(
        default_factory=lambda: _env_float("JOBMON_HEARTBEAT_INTERVAL", 30)
    )
    missed_heartbeats: float = 3.0
    reaper_interval: float = field(default_factory=lambda: _env_float("JOBMON_REAPER_INTERVAL", 2))
    max_claim_wait: float = 30.0
    max_page_size: int = 1000

    @property
    def report_within(self) -> float:
        return self.heartbeat_interval * self.missed_heartbeats
