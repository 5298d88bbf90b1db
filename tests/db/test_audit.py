"""The audit trail is append-only, records a review's events, and exports them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.cli.main import main
from bot.core.checklist import Mark
from bot.db import session_scope
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.audit import events, export
from bot.services.marks import close_review, record_mark
from models import AuditEvent, AuditImmutable

TEAM = "T001"
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def review_with_history(sessions, checklist) -> int:
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="2", started_by="U0"))
        record_mark(s, TEAM, a.id, MarkRequest(item_id="s16", mark=Mark.PARTIAL, owner="U2", due=TODAY),
                    actor="U1", today=TODAY, now=NOW)
        record_mark(s, TEAM, a.id, MarkRequest(item_id="s16", mark=Mark.NO, evidence="rehearsed", reason="done"),
                    actor="U2", today=TODAY, now=NOW)
        close_review(s, TEAM, a.id, actor="U0", now=NOW)
        return a.id


def test_a_review_leaves_its_events(sessions, checklist):
    aid = review_with_history(sessions, checklist)
    with session_scope(sessions) as s:
        rows = events(s, aid)
        got = [(e.action, e.actor, e.subject) for e in rows]
        changed = rows[2]
        assert changed.before["mark"] == "partial" and changed.after["mark"] == "no"
        assert changed.after["reason"] == "done" and changed.after["verdict"] == "incomplete"
    assert got == [("review.started", "U0", None), ("mark.changed", "U1", "s16"), ("mark.changed", "U2", "s16"),
                   ("review.closed", "U0", None)]


def test_the_application_cannot_change_or_remove_audit_rows(sessions, checklist):
    aid = review_with_history(sessions, checklist)
    with pytest.raises(AuditImmutable), session_scope(sessions) as s:
        s.scalars(select(AuditEvent)).first().actor = "someone else"
    with pytest.raises(AuditImmutable), session_scope(sessions) as s:
        s.delete(s.scalars(select(AuditEvent)).first())
    with pytest.raises(AuditImmutable), session_scope(sessions) as s:
        s.execute(update(AuditEvent).values(actor="x"))
    with pytest.raises(AuditImmutable), session_scope(sessions) as s:
        s.execute(delete(AuditEvent))
    # and the database refuses even raw SQL
    with pytest.raises(DBAPIError), session_scope(sessions) as s:
        s.execute(text("UPDATE audit_events SET actor = 'x'"))
    with pytest.raises(DBAPIError), session_scope(sessions) as s:
        s.execute(text("DELETE FROM audit_events"))
    with session_scope(sessions) as s:
        assert [e.actor for e in events(s, aid)] == ["U0", "U1", "U2", "U0"]


def test_export_csv_and_jsonl(sessions, checklist, engine, monkeypatch, capsys):
    aid = review_with_history(sessions, checklist)
    with session_scope(sessions) as s:
        rows = events(s, aid)
        jsonl = [json.loads(line) for line in export(rows, "jsonl").splitlines()]
        table = list(csv.DictReader(io.StringIO(export(rows, "csv"))))
    assert [r["action"] for r in jsonl] == [r["action"] for r in table] == [
        "review.started", "mark.changed", "mark.changed", "review.closed"]
    assert json.loads(table[1]["after"])["mark"] == "partial"
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["audit", "export", "--assessment", str(aid), "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 4
    assert main(["audit", "export", "--assessment", "999"]) == 2
    assert "no assessment 999" in capsys.readouterr().err
