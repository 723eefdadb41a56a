"""A bound workflow's edges must not form a cycle: checked when the bind completes.

A client that binds through the Python or R API has checked this already; one that sends
raw mutations may not have, and a cycle would leave its tasks waiting on each other
forever. The message is the Python client's, word for word. Iterative and linear in tasks
plus edges.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.errors import ValidationFailed

MAX_CYCLE_NAMES_SHOWN = 20


def check_acyclic(session: Session, workflow_id: int) -> None:
    edge = models.TaskEdge
    rows = session.execute(
        select(edge.upstream_task_id, edge.downstream_task_id).where(
            edge.workflow_id == workflow_id
        )
    ).all()
    if not rows:
        return
    upstream: dict[int, list[int]] = defaultdict(list)
    downstream: dict[int, list[int]] = defaultdict(list)
    for up, down in rows:
        upstream[down].append(up)
        downstream[up].append(down)
    nodes = set(upstream) | set(downstream)
    waiting = {n: len(upstream.get(n, ())) for n in nodes}
    ready = [n for n, count in waiting.items() if count == 0]
    finished = 0
    while ready:
        n = ready.pop()
        finished += 1
        for down in downstream.get(n, ()):
            waiting[down] -= 1
            if waiting[down] == 0:
                ready.append(down)
    if finished == len(nodes):
        return
    start = next(n for n, count in waiting.items() if count)
    path, position = [start], {start: 0}
    while True:
        up = next(u for u in upstream[path[-1]] if waiting[u])
        if up in position:
            cycle = path[position[up] :]
            break
        position[up] = len(path)
        path.append(up)
    cycle.reverse()  # upstream first
    names_of = dict(
        session.execute(
            select(models.Task.id, models.Task.name).where(models.Task.id.in_(cycle[:100]))
        ).all()
    )
    names = [str(names_of.get(i, i)) for i in cycle]
    shown = (
        names
        if len(names) <= MAX_CYCLE_NAMES_SHOWN
        else names[:MAX_CYCLE_NAMES_SHOWN] + [f"... ({len(names) - MAX_CYCLE_NAMES_SHOWN} more)"]
    )
    raise ValidationFailed(
        f"the task dependencies form a cycle through task '{names[0]}': "
        + " -> ".join(shown + [names[0]])
        + "; remove one of these dependencies",
        "upstreamTaskIds",
    )
