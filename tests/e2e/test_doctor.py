"""readiness doctor: database and schema, the Slack token, the outbox backlog and dead messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from bot.cli.doctor import run
from bot.db import session_scope
from bot.sandbox.local import BOT_TOKEN, LocalSlack
from bot.services import outbox
from bot.services.workspaces import ensure_workspace
from bot.settings import Settings


def settings_for(local: LocalSlack, token: str = BOT_TOKEN) -> Settings:
    assert local.engine is not None
    return Settings(database_url=local.engine.url.render_as_string(hide_password=False),
                    slack_bot_token=SecretStr(token), slack_api_url=local.sandbox.api_url)


def test_doctor_reports_health_and_dead_rows(engine):
    with LocalSlack(engine=engine) as local:
        lines, healthy = run(settings_for(local))
        assert healthy, lines
        assert any(line.startswith("slack     ok") for line in lines)
        lines, healthy = run(settings_for(local, token="xoxb-wrong"))
        assert not healthy and any("invalid_auth" in line for line in lines)
        with session_scope(local.sessions) as s:
            ensure_workspace(s, "T0READY")
            outbox.enqueue(s, "T0READY", dedupe_key="gap:1:s1:overdue:2026-01-01:U1", kind="overdue",
                           recipient="U1", due_at=datetime.now(UTC) - timedelta(hours=1))
        lines, healthy = run(settings_for(local))
        assert not healthy and any(line.startswith("backlog   LATE") for line in lines)
        with session_scope(local.sessions) as s:
            (row, _), = outbox.claim_due(s, owner="w", lease=timedelta(seconds=30))
            outbox.retry_later(s, row.id, "w", after=timedelta(0), error="refused: user_not_found",
                               unknown=False, max_attempts=1)
        lines, healthy = run(settings_for(local))
        assert not healthy and any("user_not_found" in line for line in lines)
