"""The workflow's task graph, checked before binding: duplicates, missing upstreams, cycles.

Everything here is iterative and linear in tasks plus edges, so it holds for millions of
tasks and arbitrarily long chains.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

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

    Task i's upstream tasks are the next ``upstream_counts[i]`` entries of
    ``upstream_ids``, taken in task order: two flat lists instead of a list per task.
    ``aliases`` pairs other Task objects that are the same task as one in ``tasks`` (same
    template version and node args) with its index; they get its ``task_id`` when bound.
    """

    tasks: list[Task]
    upstream_ids: list[int]
    upstream_counts: list[int]
    aliases: list[tuple[Task, int]]

    @property
    def edge_count(self) -> int:
        return len(self.upstream_ids)

    def downstream_ids(self) -> Iterator[int]:
        """The downstream task of each entry of ``upstream_ids``."""
        return itertools.chain.from_iterable(
            map(itertools.repeat, itertools.count(), self.upstream_counts)
        )

    def edges(self) -> Iterable[tuple[int, int]]:
        """``(upstream, downstream)`` index pairs."""
        return zip(self.upstream_ids, self.downstream_ids(), strict=True)


def build_graph(
    workflow_name: str, tasks: Mapping[str, Task], duplicates: Iterable[Task]
) -> TaskGraph:
    """Check and index the tasks of a workflow.

    ``tasks`` maps each node key to the first Task added with it; ``duplicates`` are the
    other Task objects added with a key already present.
    """
    distinct = list(tasks.values())
    index = dict(zip(tasks, range(len(distinct)), strict=True))  # node key to position
    # keyed by identity: equal Task objects are still distinct aliases to give ids to
    aliases = {id(t): t for t in duplicates}
    # every edge through map(): a million edges without a Python frame each
    upstream_sets = list(map(_UPSTREAM, distinct))
    counts = list(map(len, upstream_sets))
    objects = list(itertools.chain.from_iterable(upstream_sets))
    try:
        ids = list(map(index.__getitem__, map(_NODE_KEY, objects)))
    except KeyError:
        _raise_missing_upstream(workflow_name, distinct, index)
    if any(map(operator.is_not, map(distinct.__getitem__, ids), objects)):
        for up, i in zip(objects, ids, strict=True):
            if distinct[i] is not up:
                aliases[id(up)] = up
        ids, counts = _without_repeats(ids, counts)  # a task and its alias are one upstream
    _check_downstream(workflow_name, distinct, index, len(ids), bool(aliases))
    pairs = [(alias, index[alias.node_key]) for alias in aliases.values()]
    for alias, i in pairs:
        _check_same_task(distinct[i], alias)
    graph = TaskGraph(distinct, ids, counts, pairs)
    _check_acyclic(graph)
    return graph


_UPSTREAM = operator.attrgetter("_upstream")
_NODE_KEY = operator.attrgetter("node_key")


def _raise_missing_upstream(
    workflow_name: str, tasks: list[Task], index: Mapping[str, int]
) -> NoReturn:
    found = _first_outside(tasks, _UPSTREAM, index)
    assert found is not None  # a lookup of an upstream task's key failed
    task, up = found
    raise MissingUpstreamError(
        f"Upstream task '{up.name}' of task '{task.name}' is not in workflow "
        f"'{workflow_name}'; add it with workflow.add_task() or add_tasks()"
    )


def _first_outside(
    tasks: list[Task], neighbours: Callable[[Task], Iterable[Task]], index: Mapping[str, int]
) -> tuple[Task, Task] | None:
    """A task and a neighbour of it that is not in ``index``, if there is one."""
    for task in tasks:
        for other in neighbours(task):
            if other.node_key not in index:
                return task, other
    return None


def _without_repeats(ids: list[int], counts: list[int]) -> tuple[list[int], list[int]]:
    kept: list[int] = []
    kept_counts = []
    start = 0
    for count in counts:
        distinct = dict.fromkeys(ids[start : start + count])
        start += count
        kept.extend(distinct)
        kept_counts.append(len(distinct))
    return kept, kept_counts


def _check_downstream(
    workflow_name: str,
    tasks: list[Task],
    index: Mapping[str, int],
    edge_count: int,
    aliases: bool,
) -> None:
    """Every downstream task of a task in the workflow must be in it too.

    Without aliases each edge found from the downstream side is one of the edges found
    from the upstream side (all in the workflow) unless its downstream task is missing:
    equal counts prove it without looking a million tasks up again."""
    if not aliases and edge_count == sum(map(len, map(_DOWNSTREAM, tasks))):
        return
    found = _first_outside(tasks, _DOWNSTREAM, index)
    if found is not None:
        task, down = found
        raise MissingDownstreamError(
            f"Downstream task '{down.name}' of task '{task.name}' is not in workflow "
            f"'{workflow_name}'; add it with workflow.add_task() or add_tasks(), or "
            "create the tasks anew for this workflow"
        )


_DOWNSTREAM = operator.attrgetter("_downstream")


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


def _check_acyclic(graph: TaskGraph) -> None:
    """Kahn's algorithm; on failure, name one cycle.

    Tasks are mostly added after their upstream tasks: then every edge goes forward in
    ``tasks`` and that proves there is no cycle, without visiting the graph."""
    if all(map(operator.lt, graph.upstream_ids, graph.downstream_ids())):
        return
    tasks = graph.tasks
    waiting = list(graph.upstream_counts)
    downstream: list[list[int]] = [[] for _ in tasks]
    for up, down in graph.edges():
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
    starts = list(itertools.accumulate(graph.upstream_counts, initial=0))
    upstream = [graph.upstream_ids[starts[i] : starts[i + 1]] for i in range(len(tasks))]
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
