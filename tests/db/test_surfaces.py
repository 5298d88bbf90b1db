"""What shows a review is kept current through one coalesced refresh row, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from bot.db import db_now, session_scope
from bot.services import outbox, surfaces
from bot.services.assessments import StartRequest, start_assessment
from bot.services.workspaces import ensure_workspace
from models import Approver, Assessment, OutboxMessage, Surface
from models.surface import PARENT

TEAM = "T001"


def review(sessions, checklist) -> int:
    with session_scope(sessions) as s:
        return start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="1",
                                                           started_by="U1", channel_id="C1")).id


def refreshes(sessions) -> list[tuple[str, str, bool]]:
    with session_scope(sessions) as s:
        return [(r.dedupe_key, r.status, r.requeue) for r in s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == outbox.REFRESH))]


def change(sessions, aid: int) -> int:
    with session_scope(sessions) as s:
        assessment = s.get(Assessment, aid)
        surfaces.changed(s, assessment)
        return assessment.state_rev


def test_many_changes_owe_one_refresh_and_raise_the_revision(sessions, checklist):
    aid = review(sessions, checklist)
    revs = [change(sessions, aid) for _ in range(20)]
    assert revs == sorted(set(revs)) and len(revs) == 20  # every change a new revision
    assert refreshes(sessions) == [(f"refresh:{aid}", "pending", False)]


def test_a_change_covered_by_a_waiting_refresh_still_asks_for_a_sweep(sessions, checklist):
    """A sweep claiming while the change holds the waiting row passes it by (PostgreSQL skips a locked row), so
    the change asks for a sweep of its own rather than leaving the row to the next regular one."""
    aid = review(sessions, checklist)
    change(sessions, aid)
    assert refreshes(sessions) == [(f"refresh:{aid}", "pending", False)]
    with session_scope(sessions) as s:
        surfaces.changed(s, s.get(Assessment, aid))
        assert s.info.get(outbox.OWED) is True
    assert refreshes(sessions) == [(f"refresh:{aid}", "pending", False)]  # still one row


def test_a_change_while_a_worker_holds_the_refresh_sends_it_again_after(sessions, checklist):
    aid = review(sessions, checklist)
    change(sessions, aid)
    with session_scope(sessions) as s:
        [(row, _)] = outbox.claim_due(s, owner="w1", lease=timedelta(seconds=30), kinds=outbox.REFRESH_KINDS)
        row_id = row.id
    change(sessions, aid)  # a mark while w1 draws and posts
    assert refreshes(sessions) == [(f"refresh:{aid}", "sending", True)]
    with session_scope(sessions) as s:
        assert outbox.finish(s, row_id, "w1") == "pending"  # owed again, at once: the later change is shown
    assert refreshes(sessions) == [(f"refresh:{aid}", "pending", False)]
    with session_scope(sessions) as s:
        [(row, _)] = outbox.claim_due(s, owner="w2", lease=timedelta(seconds=30), kinds=outbox.REFRESH_KINDS)
        assert outbox.finish(s, row.id, "w1") == ""  # not w1's any more
        assert outbox.finish(s, row.id, "w2") == "sent"
    change(sessions, aid)
    assert refreshes(sessions) == [(f"refresh:{aid}", "pending", False)]  # a done refresh is owed again


def test_a_surface_never_goes_back_to_an_older_revision(sessions, checklist):
    aid = review(sessions, checklist)
    with session_scope(sessions) as s:
        surface = surfaces.register(s, TEAM, aid, PARENT, "parent", "C1", "1.0", rev=3, shown_hash="h3")
        sid = surface.id
    with session_scope(sessions) as s:
        assert surfaces.shown(s, sid, 5, "h5") is True
        assert surfaces.shown(s, sid, 4, "h4") is False  # drawn before the state shown now: refused
    with session_scope(sessions) as s:
        [surface] = surfaces.of_review(s, TEAM, aid)
        assert (surface.shown_rev, surface.shown_hash) == (5, "h5")
        surfaces.gone(s, sid, "message_not_found")
    with session_scope(sessions) as s:
        assert surfaces.of_review(s, TEAM, aid) == []  # a message Slack cannot edit is left alone


def test_recording_what_a_refresh_showed_and_ending_it_take_one_statement_each(sessions, engine, checklist):
    """The revision guard and the lease check are the statements' own conditions: no row is read first.
    A moment superseded keeps the first time it was."""
    aid = review(sessions, checklist)
    change(sessions, aid)
    with session_scope(sessions) as s:
        sid = surfaces.register(s, TEAM, aid, PARENT, "parent", "C1", "1.0", rev=1, shown_hash="h1").id
        [(row, _)] = outbox.claim_due(s, owner="w1", lease=timedelta(seconds=30), kinds=outbox.REFRESH_KINDS)
        row_id = row.id
    first = datetime(2026, 12, 1, 9, tzinfo=UTC)
    sent: list[str] = []

    def record(_conn, _cursor, statement: str, *_) -> None:
        sent.append(statement)

    with session_scope(sessions) as s:
        s.connection()  # the transaction's own BEGIN (and SQLite's clock read) are not the statements counted
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert surfaces.shown(s, sid, 2, "h2", superseded_at=first) is True
            assert outbox.finish(s, row_id, "w1") == "sent"
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert [q.split()[0].upper() for q in sent] == ["UPDATE", "UPDATE"], sent
    with session_scope(sessions) as s:
        assert surfaces.shown(s, sid, 3, "h3", superseded_at=first + timedelta(hours=1)) is True
        assert surfaces.shown(s, sid, 2, "h2") is False
    with session_scope(sessions) as s:
        shown = s.get(Surface, sid)
        assert (shown.shown_rev, shown.shown_hash, shown.superseded_at) == (3, "h3", first)


def test_a_change_keeps_current_the_homes_of_the_reviews_people_and_of_anyone_who_just_opened_theirs(
        sessions, checklist):
    """Its lead and approvers who opened their Home in the last two weeks, and anyone in the last half hour;
    not someone else who opened theirs two days ago."""
    aid = review(sessions, checklist)  # led by U1
    with session_scope(sessions) as s:
        now = db_now(s)
        s.add(Approver(team_id=TEAM, assessment_id=aid, role="quality", user_id="U_APPROVER"))
        for user, opened in (("U1", now - timedelta(days=2)), ("U_APPROVER", now - timedelta(days=2)),
                             ("U_OTHER", now - timedelta(days=2)), ("U_JUST_NOW", now - timedelta(minutes=5))):
            surfaces.home_opened(s, TEAM, user, opened)
    change(sessions, aid)
    with session_scope(sessions) as s:
        homes = set(s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == outbox.HOME_REFRESH)))
    assert homes == {"U1", "U_APPROVER", "U_JUST_NOW"}


def test_an_app_home_published_is_recorded_in_one_statement_first_time_or_not(sessions, engine):
    sent: list[str] = []

    def record(_conn, _cursor, statement: str, *_) -> None:
        sent.append(statement)

    for digest in ("h1", "h2"):
        with session_scope(sessions) as s:
            ensure_workspace(s, TEAM)
            s.connection()
            event.listen(engine, "before_cursor_execute", record)
            try:
                surfaces.home_shown(s, TEAM, "U_HOME", digest)
            finally:
                event.remove(engine, "before_cursor_execute", record)
    assert [q.split()[0].upper() for q in sent] == ["INSERT", "INSERT"], sent
    with session_scope(sessions) as s:
        home = surfaces.home_of(s, TEAM, "U_HOME")
        assert home is not None and home.shown_hash == "h2"
        assert len(list(s.scalars(select(Surface).where(Surface.channel_id == "U_HOME")))) == 1
