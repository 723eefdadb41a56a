"""Server settings, from arguments or JOBMON_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_db_url() -> str:
    return os.environ.get("JOBMON_DB_URL") or f"sqlite:///{Path.home() / '.jobmon' / 'jobmon.db'}"


@dataclass
class Settings:
    db_url: str = field(default_factory=default_db_url)
    # How often workers send heartbeats, and how long the reaper waits past a deadline.
    heartbeat_interval: float = float(os.environ.get("JOBMON_HEARTBEAT_INTERVAL", "30"))
    missed_heartbeats: float = 3.0
    reaper_interval: float = float(os.environ.get("JOBMON_REAPER_INTERVAL", "2"))
    max_claim_wait: float = 30.0
    max_page_size: int = 1000

    @property
    def report_within(self) -> float:
        return self.heartbeat_interval * self.missed_heartbeats
