"""channels the bot is in: a workspace may let it join public channels; a review remembers why it could not post

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspace_configs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("join_channels", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_error", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("post_error")
    with op.batch_alter_table("workspace_configs", schema=None) as batch_op:
        batch_op.drop_column("join_channels")
