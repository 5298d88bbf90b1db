"""Installations to workspaces (OAuth mode): the tables of slack_sdk's SQLAlchemy installation and state stores.

slack_sdk builds these tables itself (``SQLAlchemyInstallationStore.build_*_table``) and offers
``create_tables()``; here they are declared so that Alembic creates and migrates them like every other table.
The columns are the library's, with one difference: the token columns are ``Text``, because the bot stores
them encrypted (``bot.installs.store``) and an encrypted rotating token is longer than the library's 200
characters. ``tests/db/test_installations.py`` checks that every column the library reads or writes is here.
The date columns stay naive, as slack_sdk writes them (UTC without a zone).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text

from models.base import Base

TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _app_columns() -> list[Column[object]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]


def _bot_columns() -> list[Column[object]]:
    return [
        Column("bot_token", Text),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", Text),
        Column("bot_token_expires_at", DateTime),
    ]


slack_installations = Table(
    "slack_installations",
    Base.metadata,
    *_app_columns(),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_bot_columns(),
    Column("user_id", String(32), nullable=False),
    Column("user_token", Text),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", Text),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

slack_bots = Table(
    "slack_bots",
    Base.metadata,
    *_app_columns(),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_bot_columns(),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

# The OAuth state of an install in progress: issued before any workspace is known, so it has no team_id.
slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)

INSTALLATION_TABLES = (slack_installations, slack_bots)
