"""Background duties of every server process: lost heartbeats, run deadlines, stalls.

Every replica may run them at once: each change is a guarded transition under row locks,
so two reapers never apply the same change twice.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.orm import Session

from jobmon_server import runs, workers
from jobmon_server.context import Services
from jobmon_server.errors import DomainError
from jobmon_server.stalls import flag_stalled_runs
from jobmon_server.statuses import W
from jobmon_server.transitions import utcnow

log = logging.getLogger(__name__)


def reap_once(session: Session) -> int:
    """One pass: declare lost instances, time out overdue runs. Returns what changed."""
    now = utcnow()
    changed = workers.reap_lost(session, now)
    for run_id in runs.overdue_runs(session, now):
        try:
            runs.stop(
                session, run_id, note="seconds_until_timeout passed", workflow_status=W.HALTED
            )
            changed += 1
        except DomainError:  # another replica ended it first
            continue
    return changed


async def reap_forever(services: Services) -> None:
    settings = services.settings
    next_stall_check = time.monotonic() + settings.stall_check_interval
    while True:
        try:
            await services.write(reap_once)
            if settings.stall_seconds > 0 and time.monotonic() >= next_stall_check:
                next_stall_check = time.monotonic() + settings.stall_check_interval
                await services.write(
                    lambda session: flag_stalled_runs(session, utcnow(), settings.stall_seconds)
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reaper pass failed; trying again")
        await asyncio.sleep(settings.reaper_interval)
