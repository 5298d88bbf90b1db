"""people's names: the display name and real name users.info gives, kept beside the time zone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("real_name", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("profile_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lookup_failed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("lookup_failed_at")
        batch_op.drop_column("profile_at")
        batch_op.drop_column("real_name")
        batch_op.drop_column("display_name")
