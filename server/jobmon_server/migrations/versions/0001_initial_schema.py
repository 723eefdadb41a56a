"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 19:42:53.548307
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("distributor", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "dag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=40), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    op.create_table(
        "tool",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["cluster.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "name"),
    )
    op.create_table(
        "task_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=40), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("requested", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["cluster.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    op.create_table(
        "tool_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tool.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tool_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tool_version_tool_id"), ["tool_id"], unique=False)

    op.create_table(
        "task_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_version_id"],
            ["tool_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tool_version_id", "name"),
    )
    op.create_table(
        "workflow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_version_id", sa.Integer(), nullable=False),
        sa.Column("dag_id", sa.Integer(), nullable=False),
        sa.Column("workflow_args", sa.Text(), nullable=False),
        sa.Column("workflow_args_hash", sa.String(length=40), nullable=False),
        sa.Column("task_hash", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=150), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("max_concurrently_running", sa.Integer(), nullable=False),
        sa.Column("total_tasks", sa.Integer(), nullable=False),
        sa.Column("bound", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("status_date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dag_id"],
            ["dag.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tool_version_id"],
            ["tool_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tool_version_id", "dag_id", "workflow_args_hash", "task_hash"),
    )
    with op.batch_alter_table("workflow", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_workflow_user_id", ["user", "id"], unique=False)

    op.create_table(
        "event",
        sa.Column(
            "id",
            sa.Integer()
            .with_variant(sa.BigInteger(), "mysql")
            .with_variant(sa.BigInteger(), "postgresql"),
            nullable=False,
        ),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_workflow_id", ["workflow_id", "id"], unique=False)

    op.create_table(
        "task_template_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_template_id", sa.Integer(), nullable=False),
        sa.Column("arg_hash", sa.String(length=40), nullable=False),
        sa.Column("command_template", sa.Text(), nullable=False),
        sa.Column("node_args", sa.JSON(), nullable=False),
        sa.Column("task_args", sa.JSON(), nullable=False),
        sa.Column("op_args", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_template_id"],
            ["task_template.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_template_id", "arg_hash"),
    )
    op.create_table(
        "workflow_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(length=150), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("fail_fast", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("status_date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflow_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_run_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workflow_run_workflow_id"), ["workflow_id"], unique=False
        )

    op.create_table(
        "array",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("task_template_version_id", sa.Integer(), nullable=False),
        sa.Column("max_concurrently_running", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_template_version_id"],
            ["task_template_version.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id", "task_template_version_id"),
    )
    op.create_table(
        "node",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_template_version_id", sa.Integer(), nullable=False),
        sa.Column("node_args_hash", sa.String(length=40), nullable=False),
        sa.Column("node_args", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_template_version_id"],
            ["task_template_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_template_version_id", "node_args_hash"),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("array_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("task_args", sa.JSON(), nullable=False),
        sa.Column("task_resources_id", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("num_attempts", sa.Integer(), nullable=False),
        sa.Column("num_upstreams_pending", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["array_id"],
            ["array.id"],
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["node.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_resources_id"],
            ["task_resources.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id", "node_id"),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_array_status", ["array_id", "status"], unique=False)
        batch_op.create_index(
            "ix_task_workflow_status_id", ["workflow_id", "status", "id"], unique=False
        )

    op.create_table(
        "task_status_count",
        sa.Column("array_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["array_id"],
            ["array.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("array_id", "status"),
    )
    with op.batch_alter_table("task_status_count", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_status_count_workflow_id"), ["workflow_id"], unique=False
        )

    op.create_table(
        "task_edge",
        sa.Column("upstream_task_id", sa.Integer(), nullable=False),
        sa.Column("downstream_task_id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["downstream_task_id"],
            ["task.id"],
        ),
        sa.ForeignKeyConstraint(
            ["upstream_task_id"],
            ["task.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("upstream_task_id", "downstream_task_id"),
    )
    with op.batch_alter_table("task_edge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_edge_downstream_task_id"), ["downstream_task_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_task_edge_workflow_id"), ["workflow_id"], unique=False)

    op.create_table(
        "task_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_run_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("array_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("task_resources_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("worker_id", sa.String(length=120), nullable=True),
        sa.Column("distributor_id", sa.String(length=120), nullable=True),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("stdout_path", sa.Text(), nullable=True),
        sa.Column("stderr_path", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("max_rss_bytes", sa.BigInteger(), nullable=True),
        sa.Column("cpu_seconds", sa.Float(), nullable=True),
        sa.Column("wallclock_seconds", sa.Float(), nullable=True),
        sa.Column("report_by_date", sa.DateTime(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("started_date", sa.DateTime(), nullable=True),
        sa.Column("finished_date", sa.DateTime(), nullable=True),
        sa.Column("status_date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["array_id"],
            ["array.id"],
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["cluster.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_resources_id"],
            ["task_resources.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_run_id"],
            ["workflow_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_instance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_instance_task_id"), ["task_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_task_instance_workflow_run_id"), ["workflow_run_id"], unique=False
        )
        batch_op.create_index(
            "ix_ti_cluster_status_id", ["cluster_id", "status", "id"], unique=False
        )
        batch_op.create_index("ix_ti_status_report_by", ["status", "report_by_date"], unique=False)
        batch_op.create_index("ix_ti_worker_status", ["worker_id", "status"], unique=False)
        batch_op.create_index("ix_ti_workflow_status", ["workflow_id", "status"], unique=False)

    op.create_table(
        "task_instance_error_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
        ),
        sa.ForeignKeyConstraint(
            ["task_instance_id"],
            ["task_instance.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflow.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_instance_error_log", schema=None) as batch_op:
        batch_op.create_index("ix_error_workflow_id", ["workflow_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_task_instance_error_log_task_instance_id"),
            ["task_instance_id"],
            unique=False,
        )

    _seed_local_clusters()


def _seed_local_clusters() -> None:
    """The clusters every installation has: tasks run on the worker's own machine."""
    cluster = sa.table("cluster", sa.column("name", sa.String), sa.column("distributor", sa.String))
    op.bulk_insert(
        cluster,
        [
            {"name": "sequential", "distributor": "sequential"},
            {"name": "multiprocess", "distributor": "multiprocess"},
        ],
    )
    op.execute(
        "INSERT INTO queue (cluster_id, name, limits) SELECT id, 'null.q', '{}' FROM cluster"
    )


def downgrade() -> None:
    with op.batch_alter_table("task_instance_error_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_instance_error_log_task_instance_id"))
        batch_op.drop_index("ix_error_workflow_id")

    op.drop_table("task_instance_error_log")
    with op.batch_alter_table("task_instance", schema=None) as batch_op:
        batch_op.drop_index("ix_ti_workflow_status")
        batch_op.drop_index("ix_ti_worker_status")
        batch_op.drop_index("ix_ti_status_report_by")
        batch_op.drop_index("ix_ti_cluster_status_id")
        batch_op.drop_index(batch_op.f("ix_task_instance_workflow_run_id"))
        batch_op.drop_index(batch_op.f("ix_task_instance_task_id"))

    op.drop_table("task_instance")
    with op.batch_alter_table("task_edge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_edge_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_task_edge_downstream_task_id"))

    op.drop_table("task_edge")
    with op.batch_alter_table("task_status_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_status_count_workflow_id"))

    op.drop_table("task_status_count")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_workflow_status_id")
        batch_op.drop_index("ix_task_array_status")

    op.drop_table("task")
    op.drop_table("node")
    op.drop_table("array")
    with op.batch_alter_table("workflow_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_run_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_run_status"))

    op.drop_table("workflow_run")
    op.drop_table("task_template_version")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_workflow_id")

    op.drop_table("event")
    with op.batch_alter_table("workflow", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_user_id")
        batch_op.drop_index("ix_workflow_status_id")

    op.drop_table("workflow")
    op.drop_table("task_template")
    with op.batch_alter_table("tool_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tool_version_tool_id"))

    op.drop_table("tool_version")
    op.drop_table("task_resources")
    op.drop_table("queue")
    op.drop_table("tool")
    op.drop_table("dag")
    op.drop_table("cluster")
