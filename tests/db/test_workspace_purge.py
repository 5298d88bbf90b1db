"""A workspace's data exported and purged: the one sanctioned deletion of audit rows, and its tombstone.

Every other deletion of audit rows stays refused by the database: without the permit, with another
workspace's permit, an UPDATE with the permit, a TRUNCATE (PostgreSQL).
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.cli.main import main
from bot.core.checklist import Mark
from bot.db import session_scope
from bot.services import outbox, tokens, workspace_data
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.audit import verify
from bot.services.errors import ServiceError
from bot.services.marks import record_mark
from models import AuditEvent, WorkspaceTombstone

GONE, KEPT = "T0GONE", "T0KEPT"
TODAY = date(2026, 11, 27)


def workspace_with_data(sessions, checklist, team: str) -> None:
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=team, system="copilot", version="2", started_by="U0"))
        record_mark(s, team, a.id, MarkRequest(item_id="s16", mark=Mark.PARTIAL, owner="U2", due=TODAY),
                    actor="U1", today=TODAY)
        tokens.create(s, team, "ci", actor="U0")
        outbox.enqueue(s, team, dedupe_key=f"{team}:x", kind="overdue", recipient="U2",
                       due_at=datetime.now(UTC) + timedelta(days=1), assessment_id=a.id)


def rows_of(sessions, team: str) -> int:
    with session_scope(sessions) as s:
        return workspace_data.remaining_rows(s, team)


def test_purge_deletes_every_row_of_one_workspace_and_leaves_a_tombstone(sessions, checklist):
    workspace_with_data(sessions, checklist, GONE)
    workspace_with_data(sessions, checklist, KEPT)
    kept_before = rows_of(sessions, KEPT)
    out = io.StringIO()
    with session_scope(sessions) as s:
        with pytest.raises(ServiceError, match="repeat the workspace id"):
            workspace_data.purge(s, GONE, confirm=KEPT, actor="ops@host", out=io.StringIO())
        tombstone = workspace_data.purge(s, GONE, confirm=GONE, actor="ops@host", out=out)
    exported = out.getvalue()
    lines = [json.loads(line) for line in exported.splitlines()]
    tables = {line["table"] for line in lines[1:]}
    assert lines[0]["team_id"] == GONE and {"assessments", "item_marks", "audit_events", "outbox", "workspaces",
                                            "api_tokens", "audit_heads"} <= tables
    assert not any("token_hash" in line["row"] for line in lines[1:] if line["table"] == "api_tokens")
    assert rows_of(sessions, GONE) == 0 and rows_of(sessions, KEPT) == kept_before
    with session_scope(sessions) as s:
        stone = s.scalars(select(WorkspaceTombstone)).one()
        assert (stone.team_id, stone.purged_by, stone.total_rows) == (GONE, "ops@host", len(lines) - 1)
        assert stone.export_sha256 == hashlib.sha256(exported.encode()).hexdigest() == tombstone.export_sha256
        assert stone.audit_rows == stone.rows["audit_events"] >= 2 and stone.audit_head
        assert [r.team_id for r in verify(s)] == [KEPT] and verify(s)[0].intact


def test_every_other_deletion_of_audit_rows_stays_refused(sessions, checklist, engine):
    workspace_with_data(sessions, checklist, GONE)
    workspace_with_data(sessions, checklist, KEPT)
    postgres = engine.dialect.name != "sqlite"
    permit = ("SELECT set_config('readiness.purge_team', :t, true)" if postgres
              else "INSERT INTO audit_purge_permits (team_id) VALUES (:t)")
    attempts = [
        ("no permit", None, f"DELETE FROM audit_events WHERE team_id = '{GONE}'"),
        ("another workspace's permit", GONE, f"DELETE FROM audit_events WHERE team_id = '{KEPT}'"),
        ("an update, with the permit", GONE, f"UPDATE audit_events SET actor = 'x' WHERE team_id = '{GONE}'"),
    ]
    if postgres:
        attempts.append(("a truncate, with the permit", GONE, "TRUNCATE audit_events CASCADE"))
    for why, team, statement in attempts:
        with engine.connect() as conn:
            if team:
                conn.execute(text(permit), {"t": team})
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
        with session_scope(sessions) as s:
            assert s.scalar(select(func.count()).select_from(AuditEvent)) > 0, why
    # the permit is a transaction's: once it ended, the same delete is refused again
    with engine.connect() as conn:
        conn.execute(text(permit), {"t": GONE})
        conn.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(f"DELETE FROM audit_events WHERE team_id = '{GONE}'"))
        conn.rollback()
    # and the application refuses before the database is asked
    with session_scope(sessions) as s, pytest.raises(Exception, match="append-only"):
        s.execute(delete(AuditEvent).where(AuditEvent.team_id == GONE))
    with session_scope(sessions) as s, pytest.raises(Exception, match="append-only"):
        s.execute(update(AuditEvent).values(actor="x"))


def test_the_command_line_exports_audits_and_purges(sessions, checklist, engine, tmp_path, monkeypatch, capsys):
    workspace_with_data(sessions, checklist, GONE)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.chdir(tmp_path)
    assert main(["workspace", "export", "--team", GONE, "--out", "first.jsonl", "--by", "ana"]) == 0
    with session_scope(sessions) as s:
        exported = s.scalars(select(AuditEvent).where(AuditEvent.action == "workspace.exported")).one()
    assert exported.actor == "ana"
    assert exported.after["sha256"] == hashlib.sha256((tmp_path / "first.jsonl").read_bytes()).hexdigest()
    assert main(["workspace", "purge", "--team", GONE, "--confirm", "T0OTHER"]) == 2
    assert not (tmp_path / f"workspace-{GONE}-purged.jsonl").exists()
    assert main(["workspace", "purge", "--team", GONE, "--confirm", GONE, "--by", "ana"]) == 0
    export = (tmp_path / f"workspace-{GONE}-purged.jsonl").read_bytes()
    with session_scope(sessions) as s:
        stone = s.scalars(select(WorkspaceTombstone)).one()
    assert stone.export_sha256 == hashlib.sha256(export).hexdigest() and stone.purged_by == "ana"
    assert b'"workspace.exported"' in export  # the export's own audit event went with the purge
    assert rows_of(sessions, GONE) == 0
    assert main(["workspace", "purge", "--team", GONE, "--confirm", GONE]) == 2  # an export is never overwritten
    assert "exists already" in capsys.readouterr().err
