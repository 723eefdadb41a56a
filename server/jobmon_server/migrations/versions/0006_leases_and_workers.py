"""who holds an attempt, the workers that announce themselves, idempotent run starts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00

An attempt remembers the worker that claimed it (whose runners report on it) besides the
worker that holds it now (which may have adopted it). Workers announce themselves, so the
server knows which clusters have a live worker, and a run says when its tasks wait on a
cluster that has none. A run start carries the client's key, so
that a resent start returns the run the first one made. A bound workflow keeps the digest
of everything its tasks were bound with, so that binding it again unchanged (a resume)
sends no task. Tasks keep the count of their unfinished upstream
tasks from binding on, so a run starts without counting them, and its ready tasks are
found by an index. Attempts are read per task in id
order (a task's latest attempt).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch_op.create_index("ix_ti_task_id_id", ["task_id", "id"], unique=False)
        batch_op.drop_index("ix_task_instance_task_id")
    # Plain ALTER TABLE: SQLite's batch mode would copy the table, which others reference.
    op.add_column("workflow", sa.Column("bind_digest", sa.String(length=40), nullable=True))
    op.add_column(
        "workflow",
        sa.Column("pending_counted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    with op.batch_alter_table("task") as batch_op:
        batch_op.create_index(
            "ix_task_ready", ["workflow_id", "status", "num_upstreams_pending", "id"]
        )
    with op.batch_alter_table("workflow_run") as batch_op:
        batch_op.add_column(sa.Column("client_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("waiting_for", sa.Text(), nullable=True))
        batch_op.create_index(
            "uq_workflow_run_client_key", ["workflow_id", "client_key"], unique=True
        )
    op.create_table(
        "worker",
        sa.Column("id", sa.String(length=120), primary_key=True),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("cluster.id"), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("stopped", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_worker_cluster_last_seen", "worker", ["cluster_id", "last_seen"])


def downgrade() -> None:
    op.drop_index("ix_worker_cluster_last_seen", table_name="worker")
    op.drop_table("worker")
    with op.batch_alter_table("workflow_run") as batch_op:
        batch_op.drop_index("uq_workflow_run_client_key")
        batch_op.drop_column("waiting_for")
        batch_op.drop_column("client_key")
    with op.batch_alter_table("task") as batch_op:
        batch_op.drop_index("ix_task_ready")
    with op.batch_alter_table("workflow") as batch_op:
        batch_op.drop_column("pending_counted")
        batch_op.drop_column("bind_digest")
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.create_index("ix_task_instance_task_id", ["task_id"], unique=False)
        batch_op.drop_index("ix_ti_task_id_id")
        batch_op.drop_column("claimed_by")
