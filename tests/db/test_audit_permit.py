"""The purge permit cannot be forged by a role that does not own the tables, the chain's head is guarded like
its events, and `readiness audit verify` says so when a workspace's events or head are gone.

What a database owner (or superuser) can still do is shown, not prevented: see tests/db/test_audit_chain.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from bot.cli.main import main
from bot.db import session_scope
from bot.services import audit
from models import AuditEvent, AuditHead
from tests.db.test_audit_chain import TEAM, a_review


def counts(sessions) -> tuple[int, int]:
    with session_scope(sessions) as s:
        return (s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                s.scalar(select(func.count()).select_from(AuditHead)) or 0)


@pytest.fixture
def clerk(engine: Engine) -> Iterator[str]:
    """A PostgreSQL role that does not own the tables, with the ordinary grants an application or an operator's
    tool gets: every privilege on every table of the schema (read, write, TRUNCATE, TRIGGER)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no roles: whoever can write the file owns the database")
    role = f"clerk_{uuid.uuid4().hex[:10]}"
    schema = engine.url.query["options"].split("search_path=")[1]
    with engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
    yield role
    with engine.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))


FORGERIES = {
    "the setting alone": ["SELECT set_config('readiness.purge_team', :team, true)",
                          "DELETE FROM audit_events WHERE team_id = :team"],
    "the setting and a permit row": ["SELECT set_config('readiness.purge_team', :team, true)",
                                     "INSERT INTO audit_purge_permits (team_id) VALUES (:team)",
                                     "DELETE FROM audit_events WHERE team_id = :team"],
    "a permit row made to look like the owner's": [
        "SELECT set_config('readiness.purge_team', :team, true)",
        "INSERT INTO audit_purge_permits (team_id, txn, granted_by) "
        "VALUES (:team, txid_current(), (SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events' "
        "AND schemaname = current_schema()))",
        "DELETE FROM audit_events WHERE team_id = :team"],
    "the head, deleted with the setting": ["SELECT set_config('readiness.purge_team', :team, true)",
                                           "DELETE FROM audit_heads WHERE team_id = :team"],
    "the head, moved back": ["UPDATE audit_heads SET seq = 0 WHERE team_id = :team"],
    "the head, truncated": ["TRUNCATE audit_heads"],
    "the sanctioned permit, asked for": ["SELECT audit_grant_purge_permit(:team)"],
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_role_that_does_not_own_the_tables_cannot_forge_the_purge_permit(engine, sessions, checklist, clerk,
                                                                           forgery: str):
    """Regression: with ordinary grants, `SET LOCAL readiness.purge_team` was enough to delete a workspace's
    audit events, and its head could be deleted with no permit at all."""
    a_review(sessions, checklist)
    before = counts(sessions)
    with engine.connect() as conn:
        conn.execute(text(f'SET LOCAL ROLE "{clerk}"'))
        with pytest.raises(DBAPIError, match="append-only|permission denied"):
            for statement in FORGERIES[forgery]:
                conn.execute(text(statement), {"team": TEAM})
        conn.rollback()
    assert counts(sessions) == before
    with session_scope(sessions) as s:
        (report,) = audit.verify(s, TEAM)
    assert report.intact


def test_the_permit_holds_for_the_owner_in_its_own_transaction_only(engine, sessions, checklist, clerk):
    a_review(sessions, checklist)
    check = text("SELECT audit_purge_permitted(:team, current_user)")
    with engine.connect() as conn:
        conn.execute(text("SELECT audit_grant_purge_permit(:team)"), {"team": TEAM})
        assert conn.execute(check, {"team": TEAM}).scalar() is True
        as_clerk = conn.execute(text("SELECT audit_purge_permitted(:team, :role)"), {"team": TEAM, "role": clerk})
        assert as_clerk.scalar() is False
        conn.commit()  # a permit row kept past its transaction (a purge never commits one) grants nothing later
        conn.execute(text("SELECT set_config('readiness.purge_team', :team, true)"), {"team": TEAM})
        assert conn.execute(check, {"team": TEAM}).scalar() is False
        conn.execute(text(f'SET LOCAL ROLE "{clerk}"'))
        conn.execute(text("SELECT set_config('readiness.purge_team', :team, true)"), {"team": TEAM})
        conn.execute(text("UPDATE audit_purge_permits SET txn = txid_current() WHERE team_id = :team"), {"team": TEAM})
        assert conn.execute(check, {"team": TEAM}).scalar() is False
        conn.rollback()


def test_the_head_is_removed_only_by_a_purge_and_never_moves_back(engine, sessions, checklist):
    a_review(sessions, checklist)
    for statement in (f"DELETE FROM audit_heads WHERE team_id = '{TEAM}'",
                      f"UPDATE audit_heads SET seq = seq - 1 WHERE team_id = '{TEAM}'",
                      f"UPDATE audit_heads SET team_id = 'T999' WHERE team_id = '{TEAM}'"):
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    assert counts(sessions)[1] == 1
    a_review(sessions, checklist)  # and the chain still moves forward
    with session_scope(sessions) as s:
        (report,) = audit.verify(s, TEAM)
    assert report.intact and report.events > 4


def _as_owner_without_triggers(engine: Engine, *statements: str) -> None:
    """What the owner can still do: switch the triggers off, change the tables, switch them on again."""
    with engine.begin() as conn:
        for table in ("audit_events", "audit_heads"):
            if engine.dialect.name == "sqlite":
                names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                                     {"t": table}).scalars().all()
                for name in names:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
            else:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement))


@pytest.mark.parametrize("tamper, said", [
    ([f"DELETE FROM audit_heads WHERE team_id = '{TEAM}'"], "but no head: the head was deleted"),
    ([f"DELETE FROM audit_events WHERE team_id = '{TEAM}'"], "but it has no events: they were deleted"),
    ([f"DELETE FROM audit_events WHERE team_id = '{TEAM}'", f"DELETE FROM audit_heads WHERE team_id = '{TEAM}'"],
     "1 review(s) but no audit events and no head: the trail was deleted"),
])
def test_verify_fails_with_a_clear_line_when_events_or_the_head_are_gone(engine, sessions, checklist, capsys,
                                                                         tamper: list[str], said: str):
    """Regression: with the events and the head deleted, `readiness audit verify` said "no audit events yet"
    and exited 0."""
    a_review(sessions, checklist)
    _as_owner_without_triggers(engine, *tamper)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
        assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    [line] = out.splitlines()
    assert line.startswith(f"{TEAM}: ") and "BROKEN" in line and said in line, out
