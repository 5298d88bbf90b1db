"""Waivers of blockers, and the release channels of a workspace

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 03:52:38.182212
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=48), nullable=False),
        sa.Column("granted_by", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_waivers_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_waivers_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
    )
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waivers_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index("ix_waivers_open", ["expires_at", "ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_waivers_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("workspace_configs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("release_channels", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("workspace_configs", schema=None) as batch_op:
        batch_op.drop_column("release_channels")

    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waivers_team_id"))
        batch_op.drop_index("ix_waivers_open")
        batch_op.drop_index(batch_op.f("ix_waivers_assessment_id"))

    op.drop_table("waivers")
