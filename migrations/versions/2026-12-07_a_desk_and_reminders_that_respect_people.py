"""a desk and reminders that respect people: due-date proposals waiting for the lead, snoozed gaps

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "due_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("proposer", sa.String(length=32), nullable=False),
        sa.Column("lead", sa.String(length=32), nullable=False),
        sa.Column("was", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"],
                                name=op.f("fk_due_proposals_assessment_id_assessments")),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], name=op.f("fk_due_proposals_team_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_proposals")),
    )
    with op.batch_alter_table("due_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_due_proposals_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_due_proposals_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_due_proposals_team_lead_status", ["team_id", "lead", "status"], unique=False)
    with op.batch_alter_table("item_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_marks", schema=None) as batch_op:
        batch_op.drop_column("snoozed_until")
    op.drop_table("due_proposals")
