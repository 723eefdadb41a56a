"""Server settings, from arguments or JOBMON_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_db_url() -> str:
    return os.environ.get("JOBMON_DB_URL") or f"sqlite:///{Path.home() / '.jobmon' / 'jobmon.db'}"


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    db_url: str = field(default_factory=default_db_url)
    # How often workers send heartbeats, and how long the reaper waits past a deadline.
    heartbeat_interval: float = field(
        default_factory=lambda: _env_float("JOBMON_HEARTBEAT_INTERVAL", 30)
    )
    missed_heartbeats: float = 3.0
    # An attempt whose lease ran out is declared lost this much later: its worker stops it
    # when the lease runs out, so by then it has certainly stopped.
    lease_grace: float = field(default_factory=lambda: _env_float("JOBMON_LEASE_GRACE", 10))
    reaper_interval: float = field(default_factory=lambda: _env_float("JOBMON_REAPER_INTERVAL", 2))
    # A run with no event for this long gets a "stalled" alert (0: never); checked this often.
    stall_seconds: float = field(default_factory=lambda: _env_float("JOBMON_STALL_SECONDS", 3600))
    stall_check_interval: float = field(
        default_factory=lambda: _env_float("JOBMON_STALL_CHECK_INTERVAL", 30)
    )
    # How often each process reads events that other processes wrote, for subscriptions.
    # On PostgreSQL it is told by LISTEN/NOTIFY and reads at least every 5 s as a safety net;
    # turn that off where LISTEN cannot work (behind pgbouncer in transaction mode).
    event_poll_seconds: float = field(
        default_factory=lambda: _env_float("JOBMON_EVENT_POLL_SECONDS", 0.25)
    )
    event_notify: bool = field(default_factory=lambda: _env_bool("JOBMON_EVENT_NOTIFY", True))
    max_claim_wait: float = 30.0
    max_page_size: int = 1000
    # "token": every GraphQL request needs a token (a shared server); "none": no login.
    auth: str = field(default_factory=lambda: os.environ.get("JOBMON_AUTH", "none"))
    # Limits on every request.
    max_query_depth: int = 12
    max_aliases: int = field(default_factory=lambda: _env_int("JOBMON_MAX_ALIASES", 100))
    max_tokens: int = field(default_factory=lambda: _env_int("JOBMON_MAX_TOKENS", 5000))
    # A request's cost: each field once per object asked for, a page (first: n)
    # multiplying what is below it; and its fields once fragments are spread.
    max_cost: int = field(default_factory=lambda: _env_int("JOBMON_MAX_COST", 500_000))
    max_fields: int = field(default_factory=lambda: _env_int("JOBMON_MAX_FIELDS", 3000))
    # Memory for parsed and validated documents kept for reuse.
    document_cache_bytes: int = field(
        default_factory=lambda: _env_int("JOBMON_DOCUMENT_CACHE_BYTES", 8 * 2**20)
    )
    max_body_bytes: int = field(
        default_factory=lambda: _env_int("JOBMON_MAX_BODY_BYTES", 64 * 2**20)
    )
    # Off on a production server if wanted: schema introspection and the playground.
    introspection: bool = field(default_factory=lambda: _env_bool("JOBMON_INTROSPECTION", True))
    playground: bool = field(default_factory=lambda: _env_bool("JOBMON_PLAYGROUND", True))
    # Directories whose attempt logs the server serves (os.pathsep-separated). Unset, it
    # serves a recorded log file owned by its own user or the run's user (attempt_logs).
    log_roots: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p for p in os.environ.get("JOBMON_LOG_ROOTS", "").split(os.pathsep) if p
        )
    )
    # Connections each server process keeps to PostgreSQL or MariaDB.
    db_pool_size: int = field(default_factory=lambda: _env_int("JOBMON_DB_POOL_SIZE", 10))
    db_max_overflow: int = field(default_factory=lambda: _env_int("JOBMON_DB_MAX_OVERFLOW", 20))

    @property
    def report_within(self) -> float:
        return self.heartbeat_interval * self.missed_heartbeats
