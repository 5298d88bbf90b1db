"""Each interaction runs as many SQL statements with 30 reviews as with one: no read grows with the data.

Two workspaces in one database: one with a single review, one with 30, the same person owning gaps in every
review of both (more than any screen shows). Every interaction the people of a workspace have is run in each
through the service functions its handler calls, counting the statements sent to the database. And the
scorecards the lists keep per review revision (what makes a longer list cost no more reads) are never stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.checklist import Checklist, Mark
from bot.core.marking import earliest_today
from bot.core.reminder_plan import ReminderPolicy
from bot.core.scoring import Verdict
from bot.db import session_scope
from bot.services import gate, home, outbox, packets, people, reviews, waivers
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.marks import record_mark
from handlers.blocks.home import home_view
from models import OutboxMessage

ONE, MANY = "T_ONE", "T_MANY"
LEAD, OWNER = "U_LEAD", "U_OWNER"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TODAY = earliest_today(NOW)
GAP_ITEMS = (0, 3, 7)  # gaps per review: 30 reviews make 90, more than the App Home or `gaps` shows
CONTROL_ITEMS = (1, 2, 4)


def _seed(sessions: sessionmaker[Session], checklist: Checklist, team_id: str, reviews_: int) -> tuple[int, int]:
    """``reviews_`` reviews in ``team_id`` (of svc-0 1.0, svc-1 1.1, ...), each with gaps owned by OWNER;
    returns the newest review's id and number."""
    items = checklist.item_ids
    newest = 0
    with session_scope(sessions) as s:
        for n in range(reviews_):
            a = start_assessment(s, checklist, StartRequest(team_id=team_id, system=f"svc-{n}", version=f"1.{n}",
                                                            started_by=LEAD, channel_id="C_REVIEW"))
            for k, i in enumerate(GAP_ITEMS):
                record_mark(s, team_id, a.id, MarkRequest(items[i], Mark.YES if k % 2 else Mark.PARTIAL, owner=OWNER,
                                                          due=TODAY + timedelta(days=k + n), note="missing"),
                            actor=LEAD, today=TODAY, now=NOW)
            for i in CONTROL_ITEMS:
                record_mark(s, team_id, a.id, MarkRequest(items[i], Mark.NO, evidence="https://runbook"),
                            actor=LEAD, today=TODAY, now=NOW)
            newest = a.id
    return newest, reviews_ - 1


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _interactions(sessions: sessionmaker[Session], checklist: Checklist, team_id: str,
                  seeded: tuple[int, int]) -> dict[str, Callable[[], Any]]:
    newest, number = seeded
    item = checklist.item_ids[GAP_ITEMS[1]]
    marks = iter(range(100))

    def desk() -> Any:
        with session_scope(sessions) as s:
            return home.desk(s, team_id, OWNER, NOW)

    def status() -> Any:
        with session_scope(sessions) as s:
            return reviews.review_rows(s, team_id, limit=1)

    def listing() -> Any:
        with session_scope(sessions) as s:
            return reviews.review_rows(s, team_id, limit=20)

    def gaps() -> Any:
        with session_scope(sessions) as s:
            return (reviews.open_gaps_for(s, team_id, OWNER, TODAY, limit=reviews.GAPS_LISTED),
                    reviews.count_open_gaps(s, team_id, OWNER, up_to=reviews.GAPS_COUNTED + 1))

    def click() -> Any:
        with session_scope(sessions) as s:
            return (reviews.item_status(s, team_id, newest, item), people.timezone_of(s, team_id, OWNER),
                    reviews.live_decisions(s, team_id, newest))

    def submit() -> Any:
        n = next(marks)  # a new due date each time: a real change (a repeated mark is a no-op and would hide reads)
        with session_scope(sessions) as s:
            assert reviews.claim_interaction(s, team_id, f"view:{team_id}:{n}", "mark")
            outcome = record_mark(s, team_id, newest, MarkRequest(item, Mark.YES, owner=OWNER,
                                                                  due=TODAY + timedelta(days=20 + n),
                                                                  note="still missing"),
                                  actor=OWNER, today=TODAY, now=NOW)
            assert outcome.changed
            return outcome

    def gate_query() -> Any:
        with session_scope(sessions) as s:
            return gate.evaluate(s, team_id, f"svc-{number}", f"1.{number}", {Verdict.GO}, actor="ci")

    def packet() -> Any:
        with session_scope(sessions) as s:
            return packets.generate(s, team_id, newest, actor=OWNER, now=NOW)

    def sweep() -> Any:
        with session_scope(sessions) as s:
            outbox.claim_due(s, owner="test", lease=timedelta(seconds=30), limit=100)
            outbox.reap_expired_leases(s)
            return waivers.expire_due(s, NOW)

    return {"App Home (desk)": desk, "/readiness status": status, "/readiness list": listing,
            "/readiness gaps": gaps, "mark click": click, "mark submission": submit, "gate": gate_query,
            "packet": packet, "sweep": sweep}


def test_no_interaction_runs_more_statements_with_more_reviews(engine, sessions, checklist, monkeypatch):
    seeded = {ONE: _seed(sessions, checklist, ONE, 1), MANY: _seed(sessions, checklist, MANY, 30)}
    runs = {team: _interactions(sessions, checklist, team, seeded[team]) for team in (ONE, MANY)}
    counted: dict[str, dict[str, int]] = {}
    for name in runs[ONE]:
        for team in (ONE, MANY):
            runs[team][name]()  # the first run fills what a process keeps (parsed checklists)
            with _counting(engine) as statements:
                runs[team][name]()
            counted.setdefault(name, {})[team] = len(statements)
    grown = {name: c for name, c in counted.items() if c[MANY] > c[ONE]}
    assert not grown, f"statements grow with the reviews (1 review vs 30): {grown}"
    assert all(c[ONE] > 0 for c in counted.values()), counted  # each interaction was counted at all

    # what keeps them flat: the gaps are read as far as shown, and counted as far as a screen says
    with session_scope(sessions) as s:
        shown = reviews.open_gaps_for(s, MANY, OWNER, TODAY, limit=reviews.GAPS_LISTED)
        every = reviews.open_gaps_for(s, MANY, OWNER, TODAY)
        assert len(every) == 90 and shown == every[: reviews.GAPS_LISTED]
        assert reviews.count_open_gaps(s, MANY, OWNER) == 90
        assert reviews.count_open_gaps(s, MANY, OWNER, up_to=50) == 50
        desk = home.desk(s, MANY, OWNER, NOW)
        assert desk.gaps_total == 90 and not desk.gaps_over
        assert len(desk.gaps) == home.SHOWN and not desk.overdue
        assert desk.reviews_total == 30 and len(desk.reviews) == home.REVIEWS_SHOWN
        monkeypatch.setattr(reviews, "GAPS_COUNTED", 90)  # exactly as many as there are: counted, not "over"
        desk = home.desk(s, MANY, OWNER, NOW)
        assert (desk.gaps_total, desk.gaps_over) == (90, False)
        monkeypatch.setattr(reviews, "GAPS_COUNTED", 89)
        desk = home.desk(s, MANY, OWNER, NOW)
        assert (desk.gaps_total, desk.gaps_over) == (89, True)
        assert "…and over 81 more" in json.dumps(home_view(desk), ensure_ascii=False)


def test_a_kept_scorecard_is_never_one_the_marks_have_left(sessions, checklist):
    """Lists keep each review's scorecard by its revision: a mark shows at once, a waiver too, and a change
    rolled back leaves nothing behind."""
    newest, _ = _seed(sessions, checklist, ONE, 1)
    item = checklist.item_ids[GAP_ITEMS[0]]

    def card() -> Any:
        with session_scope(sessions) as s:
            return reviews.review_rows(s, ONE, limit=1)[0].card

    before = card()
    assert card() == before  # kept
    with session_scope(sessions) as s:
        record_mark(s, ONE, newest, MarkRequest(item, Mark.NO, evidence="https://fixed"), actor=LEAD, today=TODAY,
                    now=NOW)
        seen_inside = reviews.review_rows(s, ONE, limit=1)[0].card  # the transaction's own, uncommitted change
    after = card()
    assert after != before and after == seen_inside and after.marked == before.marked

    s = sessions()
    record_mark(s, ONE, newest, MarkRequest(item, Mark.YES, owner=OWNER, due=TODAY + timedelta(days=3), note="x"),
                actor=LEAD, today=TODAY, now=NOW)
    rolled_back = reviews.review_rows(s, ONE, limit=1)[0].card
    assert rolled_back != after
    s.rollback()
    s.close()
    assert card() == after  # what was rolled back was never kept...
    with session_scope(sessions) as s:  # ...so the next change, at the revision it had, shows as itself
        record_mark(s, ONE, newest, MarkRequest(item, Mark.PARTIAL, owner=OWNER, due=TODAY + timedelta(days=3),
                                                note="x"), actor=LEAD, today=TODAY, now=NOW)
    assert card().score != rolled_back.score and card().score == after.score + 1


def test_a_gaps_reminders_take_as_many_statements_however_many_are_planned(engine, sessions, checklist):
    """A mark that hands a gap to someone new plans every reminder afresh. They are written in the same number of
    statements whether the plan has a few rows or three times as many (one SELECT of the keys, one INSERT),
    not a SELECT, SAVEPOINT, INSERT and RELEASE each."""
    newest, _ = _seed(sessions, checklist, ONE, 1)
    item = checklist.item_ids[GAP_ITEMS[1]]
    owners = (f"U_NEW{n}" for n in range(10))

    def hand_over(horizon_days: int) -> tuple[int, int]:
        owner = next(owners)
        with _counting(engine) as statements, session_scope(sessions) as s:
            record_mark(s, ONE, newest, MarkRequest(item, Mark.YES, owner=owner, due=TODAY + timedelta(days=4),
                                                    note="handed over"),
                        actor=LEAD, today=TODAY, now=NOW, policy=ReminderPolicy(horizon_days=horizon_days))
        with session_scope(sessions) as s:
            planned = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.team_id == ONE, OutboxMessage.item_id == item, OutboxMessage.status == "pending",
                OutboxMessage.payload["owner"].as_string() == owner))
        return planned, len(statements)

    hand_over(3)  # the first fills what a process keeps
    (few, few_statements), (many, many_statements) = hand_over(3), hand_over(14)
    assert few > 0 and many >= few + 5, (few, many)
    assert many_statements == few_statements, f"{few} rows: {few_statements} statements, {many}: {many_statements}"
