"""worker tokens: a token may be a worker's, bound to one cluster; workers know their token

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00

A token with a cluster is a worker credential: it may claim, report and heartbeat for that
cluster only. A worker remembers the token that announced it, so that no other token can
report under its id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): SQLite would otherwise copy the tables.
    op.add_column("api_token", sa.Column("cluster", sa.String(length=255), nullable=True))
    op.add_column("worker", sa.Column("token_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker") as batch_op:
        batch_op.drop_column("token_id")
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("cluster")
