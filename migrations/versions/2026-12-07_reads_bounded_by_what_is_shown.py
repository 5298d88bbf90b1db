"""reads bounded by what is shown: an owner's gaps read in due order from an index, never all of them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:00:00

The App Home and ``/readiness gaps`` show an owner's most pressing gaps and count the rest no further than a
screen says; ``ix_item_marks_owner`` serves both without reading the workspace's other marks. The reviews in
progress are counted in ``ix_assessments_team_status`` alone. A new mark cancels its gap's owed outbox rows
through ``ix_outbox_team_assessment_item``, never along the workspace's whole outbox (which SQLite, without
statistics, preferred).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_item_marks_owner", "item_marks",
                    ["team_id", "owner", "due", "assessment_id", "item_id", "mark"], unique=False)
    op.create_index("ix_assessments_team_status", "assessments", ["team_id", "status"], unique=False)
    op.create_index("ix_outbox_team_assessment_item", "outbox", ["team_id", "assessment_id", "item_id", "status"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_team_assessment_item", table_name="outbox")
    op.drop_index("ix_assessments_team_status", table_name="assessments")
    op.drop_index("ix_item_marks_owner", table_name="item_marks")
