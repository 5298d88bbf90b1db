"""The audit trail's hash chain: written on commit, verified by `readiness audit verify`, and tampering shows."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.cli.main import main
from bot.core.audit_chain import GENESIS
from bot.core.checklist import Mark
from bot.db import session_scope, upgrade
from bot.services import audit
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.marks import record_mark
from bot.services.workspaces import ensure_workspace
from models import AuditEvent, AuditHead

TEAM, OTHER = "T001", "T002"
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def a_review(sessions, checklist, team: str = TEAM, system: str = "copilot") -> int:
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=team, system=system, version="2", started_by="U0"))
        for item_id in ("s16", "s3", "s4"):
            record_mark(s, team, a.id, MarkRequest(item_id=item_id, mark=Mark.PARTIAL, owner="U2", due=TODAY),
                        actor="U1", today=TODAY, now=NOW)
        return a.id


def test_each_workspace_has_one_unbroken_chain(sessions, checklist):
    a_review(sessions, checklist)
    a_review(sessions, checklist, OTHER)
    a_review(sessions, checklist)
    with session_scope(sessions) as s:
        reports = {r.team_id: r for r in audit.verify(s)}
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.team_id == TEAM).order_by(AuditEvent.seq)))
        head = s.get(AuditHead, TEAM)
    assert set(reports) == {TEAM, OTHER} and all(r.intact for r in reports.values())
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1)) and rows[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.row_hash for earlier, later in zip(rows, rows[1:], strict=False))
    assert (head.seq, head.row_hash) == (rows[-1].seq, rows[-1].row_hash)
    assert reports[TEAM].events == len(rows) and reports[TEAM].head == rows[-1].row_hash


def test_a_rolled_back_transaction_leaves_no_event(sessions, checklist):
    with pytest.raises(RuntimeError), session_scope(sessions) as s:
        ensure_workspace(s, TEAM)
        audit.record(s, TEAM, "config.changed", actor="U0")
        raise RuntimeError("the change failed")
    with session_scope(sessions) as s:
        assert s.scalars(select(AuditEvent)).all() == []
        assert audit.verify(s) == []


def test_concurrent_writers_of_one_workspace_keep_the_chain(sessions, checklist):
    with session_scope(sessions) as s:
        ensure_workspace(s, TEAM)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with session_scope(sessions) as s:
                    audit.record(s, TEAM, "gate.queried", actor=f"writer-{n}", subject=str(i))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(sessions) as s:
        (report,) = audit.verify(s, TEAM)
    assert report.intact and report.events == 40


def _raw(engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _without_triggers(engine, statement: str) -> None:
    """What a database owner could do: switch the triggers off, change the table, switch them on."""
    if engine.dialect.name == "sqlite":
        _raw(engine, "DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete", statement)
    else:
        _raw(engine, "ALTER TABLE audit_events DISABLE TRIGGER USER", statement,
             "ALTER TABLE audit_events ENABLE TRIGGER USER")


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE audit_events SET actor = 'someone else' WHERE seq = 2", "event 2 was changed"),
    ("DELETE FROM audit_events WHERE seq = 2", "event 2 is missing"),
    ("DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)", "removed from its end"),
])
def test_tampering_shows_in_verify(engine, sessions, checklist, tamper: str, problem: str, capsys):
    a_review(sessions, checklist)
    _without_triggers(engine, tamper)
    with session_scope(sessions) as s:
        (report,) = audit.verify(s, TEAM)
    assert not report.intact and problem in (report.problem or "")
    url = engine.url.render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        assert main(["audit", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_verify_passes_on_an_intact_trail(engine, sessions, checklist, capsys, monkeypatch):
    a_review(sessions, checklist)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["audit", "verify", "--team", TEAM]) == 0
    assert f"{TEAM}: " in capsys.readouterr().out


@pytest.mark.parametrize("db_url_and_engine", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
def test_postgresql_refuses_truncate(engine, sessions, checklist):
    a_review(sessions, checklist)
    for statement in ("TRUNCATE audit_events", "TRUNCATE workspaces CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"):
            _raw(engine, statement)
    with session_scope(sessions) as s:
        assert s.scalars(select(AuditEvent)).first() is not None


def test_csv_export_neutralises_formulas(sessions, checklist):
    aid = a_review(sessions, checklist, system="=1+2")
    with session_scope(sessions) as s:
        audit.record(s, TEAM, "mark.changed", actor="@evil", assessment_id=aid, subject="-cmd|' /C calc'!A0")
    with session_scope(sessions) as s:
        rows = list(csv.DictReader(io.StringIO(audit.export(audit.events(s, aid), "csv"))))
    cells = [v for r in rows for v in r.values() if v]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells)
    assert any(v == "'@evil" for v in cells) and any(v.startswith("'-cmd") for v in cells)


def test_events_written_before_the_chain_are_chained_by_the_migration(blank_engine):
    upgrade(blank_engine, "0007")
    _raw(blank_engine, "INSERT INTO workspaces (team_id, created_at) VALUES ('T9', '2026-11-27 10:00:00')",
         "INSERT INTO audit_events (team_id, actor, action, at) VALUES ('T9', 'U1', 'config.changed', "
         "'2026-11-27 10:00:00')",
         "INSERT INTO audit_events (team_id, actor, action, subject, after, at) VALUES ('T9', 'U2', 'token.created', "
         "'ci', '{\"name\": \"ci\"}', '2026-11-27 10:00:01.5')")
    upgrade(blank_engine)
    from bot.db import session_factory

    with session_scope(session_factory(blank_engine)) as s:
        (report,) = audit.verify(s)
        audit.record(s, "T9", "gate.queried", actor="U3")
    with session_scope(session_factory(blank_engine)) as s:
        (after,) = audit.verify(s)
    assert report.intact and report.events == 2
    assert after.intact and after.events == 3
