"""a workflow's tasks and attempts in id order; workflows by creation time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:00:00

The task table of a workflow and its timeline of attempts are read in id order, a page at a
time; without these indexes every page sorted all of the workflow's rows first. The list
of workflows can be filtered by when they were created.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch_op:
        batch_op.create_index("ix_task_workflow_id", ["workflow_id", "id"], unique=False)
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.create_index("ix_ti_workflow_id", ["workflow_id", "id"], unique=False)
    with op.batch_alter_table("workflow") as batch_op:
        batch_op.create_index("ix_workflow_created_id", ["created", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workflow") as batch_op:
        batch_op.drop_index("ix_workflow_created_id")
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.drop_index("ix_ti_workflow_id")
    with op.batch_alter_table("task") as batch_op:
        batch_op.drop_index("ix_task_workflow_id")
