"""Binding: tools, templates, workflows, tasks and edges, each idempotent.

A client may resend any of these (after a timeout, say) and get the same answer; the
same tool version, workflow_args, tasks and edges bind to the same workflow, which is
what makes resume work.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from jobmon_server import clusters
from jobmon_server import resources as res
from jobmon_server.attributes import checked as checked_attributes
from jobmon_server.attributes import merged as merged_attributes
from jobmon_server.cycles import check_acyclic
from jobmon_server.db import models
from jobmon_server.db.raw import raw
from jobmon_server.db.rows import lock_workflow
from jobmon_server.db.statements import chunks, insert_ignore, one_of
from jobmon_server.errors import NotFoundError, ValidationFailed
from jobmon_server.scheduling import fill_capacity
from jobmon_server.statuses import TaskStatus, W
from jobmon_server.task_resources import resources_id
from jobmon_server.transitions import add_counts, utcnow

MAX_NAME = 255
MAX_BATCH = 20_000


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def canonical_args(args: dict[str, Any]) -> str:
    """Length-prefixed ``key=value`` pairs in key order: unambiguous and easy to port."""
    return "".join(f"{len(k)}:{k}{len(str(v))}:{v}" for k, v in sorted(args.items()))


def bind_tool(session: Session, name: str) -> models.ToolVersion:
    _check_name("tool", name)
    insert_ignore(session, models.Tool.__table__, [{"name": name}])  # type: ignore[arg-type]
    tool_id = session.scalar(select(models.Tool.id).where(models.Tool.name == name))
    version = session.scalars(
        select(models.ToolVersion)
        .where(models.ToolVersion.tool_id == tool_id)
        .order_by(models.ToolVersion.id.desc())
    ).first()
    if version is None:
        version = models.ToolVersion(tool_id=tool_id, created=utcnow())
        session.add(version)
        session.flush()
    return version


@dataclass
class TemplateSpec:
    name: str
    command_template: str
    node_args: list[str]
    task_args: list[str]
    op_args: list[str]


def bind_task_templates(
    session: Session, tool_version_id: int, specs: Sequence[TemplateSpec]
) -> list[models.TaskTemplateVersion]:
    if session.get(models.ToolVersion, tool_version_id) is None:
        raise NotFoundError(f"tool version {tool_version_id} does not exist; bind the tool first")
    out = []
    for spec in specs:
        _check_name("task template", spec.name)
        insert_ignore(
            session,
            models.TaskTemplate.__table__,  # type: ignore[arg-type]
            [{"tool_version_id": tool_version_id, "name": spec.name}],
        )
        template_id = session.scalar(
            select(models.TaskTemplate.id).where(
                models.TaskTemplate.tool_version_id == tool_version_id,
                models.TaskTemplate.name == spec.name,
            )
        )
        arg_hash = sha1(
            "\x1f".join(
                [
                    spec.command_template,
                    ",".join(sorted(spec.node_args)),
                    ",".join(sorted(spec.task_args)),
                    ",".join(sorted(spec.op_args)),
                ]
            )
        )
        insert_ignore(
            session,
            models.TaskTemplateVersion.__table__,  # type: ignore[arg-type]
            [
                {
                    "task_template_id": template_id,
                    "arg_hash": arg_hash,
                    "command_template": spec.command_template,
                    "node_args": sorted(spec.node_args),
                    "task_args": sorted(spec.task_args),
                    "op_args": sorted(spec.op_args),
                }
            ],
        )
        out.append(
            session.scalars(
                select(models.TaskTemplateVersion).where(
                    models.TaskTemplateVersion.task_template_id == template_id,
                    models.TaskTemplateVersion.arg_hash == arg_hash,
                )
            ).one()
        )
    return out


@dataclass
class WorkflowSpec:
    tool_version_id: int
    name: str
    description: str
    workflow_args: str
    task_hash: str | None
    dag_hash: str | None
    user: str
    max_concurrently_running: int
    bind_digest: str | None = None
    attributes: dict[str, Any] | None = None


def bind_workflow(session: Session, spec: WorkflowSpec) -> tuple[models.Workflow, bool]:
    """Return the workflow with this identity, created if new (and whether it was).

    Without the identity hashes, the workflow is the one bound with ``spec.bind_digest``
    (the digest determines the tasks and edges, hence the identity); ``NotFoundError`` when
    none is, so that the client computes and sends the hashes.
    """
    if session.get(models.ToolVersion, spec.tool_version_id) is None:
        raise NotFoundError(
            f"tool version {spec.tool_version_id} does not exist; bind the tool first"
        )
    _check_name("workflow", spec.name)
    if spec.max_concurrently_running < 1:
        raise ValidationFailed(
            "max_concurrently_running must be at least 1", "maxConcurrentlyRunning"
        )
    attributes = checked_attributes(spec.attributes, f"workflow '{spec.name}'")
    identity = None
    existing: models.Workflow | None
    if spec.task_hash is None or spec.dag_hash is None:
        existing = _find_by_digest(session, spec)
    else:
        identity = _identity(session, spec)
        existing = _find_workflow(session, identity)
    if existing is not None:
        if attributes and existing.user == spec.user:
            # a resumed workflow takes the attributes its script names now, and keeps the rest
            existing.attributes = merged_attributes(existing.attributes, attributes)
        return existing, False
    assert identity is not None  # a digest that finds nothing raised above
    return _create_workflow(session, spec, identity, attributes), True


def _find_by_digest(session: Session, spec: WorkflowSpec) -> models.Workflow:
    if not spec.bind_digest:
        raise ValidationFailed(
            "taskHash and dagHash are required unless bindDigest is given", "taskHash"
        )
    found = session.scalars(
        select(models.Workflow).where(
            models.Workflow.tool_version_id == spec.tool_version_id,
            models.Workflow.workflow_args_hash == sha1(spec.workflow_args),
            models.Workflow.bind_digest == spec.bind_digest,
            models.Workflow.bound.is_(True),
        )
    ).first()
    if found is None:
        raise NotFoundError(
            f"no workflow of tool version {spec.tool_version_id} with these workflow_args "
            "is bound with this bindDigest; send taskHash and dagHash to bind it"
        )
    return found


def _identity(session: Session, spec: WorkflowSpec) -> dict[str, Any]:
    now = utcnow()
    insert_ignore(
        session,
        models.Dag.__table__,  # type: ignore[arg-type]
        [{"hash": spec.dag_hash, "created": now}],
    )
    dag_id = session.scalar(select(models.Dag.id).where(models.Dag.hash == spec.dag_hash))
    return {
        "tool_version_id": spec.tool_version_id,
        "dag_id": dag_id,
        "workflow_args_hash": sha1(spec.workflow_args),
        "task_hash": spec.task_hash,
    }


def _create_workflow(
    session: Session,
    spec: WorkflowSpec,
    identity: dict[str, Any],
    attributes: dict[str, Any] | None,
) -> models.Workflow:
    now = utcnow()
    insert_ignore(
        session,
        models.Workflow.__table__,
        [
            {  # type: ignore[arg-type]
                **identity,
                "workflow_args": spec.workflow_args,
                "name": spec.name,
                "description": spec.description,
                "user": spec.user,
                "status": W.REGISTERING,
                "max_concurrently_running": spec.max_concurrently_running,
                "total_tasks": 0,
                "bound": False,
                "pending_counted": True,
                "created": now,
                "status_date": now,
                "attributes": attributes,
            }
        ],
    )
    workflow = _find_workflow(session, identity)
    assert workflow is not None
    return workflow


def _find_workflow(session: Session, identity: dict[str, Any]) -> models.Workflow | None:
    return session.scalars(select(models.Workflow).filter_by(**identity)).first()


@dataclass
class TaskBatch:
    template_version_ids: list[int]
    names: list[str]
    commands: list[str]
    node_args: list[dict[str, Any]]
    task_args: list[dict[str, Any]]
    max_attempts: list[int]
    resource_indexes: list[int]
    resources: list[ResourceSpec]
    attributes: list[dict[str, Any] | None] | None = None
    dynamic_resources: list[bool] | None = None


def bind_tasks(session: Session, workflow_id: int, batch: TaskBatch) -> list[int]:
    """Upsert a batch of tasks; return their ids in input order.

    A task is identified within its workflow by its node (template version + node args).
    Binding again updates what may change between runs of one workflow (command, task
    args, resources, max attempts) on tasks that are not DONE.
    """
    workflow = lock_workflow(session, workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    _check_batch(batch)
    if workflow.status not in (W.REGISTERING, W.DONE, W.FAILED, W.HALTED):
        raise ValidationFailed(
            f"workflow {workflow_id} is {workflow.status}; stop its run before binding again"
        )
    owners: dict[int, str] = {}
    for i, index in enumerate(batch.resource_indexes):
        owners.setdefault(index, batch.names[i])
    resource_ids = _bind_resources(session, batch.resources, owners)
    arrays = _bind_arrays(session, workflow_id, set(batch.template_version_ids))

    node_hashes = [sha1(canonical_args(a)) for a in batch.node_args]
    keys = list(zip(batch.template_version_ids, node_hashes, strict=True))
    node_rows = {
        k: {"task_template_version_id": k[0], "node_args_hash": k[1], "node_args": args}
        for k, args in zip(keys, batch.node_args, strict=True)
    }
    insert_ignore(session, models.Node.__table__, node_rows.values())  # type: ignore[arg-type]
    node_ids = _node_ids(session, list(node_rows))
    existing = _task_ids_by_node(session, workflow_id, [node_ids[k] for k in keys])
    now = utcnow()
    new_rows, changed = [], []
    seen: dict[int, int] = {}
    for i, key in enumerate(keys):
        node_id = node_ids[key]
        if node_id in seen:
            raise ValidationFailed(
                f"task '{batch.names[i]}' and task '{batch.names[seen[node_id]]}' are the same "
                "task (same template and node args); give them different node args",
                "tasks",
            )
        seen[node_id] = i
        row = {
            "name": batch.names[i],
            "command": batch.commands[i],
            "task_args": batch.task_args[i],
            "max_attempts": batch.max_attempts[i],
            "task_resources_id": resource_ids[batch.resource_indexes[i]],
            "attributes": batch.attributes[i] if batch.attributes else None,
            "dynamic_resources": bool(batch.dynamic_resources and batch.dynamic_resources[i]),
        }
        if node_id in existing:
            changed.append({"tid": existing[node_id], **row})
        else:
            new_rows.append(
                {
                    **row,
                    "workflow_id": workflow_id,
                    "node_id": node_id,
                    "array_id": arrays[batch.template_version_ids[i]],
                    "status": TaskStatus.REGISTERING,
                    "status_date": now,
                    "num_attempts": 0,
                    "num_upstreams_pending": 0,
                }
            )
    workflow.bind_digest = None  # what it was bound with may change now
    if new_rows:
        insert_ignore(session, models.Task.__table__, new_rows)  # type: ignore[arg-type]
        _count_new_tasks(session, workflow, new_rows)
    if changed:
        # tasks bound again without attributes keep those they have
        with_attributes = [r for r in changed if r["attributes"] is not None]
        without = [r for r in changed if r["attributes"] is None]
        if with_attributes:
            _update_unfinished(session, with_attributes, attributes=True)
        if without:
            _update_unfinished(session, without, attributes=False)
    ids = _task_ids_by_node(session, workflow_id, list(node_ids.values()))
    return [ids[node_ids[k]] for k in keys]


def _check_batch(batch: TaskBatch) -> int:
    n = len(batch.names)
    columns: dict[str, Sequence[Any]] = {
        "templateVersionIds": batch.template_version_ids,
        "commands": batch.commands,
        "nodeArgs": batch.node_args,
        "taskArgs": batch.task_args,
        "maxAttempts": batch.max_attempts,
        "resourceIndexes": batch.resource_indexes,
    }
    if batch.attributes is not None:
        columns["attributes"] = batch.attributes
    if batch.dynamic_resources is not None:
        columns["dynamicResources"] = batch.dynamic_resources
    for field, column in columns.items():
        if len(column) != n:
            raise ValidationFailed(
                f"{field} has {len(column)} entries but names has {n}; "
                "every column of a task batch needs one entry per task",
                field,
            )
    if n > MAX_BATCH:
        raise ValidationFailed(
            f"a batch holds at most {MAX_BATCH} tasks, this one {n}; send it in several batches",
            "tasks",
        )
    for i in range(n):
        _check_name("task", batch.names[i])
        if "\x00" in batch.commands[i]:
            raise ValidationFailed(
                f"the command of task '{batch.names[i]}' contains a NUL byte", "commands"
            )
        if batch.max_attempts[i] < 1:
            raise ValidationFailed(
                f"task '{batch.names[i]}' has max_attempts "
                f"{batch.max_attempts[i]}; it must be at least 1",
                "maxAttempts",
            )
        if not 0 <= batch.resource_indexes[i] < len(batch.resources):
            raise ValidationFailed(
                f"task '{batch.names[i]}' points at resources "
                f"{batch.resource_indexes[i]}, which is not in the batch",
                "resourceIndexes",
            )
        if batch.attributes is not None:
            checked_attributes(batch.attributes[i], f"task '{batch.names[i]}'")
        for label, args in (("node", batch.node_args[i]), ("task", batch.task_args[i])):
            if not isinstance(args, dict):
                raise ValidationFailed(
                    f"the {label} args of task '{batch.names[i]}' must be an "
                    "object of name to value",
                    f"{label}Args",
                )
    return n


@dataclass(frozen=True)
class ResourceSpec:
    """What tasks ask for on a cluster, and how their retries may ask for more."""

    cluster_name: str
    requested: dict[str, Any]
    scales: dict[str, Any] | None = None
    fallback_queues: list[str] | None = None


def _bind_resources(
    session: Session, specs: list[ResourceSpec], owners: dict[int, str]
) -> list[int]:
    known = {c.name: (c, q) for c, q in clusters.all_clusters(session)}
    ids = []
    for index, spec in enumerate(specs):
        owner = f"task '{owners.get(index, '?')}'"
        if spec.cluster_name not in known:
            raise ValidationFailed(
                f"{owner} runs on unknown cluster '{spec.cluster_name}'; known clusters: "
                + ", ".join(sorted(known))
                + " (a Slurm worker registers its cluster when it starts)",
                "clusterName",
            )
        requested = spec.requested
        for key, parse in (("memory", res.memory_mb), ("runtime", res.runtime_s)):
            if key in requested:
                try:
                    parse(requested[key])
                except ValueError as exc:
                    raise ValidationFailed(f"{owner}: {exc}", key) from None
        _check_scales(spec.scales, owner)
        cluster, queues = known[spec.cluster_name]
        placed = clusters.Placement(cluster, queues).place(requested, spec.fallback_queues, owner)
        ids.append(resources_id(session, cluster.id, placed, spec.scales, spec.fallback_queues))
    return ids


def _check_scales(scales: dict[str, Any] | None, owner: str) -> None:
    for kind, scale in (scales or {}).items():
        if kind not in ("memory", "runtime"):
            raise ValidationFailed(
                f"{owner}: resource_scales can scale memory and runtime, not '{kind}'",
                "resourceScales",
            )
        values = scale if isinstance(scale, list) else [scale]
        parse = res.memory_mb if kind == "memory" else res.runtime_s
        for value in values:
            try:
                ok = float(value) >= 0 if not isinstance(scale, list) else parse(value) > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValidationFailed(
                    f"{owner}: resource_scales['{kind}'] must be a fraction to add (such as "
                    f"0.5) or a list of values for the retries, not {scale!r}",
                    "resourceScales",
                )


def _bind_arrays(session: Session, workflow_id: int, version_ids: set[int]) -> dict[int, int]:
    known = set(
        session.scalars(
            select(models.TaskTemplateVersion.id).where(
                models.TaskTemplateVersion.id.in_(version_ids)
            )
        )
    )
    if missing := version_ids - known:
        raise NotFoundError(
            f"task template versions {sorted(missing)} do not exist; bind the task templates first"
        )
    insert_ignore(
        session,
        models.Array.__table__,
        [  # type: ignore[arg-type]
            {
                "workflow_id": workflow_id,
                "task_template_version_id": v,
                "max_concurrently_running": None,
            }
            for v in sorted(version_ids)
        ],
    )
    arrays = dict(
        session.execute(
            select(models.Array.task_template_version_id, models.Array.id).where(
                models.Array.workflow_id == workflow_id
            )
        ).all()
    )
    insert_ignore(
        session,
        models.TaskStatusCount.__table__,
        [  # type: ignore[arg-type]
            {"array_id": a, "status": s, "workflow_id": workflow_id, "count": 0}
            for a in sorted(arrays.values())
            for s in TaskStatus
        ],
    )
    return arrays


def _node_ids(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    by_version: dict[int, list[str]] = {}
    for version_id, digest in keys:
        by_version.setdefault(version_id, []).append(digest)
    node = models.Node
    for version_id, digests in by_version.items():
        for part in chunks(digests):
            for node_id, digest in session.execute(
                select(node.id, node.node_args_hash).where(
                    node.task_template_version_id == version_id,
                    one_of(session, node.node_args_hash, part),
                )
            ).all():
                out[(version_id, digest)] = node_id
    return out


def _task_ids_by_node(session: Session, workflow_id: int, node_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in chunks(node_ids):
        out.update(
            session.execute(
                select(models.Task.node_id, models.Task.id).where(
                    models.Task.workflow_id == workflow_id,
                    one_of(session, models.Task.node_id, part),
                )
            ).all()
        )
    return out


def _update_unfinished(session: Session, rows: list[dict[str, Any]], *, attributes: bool) -> None:
    task = models.Task
    values: dict[str, Any] = {
        "name": bindparam("name"),
        "command": bindparam("command"),
        "task_args": bindparam("task_args"),
        "max_attempts": bindparam("max_attempts"),
        "task_resources_id": bindparam("task_resources_id"),
        "dynamic_resources": bindparam("dynamic_resources"),
    }
    if attributes:
        values["attributes"] = bindparam("attributes")
    else:
        rows = [{k: v for k, v in r.items() if k != "attributes"} for r in rows]
    session.execute(
        update(task.__table__)
        .where(task.id == bindparam("tid"), task.status != TaskStatus.DONE)
        .values(**values)
        .execution_options(synchronize_session=False),
        rows,
    )


def _count_new_tasks(
    session: Session, workflow: models.Workflow, new_rows: list[dict[str, Any]]
) -> None:
    """Count inserted tasks as REGISTERING (the workflow lock makes every new row land)."""
    deltas = Counter((r["array_id"], TaskStatus.REGISTERING.value) for r in new_rows)
    add_counts(session, deltas)
    workflow.total_tasks += len(new_rows)


def bind_edges(
    session: Session, workflow_id: int, upstream: list[int], downstream: list[int]
) -> int:
    if len(upstream) != len(downstream):
        raise ValidationFailed(
            f"{len(upstream)} upstream tasks but {len(downstream)} downstream tasks; send "
            "the edges as pairs"
        )
    workflow = lock_workflow(session, workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    workflow.bind_digest = None
    ids = set(upstream) | set(downstream)
    found: set[int] = set()
    for part in chunks(sorted(ids)):
        found.update(
            session.scalars(
                select(models.Task.id).where(
                    one_of(session, models.Task.id, part), models.Task.workflow_id == workflow_id
                )
            )
        )
    if missing := ids - found:
        raise ValidationFailed(
            f"tasks {sorted(missing)[:10]} are not in workflow {workflow_id}; "
            "bind them before their edges",
            "upstreamTaskIds",
        )
    if any(u == d for u, d in zip(upstream, downstream, strict=True)):
        raise ValidationFailed("a task cannot be its own upstream", "upstreamTaskIds")
    new = _new_edges(session, workflow_id, set(zip(upstream, downstream, strict=True)))
    insert_ignore(
        session,
        models.TaskEdge.__table__,
        [  # type: ignore[arg-type]
            {"upstream_task_id": u, "downstream_task_id": d, "workflow_id": workflow_id}
            for u, d in sorted(new)
        ],
    )
    _count_pending(session, new)
    return len(upstream)


def _new_edges(
    session: Session, workflow_id: int, pairs: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """The edges of ``pairs`` the workflow does not have yet (a bind sent again)."""
    edge = models.TaskEdge
    existing: set[tuple[int, int]] = set()
    for part in chunks(sorted({d for _, d in pairs})):
        existing.update(
            (u, d)
            for u, d in session.execute(
                select(edge.upstream_task_id, edge.downstream_task_id).where(
                    edge.workflow_id == workflow_id, one_of(session, edge.downstream_task_id, part)
                )
            ).all()
        )
    return pairs - existing


def _count_pending(session: Session, new: set[tuple[int, int]]) -> None:
    """Each new edge from a task not DONE is one more upstream its downstream waits for."""
    done: set[int] = set()
    for part in chunks(sorted({u for u, _ in new})):
        done.update(
            session.scalars(
                select(models.Task.id).where(
                    one_of(session, models.Task.id, part), models.Task.status == TaskStatus.DONE
                )
            )
        )
    waits = Counter(d for u, d in new if u not in done)
    raw(session).add_to("task", "num_upstreams_pending", sorted(waits.items()))


def complete_bind(
    session: Session, workflow_id: int, total_tasks: int, bind_digest: str | None = None
) -> models.Workflow:
    workflow = lock_workflow(session, workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    held = (
        session.scalar(
            select(func.count())
            .select_from(models.Task)
            .where(models.Task.workflow_id == workflow_id)
        )
        or 0
    )
    if held != total_tasks:
        raise ValidationFailed(
            f"workflow {workflow_id} holds {held} tasks but the client bound {total_tasks}; "
            "bind the missing task batches again (binding is idempotent)",
            "totalTasks",
        )
    if bind_digest is not None and len(bind_digest) > 40:
        raise ValidationFailed("bindDigest is a SHA-1 in hex, 40 characters", "bindDigest")
    check_acyclic(session, workflow_id)
    workflow.total_tasks = held
    workflow.bound = True
    workflow.bind_digest = bind_digest
    return workflow


def set_max_concurrently_running(session: Session, workflow_id: int, limit: int) -> models.Workflow:
    if limit < 1:
        raise ValidationFailed("the limit must be at least 1", "limit")
    workflow = lock_workflow(session, workflow_id)
    if workflow is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    workflow.max_concurrently_running = limit
    session.flush()
    if workflow.status == W.RUNNING:
        fill_capacity(session, workflow, utcnow())
    return workflow


def _check_name(kind: str, name: str) -> None:
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(
            f"the {kind} name '{name[:60]}' must have 1 to {MAX_NAME} characters", "name"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationFailed(
            f"the {kind} name {name[:60]!r} contains control characters; "
            "use printable characters only",
            "name",
        )
