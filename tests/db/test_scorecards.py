"""Scorecards of review lines (`/readiness status`, `list`): drawn once per state revision in reads, and drawn
again after every mark, waiver or waiver expiry, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from bot.core.checklist import Mark
from bot.db import session_factory, session_scope
from bot.services import signoff, waivers
from bot.services.assessments import MarkRequest, StartRequest, start_assessment
from bot.services.marks import record_mark
from bot.services.reviews import review_rows

TEAM = "T001"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
DUE = date(2026, 12, 10)


class Statements:
    """The SQL statements run on an engine, to see which tables a read touched."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(statement.lower())

    def touching(self, table: str) -> int:
        return sum(1 for s in self.seen if f"from {table}" in s or f"join {table}" in s)


def test_a_line_reuses_its_card_until_a_mark_or_a_waiver_or_its_expiry_changes_it(engine, checklist):
    clock = {"now": NOW}
    sessions = session_factory(engine, clock=lambda: clock["now"])
    reads = session_factory(engine, readonly=True, clock=lambda: clock["now"])

    def line():  # type: ignore[no-untyped-def]
        with session_scope(reads) as s:
            (row,) = review_rows(s, TEAM, limit=1)
        return row.card

    def mark(item_id: str, m: Mark) -> None:
        kw = {"evidence": f"proof {item_id}"} if m is Mark.NO else {"owner": "U_ENG", "due": DUE}
        with session_scope(sessions) as s:
            record_mark(s, TEAM, aid, MarkRequest(item_id=item_id, mark=m, **kw), actor="U_ENG", today=TODAY,
                        now=clock["now"])

    with session_scope(sessions) as s:
        aid = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="2.0",
                                                          started_by="U_LEAD")).id
    statements = Statements(engine)
    assert line().marked == 0
    assert statements.touching("item_marks") == 1
    assert line().marked == 0
    assert statements.touching("item_marks") == 1, "the same revision drew its card again"

    mark("s14", Mark.YES)
    card = line()
    assert (card.marked, card.blockers) == (1, ["s14"])
    assert statements.touching("item_marks") > 1

    with session_scope(sessions) as s:
        signoff.name_approvers(s, TEAM, aid, {"quality": "U_Q", "policy": "U_P", "operations": "U_O"},
                               actor="U_LEAD")
        waivers.grant(s, TEAM, aid, "s14", user="U_P", reason="fix lands Monday", expires_on=TODAY + timedelta(days=3),
                      now=clock["now"])
    card = line()
    assert (card.blockers, card.waived_blockers) == ([], ["s14"])
    assert line() == card

    clock["now"] = NOW + timedelta(days=5)  # the waiver ran out; nothing has ended it yet
    card = line()
    assert (card.blockers, card.waived_blockers) == (["s14"], [])


def test_each_database_has_its_own_cards(engine, checklist, tmp_path):
    from bot.db import make_engine, upgrade

    other = make_engine(f"sqlite:///{tmp_path}/other.db")
    upgrade(other)
    try:
        for eng, with_mark in ((engine, True), (other, False)):
            with session_scope(session_factory(eng)) as s:
                aid = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="2.0",
                                                                  started_by="U_LEAD")).id
                if with_mark:
                    record_mark(s, TEAM, aid, MarkRequest(item_id="s1", mark=Mark.NO, evidence="proof"),
                                actor="U_ENG", today=TODAY, now=NOW)
        marked = []
        for eng in (engine, other):
            with session_scope(session_factory(eng, readonly=True)) as s:
                marked.append(review_rows(s, TEAM, limit=1)[0].card.marked)
        assert marked == [1, 0]
    finally:
        other.dispose()
