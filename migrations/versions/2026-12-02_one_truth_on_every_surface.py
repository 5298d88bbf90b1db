"""one truth on every surface: the messages that show a review, its state revision, what a history row changed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surfaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("shown_rev", sa.Integer(), nullable=False),
        sa.Column("shown_hash", sa.String(length=64), nullable=True),
        sa.Column("asserts", sa.JSON(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.Column("gone", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"],
                                name=op.f("fk_surfaces_assessment_id_assessments")),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], name=op.f("fk_surfaces_team_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surfaces")),
    )
    with op.batch_alter_table("surfaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surfaces_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_surfaces_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_surfaces_team_channel_ts", ["team_id", "channel_id", "ts"], unique=True)
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_rev", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("mark_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change", sa.String(length=16), server_default="mark", nullable=False))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_opened_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("workspace_configs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("golive_without_signoff", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requeue", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("requeue")
    with op.batch_alter_table("workspace_configs", schema=None) as batch_op:
        batch_op.drop_column("golive_without_signoff")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("home_opened_at")
    with op.batch_alter_table("mark_changes", schema=None) as batch_op:
        batch_op.drop_column("change")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("state_rev")
    op.drop_table("surfaces")
