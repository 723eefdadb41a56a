"""error signatures, to group similar errors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from jobmon_server.error_groups import signature

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("task_instance_error_log") as batch_op:
        batch_op.add_column(sa.Column("signature", sa.String(length=40), nullable=True))
    _backfill()
    with op.batch_alter_table("task_instance_error_log") as batch_op:
        batch_op.alter_column("signature", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_index(
            "ix_error_workflow_signature", ["workflow_id", "signature", "task_id"], unique=False
        )


def _backfill() -> None:
    log = sa.table(
        "task_instance_error_log",
        sa.column("id", sa.Integer),
        sa.column("description", sa.Text),
        sa.column("signature", sa.String),
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(log.c.id, log.c.description)
            .where(log.c.id > last)
            .order_by(log.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            log.update()
            .where(log.c.id == sa.bindparam("row_id"))
            .values(signature=sa.bindparam("sig")),
            [{"row_id": i, "sig": signature(d)} for i, d in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("task_instance_error_log") as batch_op:
        batch_op.drop_index("ix_error_workflow_signature")
        batch_op.drop_column("signature")
