"""audit hash chain: seq, prev_hash and row_hash on every event, a head per workspace, and no TRUNCATE

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.audit_chain import GENESIS, ChainedEvent, event_hash
from models.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END",
]
POSTGRES_NO_TRUNCATE = ("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")

events = sa.table(
    "audit_events", sa.column("id", sa.Integer()), sa.column("team_id", sa.String()),
    sa.column("assessment_id", sa.Integer()), sa.column("actor", sa.String()), sa.column("action", sa.String()),
    sa.column("subject", sa.String()), sa.column("before", sa.JSON()), sa.column("after", sa.JSON()),
    sa.column("at", UTCDateTime()), sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)
heads = sa.table("audit_heads", sa.column("team_id", sa.String()), sa.column("seq", sa.Integer()),
                 sa.column("row_hash", sa.String()))


def _chain_existing_events() -> None:
    """Events written before the chain existed are chained in the order they were written."""
    bind = op.get_bind()
    last: dict[str, tuple[int, str]] = {}
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        seq, prev = last.get(row["team_id"], (0, GENESIS))
        chained = ChainedEvent(team_id=row["team_id"], seq=seq + 1, at=row["at"], assessment_id=row["assessment_id"],
                               actor=row["actor"], action=row["action"], subject=row["subject"], before=row["before"],
                               after=row["after"], prev_hash=prev)
        row_hash = event_hash(chained)
        bind.execute(events.update().where(events.c.id == row["id"])
                     .values(seq=chained.seq, prev_hash=prev, row_hash=row_hash))
        last[row["team_id"]] = (chained.seq, row_hash)
    for team_id, (seq, row_hash) in last.items():
        bind.execute(heads.insert().values(team_id=team_id, seq=seq, row_hash=row_hash))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "audit_heads",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["workspaces.team_id"], name=op.f("fk_audit_heads_team_id_workspaces")),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_audit_heads")),
    )
    # the chain's columns are filled for the rows already there, which the triggers would refuse
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_team_id_seq"), ["team_id", "seq"])
    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        op.execute(POSTGRES_NO_TRUNCATE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    else:
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_team_id_seq"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.drop_table("audit_heads")
