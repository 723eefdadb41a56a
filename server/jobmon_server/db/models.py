"""SQLAlchemy models of Jobmon's domain.

Every unique key is on short strings or integers (content hashes, not text), so the same
schema works on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import false

HASH = String(40)
STATUS = String(24)
NAME = String(255)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime}
    # Every model here maps one Table (SQLAlchemy types it as any FromClause).
    __table__: ClassVar[Table]  # type: ignore[assignment,misc]


class Tool(Base):
    __tablename__ = "tool"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)


class ToolVersion(Base):
    __tablename__ = "tool_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("tool.id"), index=True)
    created: Mapped[datetime]


class TaskTemplate(Base):
    __tablename__ = "task_template"
    __table_args__ = (UniqueConstraint("tool_version_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tool_version_id: Mapped[int] = mapped_column(ForeignKey("tool_version.id"))
    name: Mapped[str] = mapped_column(NAME)


class TaskTemplateVersion(Base):
    __tablename__ = "task_template_version"
    __table_args__ = (UniqueConstraint("task_template_id", "arg_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_template_id: Mapped[int] = mapped_column(ForeignKey("task_template.id"))
    arg_hash: Mapped[str] = mapped_column(HASH)
    command_template: Mapped[str] = mapped_column(Text)
    node_args: Mapped[list[Any]]
    task_args: Mapped[list[Any]]
    op_args: Mapped[list[Any]]


class Node(Base):
    __tablename__ = "node"
    __table_args__ = (UniqueConstraint("task_template_version_id", "node_args_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_template_version_id: Mapped[int] = mapped_column(ForeignKey("task_template_version.id"))
    node_args_hash: Mapped[str] = mapped_column(HASH)
    node_args: Mapped[dict[str, Any]]


class Dag(Base):
    __tablename__ = "dag"
    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(HASH, unique=True)
    created: Mapped[datetime]


class Cluster(Base):
    __tablename__ = "cluster"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    distributor: Mapped[str] = mapped_column(String(50))


class Queue(Base):
    __tablename__ = "queue"
    __table_args__ = (UniqueConstraint("cluster_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"))
    name: Mapped[str] = mapped_column(NAME)
    limits: Mapped[dict[str, Any]]


class TaskResources(Base):
    """What an attempt asks for; rows are shared by content hash."""

    __tablename__ = "task_resources"
    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(HASH, unique=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"))
    requested: Mapped[dict[str, Any]]
    # How a retry after running out of memory or runtime asks for more, and where it may go.
    scales: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fallback_queues: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)


class Workflow(Base):
    __tablename__ = "workflow"
    __table_args__ = (
        UniqueConstraint("tool_version_id", "dag_id", "workflow_args_hash", "task_hash"),
        Index("ix_workflow_user_id", "user", "id"),
        Index("ix_workflow_status_id", "status", "id"),
        Index("ix_workflow_created_id", "created", "id"),
        # a resume finds its workflow by what it was bound with, before hashing its identity
        Index("ix_workflow_bind_digest", "tool_version_id", "workflow_args_hash", "bind_digest"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tool_version_id: Mapped[int] = mapped_column(ForeignKey("tool_version.id"))
    dag_id: Mapped[int] = mapped_column(ForeignKey("dag.id"))
    workflow_args: Mapped[str] = mapped_column(Text)
    workflow_args_hash: Mapped[str] = mapped_column(HASH)
    task_hash: Mapped[str] = mapped_column(HASH)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(STATUS)
    max_concurrently_running: Mapped[int]
    total_tasks: Mapped[int] = mapped_column(default=0)
    bound: Mapped[bool] = mapped_column(Boolean, default=False)
    # The client's digest of all it bound (commands, args, resources, edges): a bind with
    # the same digest finds nothing to change.
    bind_digest: Mapped[str | None] = mapped_column(HASH)
    # Each task's num_upstreams_pending is kept current (by binding, finishing and
    # resetting); False for a workflow from before, or edited by hand: recounted at start.
    pending_counted: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created: Mapped[datetime]
    status_date: Mapped[datetime]
    # Jobmon's workflow attributes: metadata, name to string (or null).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )


class Array(Base):
    """The tasks of one template version within a workflow (a Slurm job array)."""

    __tablename__ = "array"
    __table_args__ = (UniqueConstraint("workflow_id", "task_template_version_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"))
    task_template_version_id: Mapped[int] = mapped_column(ForeignKey("task_template_version.id"))
    max_concurrently_running: Mapped[int | None]


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("workflow_id", "node_id"),
        Index("ix_task_workflow_status_id", "workflow_id", "status", "id"),
        Index("ix_task_workflow_id", "workflow_id", "id"),
        Index("ix_task_array_status", "array_id", "status"),
        # Ready tasks (REGISTERING with no upstream left) in id order, to instantiate.
        Index("ix_task_ready", "workflow_id", "status", "num_upstreams_pending", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"))
    node_id: Mapped[int] = mapped_column(ForeignKey("node.id"))
    array_id: Mapped[int] = mapped_column(ForeignKey("array.id"))
    name: Mapped[str] = mapped_column(NAME)
    command: Mapped[str] = mapped_column(Text)
    task_args: Mapped[dict[str, Any]]
    task_resources_id: Mapped[int] = mapped_column(ForeignKey("task_resources.id"))
    max_attempts: Mapped[int]
    num_attempts: Mapped[int] = mapped_column(default=0)
    # Upstream tasks not yet DONE; the task is queued when this reaches zero.
    num_upstreams_pending: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(STATUS)
    status_date: Mapped[datetime]
    # Jobmon's task attributes: metadata, name to string (or null).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    # Its resources come from the client once its upstream tasks are done (see dynamic.py).
    dynamic_resources: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # It counts one more pending upstream while it waits for those resources.
    resources_held: Mapped[bool] = mapped_column(Boolean, server_default=false())


class TaskEdge(Base):
    __tablename__ = "task_edge"
    upstream_task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), primary_key=True)
    downstream_task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id"), primary_key=True, index=True
    )
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"), index=True)


class TaskStatusCount(Base):
    """Tasks per status per array, kept current by every transition."""

    __tablename__ = "task_status_count"
    array_id: Mapped[int] = mapped_column(ForeignKey("array.id"), primary_key=True)
    status: Mapped[str] = mapped_column(STATUS, primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"), index=True)
    count: Mapped[int] = mapped_column(default=0)


class WorkflowRun(Base):
    __tablename__ = "workflow_run"
    __table_args__ = (
        Index("uq_workflow_run_client_key", "workflow_id", "client_key", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"), index=True)
    user: Mapped[str] = mapped_column(String(150))
    status: Mapped[str] = mapped_column(STATUS, index=True)
    fail_fast: Mapped[bool] = mapped_column(Boolean, default=False)
    # The client that started the run gives dynamic tasks their resources (see dynamic.py).
    dynamic_resources: Mapped[bool] = mapped_column(Boolean, server_default=false())
    deadline: Mapped[datetime | None]
    # The starting client's key: a resent start finds the run the first one made.
    client_key: Mapped[str | None] = mapped_column(String(64))
    # Set while ready tasks wait on a cluster that no live worker serves: what to do.
    waiting_for: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime]
    status_date: Mapped[datetime]


class Worker(Base):
    """A worker process that announced itself: which clusters have someone serving them."""

    __tablename__ = "worker"
    __table_args__ = (Index("ix_worker_cluster_last_seen", "cluster_id", "last_seen"),)
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"))
    hostname: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(50))
    started: Mapped[datetime]
    last_seen: Mapped[datetime]
    stopped: Mapped[datetime | None]
    # The token that announced it (on a server with tokens): only that token reports as it.
    token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TaskInstance(Base):
    __tablename__ = "task_instance"
    __table_args__ = (
        Index("ix_ti_cluster_status_id", "cluster_id", "status", "id"),
        Index("ix_ti_status_report_by", "status", "report_by_date"),
        Index("ix_ti_worker_status", "worker_id", "status"),
        Index("ix_ti_workflow_status", "workflow_id", "status"),
        Index("ix_ti_workflow_id", "workflow_id", "id"),
        Index("ix_ti_array_status", "array_id", "status"),
        Index("ix_ti_task_id_id", "task_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_run_id: Mapped[int] = mapped_column(ForeignKey("workflow_run.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"))
    array_id: Mapped[int] = mapped_column(ForeignKey("array.id"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"))
    task_resources_id: Mapped[int] = mapped_column(ForeignKey("task_resources.id"))
    status: Mapped[str] = mapped_column(STATUS)
    # The worker that holds the attempt now (it may have adopted it), and the one that
    # claimed it (whose runners report on it): reports are taken from either.
    worker_id: Mapped[str | None] = mapped_column(String(120))
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    distributor_id: Mapped[str | None] = mapped_column(String(120))
    hostname: Mapped[str | None] = mapped_column(String(255))
    stdout_path: Mapped[str | None] = mapped_column(Text)
    stderr_path: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None]
    max_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)
    cpu_seconds: Mapped[float | None] = mapped_column(Float)
    wallclock_seconds: Mapped[float | None] = mapped_column(Float)
    report_by_date: Mapped[datetime | None]
    created: Mapped[datetime]
    started_date: Mapped[datetime | None]
    finished_date: Mapped[datetime | None]
    status_date: Mapped[datetime]


class TaskInstanceErrorLog(Base):
    __tablename__ = "task_instance_error_log"
    __table_args__ = (
        Index("ix_error_workflow_id", "workflow_id", "id"),
        Index("ix_error_workflow_signature", "workflow_id", "signature", "task_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    task_instance_id: Mapped[int] = mapped_column(ForeignKey("task_instance.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"))
    description: Mapped[str] = mapped_column(Text)
    # Groups similar messages (see error_groups.py).
    signature: Mapped[str] = mapped_column(HASH)
    time: Mapped[datetime]


class Event(Base):
    """One status transition: the audit trail and the source of subscriptions."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_workflow_id", "workflow_id", "id"),)
    id: Mapped[int] = mapped_column(
        Integer().with_variant(BigInteger, "postgresql", "mysql"), primary_key=True
    )
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    from_status: Mapped[str | None] = mapped_column(STATUS)
    to_status: Mapped[str] = mapped_column(STATUS)
    note: Mapped[str | None] = mapped_column(Text)
    time: Mapped[datetime]


class ApiToken(Base):
    """A token a shared server accepts; only its SHA-256 is kept."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user: Mapped[str] = mapped_column(String(150), index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime]
    # A worker token: besides what its user may do, it acts as a worker of this cluster.
    cluster: Mapped[str | None] = mapped_column(NAME, nullable=True)
