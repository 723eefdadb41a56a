"""What every request handler shares: the database and the worker wake-ups."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from anyio import to_thread
from sqlalchemy.orm import Session

from jobmon_server.db.after_commit import AfterCommit, after_commit
from jobmon_server.db.engine import Database
from jobmon_server.db.failures import Failure, classify
from jobmon_server.errors import Unavailable
from jobmon_server.events import EventHub
from jobmon_server.settings import Settings
from jobmon_server.wakeup import Wakeup

R = TypeVar("R")
P = ParamSpec("P")
log = logging.getLogger(__name__)

# A transaction that lost a deadlock is run again this many times (after a short random
# pause, so that the two sides do not meet again).
DEADLOCK_RETRIES = 5


@dataclass
class Services:
    db: Database
    settings: Settings
    wakeup: Wakeup = field(default_factory=Wakeup)
    hub: EventHub | None = None
    # Which token announced which worker id, once seen (see ``authorize.check_worker``).
    worker_tokens: dict[str, int] = field(default_factory=dict)

    async def read(
        self, fn: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run ``fn(session, ...)`` in a worker thread on a read session."""

        def work() -> R:
            with self.db.read() as session:
                return fn(session, *args, **kwargs)

        return await to_thread.run_sync(lambda: _transient_handled(work))

    async def write(
        self, fn: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run ``fn(session, ...)`` in one transaction in a worker thread, then wake workers."""
        return await to_thread.run_sync(lambda: self.write_sync(fn, *args, **kwargs))

    def write_sync(
        self, fn: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        def work() -> tuple[R, AfterCommit]:
            with self.db.write() as session:
                result = fn(session, *args, **kwargs)
                then = after_commit(session)
            return result, then

        result, then = _transient_handled(work)  # committed: now wake and tell
        self.wakeup.notify(then.wake_clusters)
        if self.hub is not None and then.events_written:
            self.hub.poke()
        return result


def _transient_handled(work: Callable[[], R]) -> R:
    """Run ``work`` (one whole transaction), again after a deadlock; a database that cannot
    be reached becomes ``Unavailable``, which clients retry."""
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            return work()
        except Exception as exc:
            failure = classify(exc)
            if failure is Failure.DEADLOCK and attempt < DEADLOCK_RETRIES:
                log.info("transaction lost a deadlock (%s); running it again", _first_line(exc))
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
                continue
            if failure is not None:
                raise Unavailable(
                    f"the database is unavailable ({_first_line(exc)}); send the request "
                    "again shortly"
                ) from exc
            raise
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
