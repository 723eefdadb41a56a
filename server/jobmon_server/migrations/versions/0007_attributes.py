"""workflow and task attributes; dynamic resources

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00

Jobmon's workflow_attributes and task_attributes: metadata a script stores with a workflow
or a task (a release id, a model version), shown by the API, the CLI and the dashboard.
One JSON object per row, name to string; a workflow or task without any has null.

Jobmon's dynamic resources: a task bound with ``dynamic_resources`` waits, in a run whose
client gives them (``workflow_run.dynamic_resources``), for its resources once its
upstream tasks are done; ``resources_held`` says it counts one more pending upstream
meanwhile.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workflow", sa.Column("attributes", sa.JSON(), nullable=True))
    # plain ADD COLUMN (no batch): SQLite would otherwise rebuild task, which others reference
    op.add_column("task", sa.Column("attributes", sa.JSON(), nullable=True))
    op.add_column(
        "task",
        sa.Column("dynamic_resources", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "task",
        sa.Column("resources_held", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "workflow_run",
        sa.Column("dynamic_resources", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("workflow_run") as batch_op:
        batch_op.drop_column("dynamic_resources")
    with op.batch_alter_table("task") as batch_op:
        batch_op.drop_column("resources_held")
        batch_op.drop_column("dynamic_resources")
        batch_op.drop_column("attributes")
    with op.batch_alter_table("workflow") as batch_op:
        batch_op.drop_column("attributes")
