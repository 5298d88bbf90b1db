"""the purge permit only the tables' owner can grant, and a chain's head guarded like its events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:00:00

PostgreSQL: a permit was the transaction-local setting ``readiness.purge_team`` alone, which any role allowed
to DELETE could set. Now a DELETE of audit rows (and of a chain's head) must be made by the role that owns
``audit_events`` (or a member of it), with, in the same transaction, the setting and a row of
``audit_purge_permits`` that a trigger stamps with the transaction and the role that wrote it (the owner). The
owner writes both through ``audit_grant_purge_permit(team)``, a SECURITY DEFINER function whose EXECUTE is
revoked from PUBLIC; the check is ``audit_purge_permitted(team, role)``. A head may only move forward (a higher
``seq``, same workspace), never be deleted without the permit, never be truncated.

SQLite has no roles: the permit stays a row written in the purge's transaction; the head gets the same two
triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "audit rows are append-only"
HEAD_REFUSED = "audit heads are append-only: a head only moves forward, and goes only with a purge of its workspace"

POSTGRES_PERMITTED = """CREATE OR REPLACE FUNCTION audit_purge_permitted(team text, actor name) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  WITH owner AS (SELECT pg_get_userbyid(c.relowner) AS role FROM pg_class c WHERE c.oid = 'audit_events'::regclass)
  SELECT team IS NOT NULL
     AND team = current_setting('readiness.purge_team', true)
     AND pg_has_role(actor, (SELECT role FROM owner), 'MEMBER')
     AND EXISTS (SELECT 1 FROM audit_purge_permits p
                 WHERE p.team_id = team AND p.txn = txid_current() AND p.granted_by = (SELECT role FROM owner))
$$"""
POSTGRES_STAMP = """CREATE OR REPLACE FUNCTION audit_purge_permits_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.txn := txid_current();
  NEW.granted_by := current_user;
  RETURN NEW;
END $$"""
POSTGRES_GRANT = """CREATE OR REPLACE FUNCTION audit_grant_purge_permit(team text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  INSERT INTO audit_purge_permits (team_id) VALUES (team)
    ON CONFLICT (team_id) DO UPDATE SET team_id = EXCLUDED.team_id;
  PERFORM set_config('readiness.purge_team', team, true);
END $$"""
POSTGRES_EVENTS = f"""CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND audit_purge_permitted(OLD.team_id, current_user) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '{REFUSED}';
END $$"""
POSTGRES_HEADS = f"""CREATE OR REPLACE FUNCTION audit_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.team_id = OLD.team_id AND NEW.seq > OLD.seq THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND audit_purge_permitted(OLD.team_id, current_user) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '{HEAD_REFUSED}';
END $$"""
POSTGRES_UPGRADE = [
    POSTGRES_PERMITTED, POSTGRES_STAMP, POSTGRES_GRANT, POSTGRES_EVENTS, POSTGRES_HEADS,
    "REVOKE ALL ON FUNCTION audit_grant_purge_permit(text) FROM PUBLIC",
    "CREATE TRIGGER audit_purge_permits_stamp BEFORE INSERT OR UPDATE ON audit_purge_permits "
    "FOR EACH ROW EXECUTE FUNCTION audit_purge_permits_stamp()",
    "CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE OR DELETE ON audit_heads "
    "FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only()",
    "CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward_only()",
]
POSTGRES_EVENTS_BEFORE = f"""CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.team_id = current_setting('readiness.purge_team', true) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION '{REFUSED}';
END $$"""
POSTGRES_DOWNGRADE = [
    "DROP TRIGGER audit_heads_no_truncate ON audit_heads",
    "DROP TRIGGER audit_heads_forward_only ON audit_heads",
    "DROP TRIGGER audit_purge_permits_stamp ON audit_purge_permits",
    POSTGRES_EVENTS_BEFORE,
    "DROP FUNCTION audit_heads_forward_only()",
    "DROP FUNCTION audit_grant_purge_permit(text)",
    "DROP FUNCTION audit_purge_permits_stamp()",
    "DROP FUNCTION audit_purge_permitted(text, name)",
]
SQLITE_PERMIT = "NOT EXISTS (SELECT 1 FROM audit_purge_permits WHERE team_id = OLD.team_id)"
SQLITE_UPGRADE = [
    f"CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads WHEN {SQLITE_PERMIT} "
    f"BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END",
    "CREATE TRIGGER audit_heads_forward_only BEFORE UPDATE ON audit_heads "
    "WHEN NEW.seq <= OLD.seq OR NEW.team_id IS NOT OLD.team_id "
    f"BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END",
]
SQLITE_EVENTS_NO_DELETE = (f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events WHEN {SQLITE_PERMIT} "
                           f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")
SQLITE_DOWNGRADE = ["DROP TRIGGER audit_heads_forward_only", "DROP TRIGGER audit_heads_no_delete"]


def _schema() -> str:
    """The schema the tables are in, quoted: the SECURITY DEFINER functions look nowhere else."""
    bind = op.get_bind()
    return bind.dialect.identifier_preparer.quote(str(bind.execute(sa.text("SELECT current_schema()")).scalar()))


def upgrade() -> None:
    with op.batch_alter_table("audit_purge_permits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txn", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("granted_by", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
        return
    schema = _schema()
    for statement in POSTGRES_UPGRADE:
        op.execute(statement.replace("{schema}", schema))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DOWNGRADE if sqlite else POSTGRES_DOWNGRADE:
        op.execute(statement)
    if sqlite:  # the table is rebuilt, and a trigger that names it would stop the rebuild
        op.execute("DROP TRIGGER audit_events_no_delete")
    with op.batch_alter_table("audit_purge_permits", schema=None) as batch_op:
        batch_op.drop_column("granted_by")
        batch_op.drop_column("txn")
    if sqlite:
        op.execute(SQLITE_EVENTS_NO_DELETE)
