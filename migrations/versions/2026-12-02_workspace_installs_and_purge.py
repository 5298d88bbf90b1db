"""Installing to any workspace: slack_sdk's installation and state store tables, uninstalls, and the one
sanctioned deletion of audit rows (a workspace purge, which leaves a tombstone)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:00:00

The audit triggers still refuse every UPDATE, every TRUNCATE and every DELETE, except a DELETE of a
workspace's rows inside a transaction that carries that workspace's purge permit: on PostgreSQL the
transaction-local setting ``readiness.purge_team`` naming it (``SET LOCAL``), on SQLite a row in
``audit_purge_permits`` written (and removed again) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_NO_DELETE = ("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events {when}"
                    "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END")
SQLITE_PERMIT = "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permits WHERE team_id = OLD.team_id) "
POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.team_id = current_setting('readiness.purge_team', true) THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit rows are append-only';
END $$"""
POSTGRES_FUNCTION_BEFORE = ("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                            "$$ BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$")


def _app_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
    ]


def _bot_columns() -> list[sa.Column]:
    return [
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        *_app_columns(),
        sa.Column("enterprise_url", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        *_bot_columns(),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_scopes", sa.String(length=1000), nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.String(length=200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
    )
    op.create_index("slack_installations_idx", "slack_installations",
                    ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"], unique=False)
    op.create_table(
        "slack_bots",
        *_app_columns(),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        *_bot_columns(),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_bots")),
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"],
                    unique=False)
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
    )
    op.create_table(
        "workspace_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_by", sa.String(length=120), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("audit_rows", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=True),
        sa.Column("export_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_tombstones")),
    )
    op.create_index(op.f("ix_workspace_tombstones_team_id"), "workspace_tombstones", ["team_id"], unique=False)
    op.create_table(
        "audit_purge_permits",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_audit_purge_permits")),
    )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("uninstall_reason", sa.String(length=40), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(SQLITE_NO_DELETE.format(when=SQLITE_PERMIT))
    else:
        op.execute(POSTGRES_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute(SQLITE_NO_DELETE.format(when=""))
    else:
        op.execute(POSTGRES_FUNCTION_BEFORE)
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("uninstall_reason")
        batch_op.drop_column("uninstalled_at")
    op.drop_table("audit_purge_permits")
    op.drop_index(op.f("ix_workspace_tombstones_team_id"), table_name="workspace_tombstones")
    op.drop_table("workspace_tombstones")
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
