"""workflow bind digest index: a resume finds its workflow by the digest it was bound with

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:30:00

A client resuming an unchanged workflow sends the digest of what it binds instead of the
workflow's identity hashes, which take a million-task workflow seconds to compute.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_workflow_bind_digest",
        "workflow",
        ["tool_version_id", "workflow_args_hash", "bind_digest"],
    )


def downgrade() -> None:
    op.drop_index("ix_workflow_bind_digest", table_name="workflow")
