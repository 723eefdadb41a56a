"""Background duties of every server process: lost heartbeats, run deadlines, stalls,
and tasks waiting on a cluster that no worker serves.

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
from jobmon_server.errors import DomainError, Unavailable
from jobmon_server.stalls import flag_stalled_runs
from jobmon_server.statuses import W
from jobmon_server.transitions import utcnow
from jobmon_server.waiting import flag_missing_workers

log = logging.getLogger(__name__)

# A pass this late means the server could not check leases (it was stopped, or starved):
# not a delay a busy machine makes between two passes.
BEHIND_SECONDS = 5.0


def reap_once(session: Session, grace: float = 0.0) -> int:
    """One pass: declare lost instances, time out overdue runs. Returns what changed."""
    now = utcnow()
    changed = workers.reap_lost(session, now, grace)
    changed += flag_missing_workers(session, now)
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
    # Leases that ran out while this process could not reap (it was not running, its
    # database was away, or it was held up) ran out for their workers too, which could not
    # renew them: they get a fresh lease instead of being declared lost.
    last_pass: float | None = None
    failed = False
    while True:
        try:
            behind = last_pass is None or time.monotonic() - last_pass > max(
                settings.lease_grace, 2 * settings.reaper_interval, BEHIND_SECONDS
            )
            if behind or failed:
                # Twice a lease: workers come back with a backoff, and send queued reports first.
                extended = await services.write(
                    workers.extend_leases, utcnow(), 2 * settings.report_within
                )
                if extended:
                    log.warning(
                        "gave %d attempts a fresh lease: this server could not check leases "
                        "for a while",
                        extended,
                    )
            else:
                await services.write(reap_once, settings.lease_grace)
            last_pass = time.monotonic()
            failed = False
            if settings.stall_seconds > 0 and time.monotonic() >= next_stall_check:
                next_stall_check = time.monotonic() + settings.stall_check_interval
                await services.write(
                    lambda session: flag_stalled_runs(session, utcnow(), settings.stall_seconds)
                )
        except asyncio.CancelledError:
            raise
        except Unavailable as exc:
            failed = True
            log.warning("reaper pass failed (%s); trying again", exc)
        except Exception:
            failed = True
            log.exception("reaper pass failed; trying again")
        await asyncio.sleep(settings.reaper_interval)
