"""resource scales and fallback queues on task resources; instances indexed by array

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_resources") as batch_op:
        batch_op.add_column(sa.Column("scales", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("fallback_queues", sa.JSON(), nullable=True))
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.create_index("ix_ti_array_status", ["array_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_instance") as batch_op:
        batch_op.drop_index("ix_ti_array_status")
    with op.batch_alter_table("task_resources") as batch_op:
        batch_op.drop_column("fallback_queues")
        batch_op.drop_column("scales")
