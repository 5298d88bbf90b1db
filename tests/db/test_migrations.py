"""Migrations and models agree, on SQLite and PostgreSQL; the start-up schema check."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.db import SchemaNotAtHead, current_revision, ensure_schema, head_revision, upgrade
from models import Base


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_reaches_head(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"workspaces", "assessments", "item_marks", "mark_changes"} <= tables


# An OAuth state is issued before anyone knows which workspace will install: the one table without a team.
WITHOUT_TEAM = {"slack_oauth_states"}


def test_every_table_carries_team_id():
    for table in Base.metadata.tables.values():
        assert "team_id" in table.columns or table.name in WITHOUT_TEAM, table.name


def test_ensure_schema_upgrades_sqlite_but_refuses_an_old_postgres(blank_engine):
    if blank_engine.dialect.name == "sqlite":
        ensure_schema(blank_engine)
        assert current_revision(blank_engine) == head_revision()
    else:
        with pytest.raises(SchemaNotAtHead, match="readiness db upgrade"):
            ensure_schema(blank_engine)
        upgrade(blank_engine)
        ensure_schema(blank_engine)


def test_the_audit_migrations_go_down_and_up_again_keeping_the_triggers(engine):
    """0012 rebuilds audit_events and 0013 audit_purge_permits on SQLite, which drops the triggers that name
    them: each makes them again, both ways."""
    from alembic import command
    from sqlalchemy import text

    from bot.db import alembic_config

    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0011")
    assert current_revision(engine) == "0011"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        assert names == {"audit_events_no_update", "audit_events_no_delete", "audit_heads_no_delete",
                         "audit_heads_forward_only"}
