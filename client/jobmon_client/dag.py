"""The workflow's task graph, checked before binding: duplicates, missing upstreams, cycles.

Everything here is iterative and linear in tasks plus edges, so it holds for millions of
tasks and arbitrarily long chains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from jobmon_client.task import Task
from jobmon_client.validation import (
    CycleError,
    DuplicateTaskError,
    MissingDownstreamError,
    MissingUpstreamError,
)

MAX_CYCLE_NAMES_SHOWN = 20

_DEFINITION_FIELDS = (
    "name",
    "command",
    "task_args",
    "cluster_name",
    "compute_resources",
    "max_attempts",
)


@dataclass(slots=True)
class TaskGraph:
    """Distinct tasks and their dependencies, as indexes into ``tasks``.

    ``aliases`` pairs other Task objects that are the same task as one in ``tasks`` (same
    template version and node args) with its index; they get its ``task_id`` when bound.
    """

    tasks: list[Task]
    upstream: list[Sequence[int]]
    aliases: list[tuple[Task, int]]

    @property
    def edge_count(self) -> int:
        return sum(len(ups) for ups in self.upstream)

    def edges(self) -> Iterable[tuple[int, int]]:
        """``(upstream, downstream)`` index pairs."""
        for down, ups in enumerate(self.upstream):
            for up in ups:
                yield up, down


def build_graph(
    workflow_name: str, tasks: Mapping[str, Task], duplicates: Iterable[Task]
) -> TaskGraph:
    """Check and index the tasks of a workflow.

    ``tasks`` maps each node key to the first Task added with it; ``duplicates`` are the
    other Task objects added with a key already present.
    """
    distinct = list(tasks.values())
    index = {task.node_key: i for i, task in enumerate(distinct)}
    # keyed by identity: equal Task objects are still distinct aliases to give ids to
    aliases = {id(t): t for t in duplicates}
    upstream: list[Sequence[int]] = []
    for task in distinct:
        if not task._upstream:
            upstream.append(())
            continue
        ups = []
        through_alias = False
        for up in task._upstream:
            i = index.get(up.node_key)
            if i is None:
                raise MissingUpstreamError(
                    f"Upstream task '{up.name}' of task '{task.name}' is not in workflow "
                    f"'{workflow_name}'; add it with workflow.add_task() or add_tasks()"
                )
            if distinct[i] is not up:
                aliases[id(up)] = up
                through_alias = True
            ups.append(i)
        upstream.append(list(dict.fromkeys(ups)) if through_alias else ups)
    _check_downstream(workflow_name, distinct, index, upstream, bool(aliases))
    pairs = [(alias, index[alias.node_key]) for alias in aliases.values()]
    for alias, i in pairs:
        _check_same_task(distinct[i], alias)
    _check_acyclic(distinct, upstream)
    return TaskGraph(distinct, upstream, pairs)


def _check_downstream(
    workflow_name: str,
    tasks: list[Task],
    index: Mapping[str, int],
    upstream: list[Sequence[int]],
    aliases: bool,
) -> None:
    """Every downstream task of a task in the workflow must be in it too.

    Without aliases each edge found from the downstream side is one of the edges found
    from the upstream side (all in the workflow) unless its downstream task is missing:
    equal counts prove it without looking a million tasks up again."""
    if not aliases and sum(map(len, upstream)) == sum(len(t._downstream) for t in tasks):
        return
    for task in tasks:
        for down in task._downstream:
            if down.node_key not in index:
                raise MissingDownstreamError(
                    f"Downstream task '{down.name}' of task '{task.name}' is not in workflow "
                    f"'{workflow_name}'; add it with workflow.add_task() or add_tasks(), or "
                    "create the tasks anew for this workflow"
                )


def _check_same_task(first: Task, other: Task) -> None:
    """Two Task objects with one node key must describe the same task."""
    difference = _difference(first, other)
    if difference is not None:
        field, mine, theirs = difference
        raise DuplicateTaskError(
            f"task '{first.name}' (template '{first.template.template_name}', node args "
            f"{first.node_args}) was added twice with different {field}: {mine!r} and "
            f"{theirs!r}; give the two tasks different node args, or add only one"
        )


def _difference(first: Task, other: Task) -> tuple[str, object, object] | None:
    for field in _DEFINITION_FIELDS:
        mine, theirs = getattr(first, field), getattr(other, field)
        if mine != theirs:
            return field, mine, theirs
    if {t.node_key for t in first._upstream} != {t.node_key for t in other._upstream}:
        return (
            "upstream tasks",
            sorted(t.name for t in first._upstream),
            sorted(t.name for t in other._upstream),
        )
    return None


def _check_acyclic(tasks: list[Task], upstream: list[Sequence[int]]) -> None:
    """Kahn's algorithm; on failure, name one cycle."""
    waiting = [len(ups) for ups in upstream]
    downstream: list[list[int]] = [[] for _ in tasks]
    for down, ups in enumerate(upstream):
        for up in ups:
            downstream[up].append(down)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    finished = 0
    while ready:
        i = ready.pop()
        finished += 1
        for down in downstream[i]:
            waiting[down] -= 1
            if waiting[down] == 0:
                ready.append(down)
    if finished == len(tasks):
        return
    # Every unfinished task has an unfinished upstream: walking upstream must repeat a task.
    start = next(i for i, count in enumerate(waiting) if count)
    path = [start]
    position = {start: 0}
    while True:
        up = next(u for u in upstream[path[-1]] if waiting[u])
        if up in position:
            cycle = path[position[up] :]
            break
        position[up] = len(path)
        path.append(up)
    cycle.reverse()  # upstream first
    names = [tasks[i].name for i in cycle]
    shown = (
        names
        if len(names) <= MAX_CYCLE_NAMES_SHOWN
        else names[:MAX_CYCLE_NAMES_SHOWN] + [f"... ({len(names) - MAX_CYCLE_NAMES_SHOWN} more)"]
    )
    raise CycleError(
        f"the task dependencies form a cycle through task '{names[0]}': "
        + " -> ".join(shown + [names[0]])
        + "; remove one of these dependencies"
    )
