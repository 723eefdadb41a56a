"""Read-only lookups behind the API: one query each, paginated by keyset cursors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jobmon_server.db import models
from jobmon_server.errors import NotFoundError, ValidationFailed

R = TypeVar("R")


@dataclass
class Page(Generic[R]):
    items: list[R]
    end_cursor: str | None
    has_next_page: bool


MAX_ID = 2**63 - 1  # the largest id a database column holds


def parse_cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    try:
        cursor = int(after) if len(after) <= 20 else -1
    except ValueError:
        cursor = -1
    if not 0 <= cursor <= MAX_ID:
        raise ValidationFailed(
            f"'{after:.40}' is not a cursor; pass the endCursor of the previous page", "after"
        )
    return cursor


def check_page_size(first: int, maximum: int) -> int:
    if not 1 <= first <= maximum:
        raise ValidationFailed(f"first must be between 1 and {maximum}, not {first}", "first")
    return first


def keyset_page(
    session: Session,
    stmt: Select[Any],
    id_column: Any,
    first: int,
    after: str | None,
    *,
    newest_first: bool = False,
) -> Page[Any]:
    """One page ordered by id, fetching one row more to know whether another page follows."""
    stmt = after_cursor(stmt, id_column, first, after, newest_first)
    rows: Sequence[Any] = session.execute(stmt).all()
    more = len(rows) > first
    rows = rows[:first]
    return Page(list(rows), str(rows[-1][0].id) if rows else after, more)


def after_cursor(
    stmt: Select[Any], id_column: Any, first: int, after: str | None, newest_first: bool
) -> Select[Any]:
    """``stmt`` limited to the ``first + 1`` rows past the cursor, in id order."""
    cursor = parse_cursor(after)
    if newest_first:
        if cursor:
            stmt = stmt.where(id_column < cursor)
        return stmt.order_by(id_column.desc()).limit(first + 1)
    return stmt.where(id_column > cursor).order_by(id_column).limit(first + 1)


def workflow(session: Session, workflow_id: int) -> models.Workflow:
    found = session.get(models.Workflow, workflow_id)
    if found is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    return found


@dataclass(frozen=True)
class WorkflowFilter:
    """Which workflows a list shows; an empty field does not filter."""

    users: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    name_contains: str | None = None
    tools: list[str] = field(default_factory=list)
    created_after: datetime | None = None
    created_before: datetime | None = None


def workflows_page(
    session: Session, which: WorkflowFilter, first: int, after: str | None
) -> Page[Any]:
    """Workflows, newest first, filtered by owner, id, status, name, tool and creation time."""
    wf = models.Workflow
    stmt = select(wf)
    if which.users:
        stmt = stmt.where(wf.user.in_(which.users))
    if which.ids:
        stmt = stmt.where(wf.id.in_(which.ids))
    if which.statuses:
        stmt = stmt.where(wf.status.in_(which.statuses))
    if which.name_contains:
        stmt = stmt.where(wf.name.contains(which.name_contains, autoescape=True))
    if which.tools:
        versions = (
            select(models.ToolVersion.id)
            .join(models.Tool, models.Tool.id == models.ToolVersion.tool_id)
            .where(models.Tool.name.in_(which.tools))
        )
        stmt = stmt.where(wf.tool_version_id.in_(versions))
    if which.created_after is not None:
        stmt = stmt.where(wf.created >= naive_utc(which.created_after))
    if which.created_before is not None:
        stmt = stmt.where(wf.created < naive_utc(which.created_before))
    return keyset_page(session, stmt, wf.id, first, after, newest_first=True)


def naive_utc(value: datetime) -> datetime:
    """The database keeps naive UTC times."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


# For many workflows at once (a page of them): one statement each, not one per workflow.


def counts_of(session: Session, workflow_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Tasks per status of each workflow, from the kept counts."""
    kept = models.TaskStatusCount
    rows = session.execute(
        select(kept.workflow_id, kept.status, func.sum(kept.count))
        .where(kept.workflow_id.in_(workflow_ids))
        .group_by(kept.workflow_id, kept.status)
    ).all()
    found: dict[int, list[tuple[str, int]]] = {i: [] for i in workflow_ids}
    for workflow_id, status, n in sorted(rows, key=lambda r: (r[0], r[1])):
        found[workflow_id].append((status, int(n or 0)))
    return found


def latest_runs(session: Session, workflow_ids: list[int]) -> dict[int, models.WorkflowRun]:
    run = models.WorkflowRun
    newest = (
        select(func.max(run.id)).where(run.workflow_id.in_(workflow_ids)).group_by(run.workflow_id)
    )
    return {r.workflow_id: r for r in session.scalars(select(run).where(run.id.in_(newest)))}


def tool_names(session: Session, workflow_ids: list[int]) -> dict[int, str]:
    wf, version, tool = models.Workflow, models.ToolVersion, models.Tool
    rows = session.execute(
        select(wf.id, tool.name)
        .join(version, version.id == wf.tool_version_id)
        .join(tool, tool.id == version.tool_id)
        .where(wf.id.in_(workflow_ids))
    ).all()
    return {workflow_id: name for workflow_id, name in rows}


def workflow_run(session: Session, run_id: int) -> models.WorkflowRun:
    found = session.get(models.WorkflowRun, run_id)
    if found is None:
        raise NotFoundError(f"workflow run {run_id} does not exist")
    return found


def errors_page(
    session: Session, workflow_id: int, signature: str | None, first: int, after: str | None
) -> Page[Any]:
    log, ti, task = models.TaskInstanceErrorLog, models.TaskInstance, models.Task
    stmt = (
        select(log, task.name, ti.status, ti.exit_code)
        .join(ti, ti.id == log.task_instance_id)
        .join(task, task.id == log.task_id)
        .where(log.workflow_id == workflow_id)
    )
    if signature is not None:
        stmt = stmt.where(log.signature == signature)
    return keyset_page(session, stmt, log.id, first, after)  # type: ignore[arg-type]


def _latest_exit_code() -> Any:
    ti = models.TaskInstance
    return (
        select(ti.exit_code)
        .where(ti.task_id == models.Task.id)
        .order_by(ti.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _task_detail() -> Select[Any]:
    task = models.Task
    return (
        select(
            task,
            models.TaskTemplate.name,
            models.Cluster.name,
            models.TaskResources.requested,
            models.Node.node_args,
            _latest_exit_code(),
        )
        .join(models.Node, models.Node.id == task.node_id)
        .join(
            models.TaskTemplateVersion,
            models.TaskTemplateVersion.id == models.Node.task_template_version_id,
        )
        .join(
            models.TaskTemplate,
            models.TaskTemplate.id == models.TaskTemplateVersion.task_template_id,
        )
        .join(models.TaskResources, models.TaskResources.id == task.task_resources_id)
        .join(models.Cluster, models.Cluster.id == models.TaskResources.cluster_id)
    )


def tasks_page(
    session: Session,
    workflow_id: int,
    statuses: list[str] | None,
    template_name: str | None,
    first: int,
    after: str | None,
    name_contains: str | None = None,
) -> Page[Any]:
    """A page of a workflow's tasks, in id order, optionally of some statuses, one template
    and a name.

    With statuses, the page's ids are read first, each status's from the index on
    (workflow, status, id): a database would otherwise walk the workflow's tasks in id order
    until it found a page of those statuses, all of them when few have it.
    """
    task = models.Task
    stmt = _task_detail().where(task.workflow_id == workflow_id)
    if template_name is not None:
        stmt = stmt.where(models.TaskTemplate.name == template_name)
    if name_contains:
        stmt = stmt.where(task.name.contains(name_contains, autoescape=True))
    if statuses:
        ids = select(task.id).where(task.workflow_id == workflow_id)
        if template_name is not None:
            ids = ids.where(task.array_id.in_(template_arrays(workflow_id, template_name)))
        if name_contains:
            ids = ids.where(task.name.contains(name_contains, autoescape=True))
        found: list[int] = []
        for status in sorted(set(statuses)):
            of_status = ids.where(task.status == status)
            found += session.scalars(after_cursor(of_status, task.id, first, after, False))
        if not found:
            return Page([], after, False)
        stmt = stmt.where(task.id.in_(sorted(found)[: first + 1]))
    return keyset_page(session, stmt, task.id, first, after)


# Task nodes are small rows a client reads in bulk (to learn its tasks' ids).
MAX_TASK_NODE_PAGE = 50_000


def task_nodes(session: Session, workflow_id: int, first: int, after: str | None) -> Page[Any]:
    """The workflow's tasks as (id, template version id, node args hash), in id order."""
    check_page_size(first, MAX_TASK_NODE_PAGE)
    task, node = models.Task, models.Node
    rows = session.execute(
        select(task.id, node.task_template_version_id, node.node_args_hash)
        .join(node, node.id == task.node_id)
        .where(task.workflow_id == workflow_id, task.id > parse_cursor(after))
        .order_by(task.id)
        .limit(first + 1)
    ).all()
    more = len(rows) > first
    rows = rows[:first]
    return Page(list(rows), str(rows[-1][0]) if rows else after, more)


def template_edges(session: Session, workflow_id: int) -> list[tuple[str, str, int]]:
    """Edges between the templates of a workflow's tasks, with how many task edges each
    stands for: one grouped query over the workflow's edges."""
    edge = models.TaskEdge
    up = models.Task.__table__.alias("up")
    down = models.Task.__table__.alias("down")
    rows = session.execute(
        select(up.c.array_id, down.c.array_id, func.count())
        .select_from(edge)
        .join(up, up.c.id == edge.upstream_task_id)
        .join(down, down.c.id == edge.downstream_task_id)
        .where(edge.workflow_id == workflow_id)
        .group_by(up.c.array_id, down.c.array_id)
    ).all()
    names = _array_names(session, workflow_id)
    return [(names[a], names[b], int(n)) for a, b, n in rows]


def _array_names(session: Session, workflow_id: int) -> dict[int, str]:
    return {a: name for a, name in session.execute(_arrays_and_templates(workflow_id)).all()}


def edges_page(session: Session, workflow_id: int, first: int, after: str | None) -> Page[Any]:
    """A workflow's task edges in (upstream, downstream) order; the cursor is "up-down"."""
    edge = models.TaskEdge
    up, down = 0, 0
    if after:
        try:
            up, down = (parse_cursor(part) for part in after.split("-"))
        except (ValueError, ValidationFailed):
            raise ValidationFailed(
                f"'{after:.40}' is not an edge cursor; pass the endCursor of the previous page",
                "after",
            ) from None
    rows = session.execute(
        select(edge.upstream_task_id, edge.downstream_task_id)
        .where(
            edge.workflow_id == workflow_id,
            (edge.upstream_task_id > up)
            | ((edge.upstream_task_id == up) & (edge.downstream_task_id > down)),
        )
        .order_by(edge.upstream_task_id, edge.downstream_task_id)
        .limit(first + 1)
    ).all()
    more = len(rows) > first
    rows = rows[:first]
    end = f"{rows[-1][0]}-{rows[-1][1]}" if rows else after
    return Page(list(rows), end, more)


def neighbours_page(
    session: Session, task_id: int, upstream: bool, first: int, after: str | None
) -> Page[Any]:
    """A task's upstream (or downstream) tasks, through the edge index."""
    edge = models.TaskEdge
    if upstream:
        near, far = edge.upstream_task_id, edge.downstream_task_id
    else:
        near, far = edge.downstream_task_id, edge.upstream_task_id
    stmt = _task_detail().join(edge, near == models.Task.id).where(far == task_id)
    return keyset_page(session, stmt, models.Task.id, first, after)


def task(session: Session, task_id: int) -> Any:
    row = session.execute(_task_detail().where(models.Task.id == task_id)).first()
    if row is None:
        raise NotFoundError(f"task {task_id} does not exist")
    return row


def _instance_detail() -> Select[Any]:
    """An instance with what it asked for, its task's name and its latest error message."""
    ti, log = models.TaskInstance, models.TaskInstanceErrorLog
    error = (
        select(log.description)
        .where(log.task_instance_id == ti.id)
        .order_by(log.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(ti, models.TaskResources.requested, models.Task.name, error)
        .join(models.TaskResources, models.TaskResources.id == ti.task_resources_id)
        .join(models.Task, models.Task.id == ti.task_id)
    )


def instances_page(session: Session, task_id: int, first: int, after: str | None) -> Page[Any]:
    ti = models.TaskInstance
    return keyset_page(
        session, _instance_detail().where(ti.task_id == task_id), ti.id, first, after
    )


def workflow_instances_page(
    session: Session,
    workflow_id: int,
    template_name: str | None,
    first: int,
    after: str | None,
    newest_first: bool = False,
) -> Page[Any]:
    """A workflow's task instances, oldest (or newest) first, optionally of one template.

    The page's ids are read first and the details joined to them alone: ordered by id
    descending, a database would otherwise join every instance of the workflow before
    sorting. (MariaDB takes no LIMIT in an IN subquery, hence two statements.)
    """
    ti = models.TaskInstance
    ids = select(ti.id).where(ti.workflow_id == workflow_id)
    if template_name is not None:
        ids = ids.where(ti.array_id.in_(template_arrays(workflow_id, template_name)))
    page_ids = list(session.scalars(after_cursor(ids, ti.id, first, after, newest_first)))
    stmt = _instance_detail().where(ti.id.in_(page_ids))
    return keyset_page(session, stmt, ti.id, first, after, newest_first=newest_first)


def template_arrays(workflow_id: int, template_name: str) -> Select[Any]:
    """Ids of the arrays holding a workflow's tasks of one template (one per version)."""
    return (
        _arrays_and_templates(workflow_id)
        .where(models.TaskTemplate.name == template_name)
        .with_only_columns(models.Array.id)
    )


def _arrays_and_templates(workflow_id: int) -> Select[int, str]:
    """(array id, template name) of a workflow's arrays."""
    array = models.Array
    return (
        select(array.id, models.TaskTemplate.name)
        .join(
            models.TaskTemplateVersion,
            models.TaskTemplateVersion.id == array.task_template_version_id,
        )
        .join(
            models.TaskTemplate,
            models.TaskTemplate.id == models.TaskTemplateVersion.task_template_id,
        )
        .where(array.workflow_id == workflow_id)
    )


def runs_page(session: Session, workflow_id: int, first: int, after: str | None) -> Page[Any]:
    run = models.WorkflowRun
    return keyset_page(
        session, select(run).where(run.workflow_id == workflow_id), run.id, first, after
    )
