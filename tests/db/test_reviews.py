"""Read models: open gaps (overdue first, only the owner's, only open reviews) and review rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.core.checklist import Mark
from bot.db import session_scope
from bot.services.assessments import MarkRequest, StartRequest, get_assessment, start_assessment
from bot.services.marks import record_mark
from bot.services.reviews import claim_interaction, item_status, open_gaps_for, review_rows

TEAM = "T001"
TODAY = date(2026, 11, 27)


def test_open_gaps_put_overdue_first_and_skip_other_owners_and_closed_reviews(sessions, checklist):
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="1", started_by="U0"))
        b = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="search", version="2", started_by="U0"))
        plan = [(a.id, "s1", TODAY + timedelta(days=9)), (a.id, "s2", TODAY + timedelta(days=1)),
                (b.id, "s3", TODAY + timedelta(days=3)), (b.id, "s4", TODAY)]
        for aid, item, due in plan:
            record_mark(s, TEAM, aid, MarkRequest(item_id=item, mark=Mark.YES, owner="U_ME", due=due),
                        actor="U0", today=TODAY)
        record_mark(s, TEAM, a.id, MarkRequest(item_id="s5", mark=Mark.PARTIAL, owner="U_OTHER", due=TODAY),
                    actor="U0", today=TODAY)
        ids = (a.id, b.id)
    # three days later s4 (due today) and s2 (due tomorrow) are overdue
    later = TODAY + timedelta(days=3)
    with session_scope(sessions) as s:
        gaps = open_gaps_for(s, TEAM, "U_ME", later)
        assert [(g.item_id, g.overdue) for g in gaps] == [("s4", True), ("s2", True), ("s3", False), ("s1", False)]
        get_assessment(s, TEAM, ids[1]).status = "closed"
    with session_scope(sessions) as s:
        assert [g.item_id for g in open_gaps_for(s, TEAM, "U_ME", later)] == ["s2", "s1"]
        assert open_gaps_for(s, "T_OTHER", "U_ME", later) == []
        rows = review_rows(s, TEAM, active_only=True)
        assert [r.label for r in rows] == ["copilot 1"]


def test_item_status_reads_one_item(sessions, checklist):
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="1", started_by="U0"))
        record_mark(s, TEAM, a.id, MarkRequest(item_id="s9", mark=Mark.NO, evidence="grounded mode"),
                    actor="U7", today=TODAY, now=now)
        got_checklist, status = item_status(s, TEAM, a.id, "s9")
    assert got_checklist.content_hash == checklist.content_hash
    assert (status.mark, status.evidence, status.marked_by, status.marked_at) == (Mark.NO, "grounded mode", "U7", now)


def test_claims_are_once_per_key_and_per_workspace(sessions):
    with session_scope(sessions) as s:
        assert claim_interaction(s, TEAM, "view:V1:h1", "mark") is True
        assert claim_interaction(s, TEAM, "view:V1:h1", "mark") is False
        assert claim_interaction(s, "T002", "view:V1:h1", "mark") is True
    with session_scope(sessions) as s:
        assert claim_interaction(s, TEAM, "view:V1:h1", "mark") is False


def test_a_claim_is_one_insert_and_two_workers_claiming_one_delivery_at_once_get_it_once(sessions, engine):
    """The claim inserts its key or, when the key is there (a retry, or the same delivery in another worker's
    transaction, which the insert waits for), nothing: one statement, no look-up or savepoint around it."""
    import threading

    from sqlalchemy import event

    with session_scope(sessions) as s:
        claim_interaction(s, TEAM, "view:V0:h0", "mark")  # the workspace exists from here on
    sent: list[str] = []

    def record(_conn, _cursor, statement: str, *_) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope(sessions) as s:
            assert claim_interaction(s, TEAM, "view:V1:h1", "mark") is True
    finally:
        event.remove(engine, "before_cursor_execute", record)
    claims = [q for q in sent if "processed_interactions" in q]
    assert len(claims) == 1 and claims[0].lstrip().upper().startswith("INSERT"), sent

    first = sessions()
    got: list[bool] = []
    try:
        assert claim_interaction(first, TEAM, "view:V2:h2", "mark") is True  # not committed yet
        other = threading.Thread(target=lambda: got.append(_claim_in_own_session(sessions, "view:V2:h2")))
        other.start()
        other.join(0.5)
        assert other.is_alive()  # it waits for the first worker's transaction
        first.commit()
        other.join(10)
    finally:
        first.close()
    assert got == [False]


def _claim_in_own_session(sessions, key: str) -> bool:
    with session_scope(sessions) as s:
        return claim_interaction(s, TEAM, key, "mark")


def test_old_delivery_keys_are_pruned(sessions):
    from bot.services.reviews import prune_interactions
    from models import ProcessedInteraction

    with session_scope(sessions) as s:
        claim_interaction(s, TEAM, "view:old:h", "mark")
        claim_interaction(s, TEAM, "view:new:h", "mark")
        old = s.scalar(select(ProcessedInteraction).where(ProcessedInteraction.key == "view:old:h"))
        old.created_at = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(sessions) as s:
        assert prune_interactions(s, datetime(2026, 6, 1, tzinfo=UTC)) == 1
        assert claim_interaction(s, TEAM, "view:new:h", "mark") is False


def test_locking_a_review_does_not_wait_for_a_row_that_points_at_it(sessions, engine, checklist):
    """A transaction that has just written a row pointing at a review (an outbox row, as a refresh owes)
    holds a key-share lock on the review's row until it commits. A writer locking the review must not wait
    for it: waiting there is how a mark and a refresh in flight deadlocked each other on PostgreSQL."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite locks the whole database: there are no row locks to order")

    from bot.services.outbox import enqueue

    with session_scope(sessions) as s:
        review_id = start_assessment(
            s, checklist, StartRequest(team_id=TEAM, system="copilot", version="1", started_by="U0")).id
    pointing = sessions()
    try:
        enqueue(pointing, TEAM, dedupe_key="refresh:lock-test", kind="review_refresh", recipient="-",
                due_at=datetime(2026, 11, 27, tzinfo=UTC), assessment_id=review_id)
        pointing.flush()  # the foreign key is checked now: KEY SHARE on the review's row, held until commit
        with session_scope(sessions) as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))
            locked = get_assessment(s, TEAM, review_id, lock=True)  # raised LockNotAvailable with FOR UPDATE
            assert locked.id == review_id
    finally:
        pointing.rollback()
        pointing.close()
