"""What a transaction asks to happen once it has committed.

A transaction that queues work wakes the long-polling workers of its clusters, and one that
writes events tells the subscribers; neither may happen before the commit (a woken worker
would find nothing, a subscriber would read nothing). Domain functions note these on the
session's ``AfterCommit``; ``Services.write`` acts on it after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

_KEY = "after_commit"


@dataclass
class AfterCommit:
    wake_clusters: set[int] = field(default_factory=set)
    events_written: bool = False


def after_commit(session: Session) -> AfterCommit:
    """The session's notes, made on first use."""
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = AfterCommit()
    assert isinstance(found, AfterCommit)
    return found


def wake(session: Session, cluster_ids: Iterable[int]) -> None:
    """Ask for workers of these clusters to be woken once the transaction commits."""
    after_commit(session).wake_clusters.update(cluster_ids)


def mark_events_written(session: Session) -> None:
    """Note that this transaction wrote events, so that its commit tells the readers."""
    after_commit(session).events_written = True
