"""an audit event's subject fits a system name and a version ("system version": 120 + 1 + 80 characters), and
its actor "api:" and a token's name (as evidence sets and policies keep it: 120 characters)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00

Evidence pushed for a system of more than 99 characters, or with a token whose name is longer than 60, was
refused by PostgreSQL when its audit event was written (the subject was 100 characters wide, the actor 64). SQLite rebuilds the table to change a column, which drops its
triggers: they are dropped first and made again, as they were, afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permits WHERE team_id = OLD.team_id) "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
]


def _widths(subject: tuple[int, int], actor: tuple[int, int]) -> None:
    """(from, to) widths of the two columns."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=subject[0]),
                              type_=sa.String(length=subject[1]), existing_nullable=True)
        batch_op.alter_column("actor", existing_type=sa.String(length=actor[0]), type_=sa.String(length=actor[1]),
                              existing_nullable=False)
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    _widths(subject=(100, 201), actor=(64, 120))


def downgrade() -> None:
    _widths(subject=(201, 100), actor=(120, 64))
