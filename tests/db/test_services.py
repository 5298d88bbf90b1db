"""Assessment use cases on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.checklist import Mark, Verdict
from bot.db import session_scope
from bot.services.assessments import (
    MarkRequest,
    StartRequest,
    get_assessment,
    history,
    scorecard,
    start_assessment,
)
from bot.services.errors import MarkRejected, NotFound, ServiceError
from bot.services.marks import record_mark
from models import ItemMark, MarkChange

TEAM, OTHER = "T001", "T002"
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def start(sessions, checklist, team=TEAM, **kw) -> int:
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=team, system=kw.get("system", "copilot"),
                                                         version=kw.get("version", "1.0"), started_by="U_LEAD",
                                                         baseline_id=kw.get("baseline_id")))
        return a.id


def mark(sessions, assessment_id, item_id, m, team=TEAM, actor="U1", **kw):
    with session_scope(sessions) as s:
        return record_mark(s, team, assessment_id, MarkRequest(item_id=item_id, mark=m, **kw),
                           actor=actor, today=TODAY, now=kw.pop("now", NOW))


def count_changes(sessions) -> int:
    with session_scope(sessions) as s:
        return s.scalar(select(func.count()).select_from(MarkChange)) or 0


def test_start_creates_an_unmarked_assessment_with_its_checklist(sessions, checklist):
    aid = start(sessions, checklist)
    with session_scope(sessions) as s:
        a = get_assessment(s, TEAM, aid)
        assert (a.checklist_version, a.checklist_hash) == (checklist.version, checklist.content_hash)
        assert len(a.marks) == 22 and all(m.mark is None for m in a.marks)
        card = scorecard(s, TEAM, aid)
    assert card.verdict is Verdict.INCOMPLETE and len(card.unmarked) == 22


def test_start_refuses_blank_names_and_foreign_baselines(sessions, checklist):
    with pytest.raises(ServiceError), session_scope(sessions) as s:
        start_assessment(s, checklist, StartRequest(team_id=TEAM, system="  ", version="1", started_by="U"))
    other = start(sessions, checklist, system="other-system")
    with pytest.raises(ServiceError, match="not of copilot"):
        start(sessions, checklist, baseline_id=other)
    foreign = start(sessions, checklist, team=OTHER)
    with pytest.raises(NotFound):
        start(sessions, checklist, baseline_id=foreign)


def test_record_mark_scores_and_keeps_history(sessions, checklist):
    aid = start(sessions, checklist)
    out = mark(sessions, aid, "s16", Mark.PARTIAL, owner="U_OWNER", due=TODAY + timedelta(days=5), note="half done")
    assert out.changed and out.became_blocker and out.after.blockers == ["s16"]
    out = mark(sessions, aid, "s16", Mark.NO, evidence="https://runbook.example/rollback", reason="rehearsed")
    assert out.changed and out.cleared_blocker
    assert out.current.owner is None and out.current.due is None
    with session_scope(sessions) as s:
        rows = history(s, TEAM, aid)
    assert [(r.item_id, r.from_mark, r.to_mark, r.reason) for r in rows] == [
        ("s16", None, "partial", None), ("s16", "partial", "no", "rehearsed"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mark": Mark.NO}, "evidence"),
        ({"mark": Mark.NO, "evidence": "   "}, "evidence"),
        ({"mark": Mark.YES, "due": TODAY}, "owner"),
        ({"mark": Mark.PARTIAL, "owner": "U2"}, "due"),
        ({"mark": Mark.YES, "owner": "U2", "due": TODAY - timedelta(days=2)}, "due"),
        ({"mark": Mark.NO, "evidence": "x" * 2001}, "evidence"),
    ],
)
def test_rejected_marks_change_nothing(sessions, checklist, kwargs, field):
    aid = start(sessions, checklist)
    with pytest.raises(MarkRejected) as info:
        args = dict(kwargs)
        mark(sessions, aid, "s3", args.pop("mark"), **args)
    assert field in info.value.errors
    assert count_changes(sessions) == 0
    with session_scope(sessions) as s:
        assert scorecard(s, TEAM, aid).marked == 0


def test_unknown_item_is_rejected(sessions, checklist):
    aid = start(sessions, checklist)
    with pytest.raises(MarkRejected) as info:
        mark(sessions, aid, "s99", Mark.NO, evidence="x")
    assert "item" in info.value.errors


def test_the_same_mark_twice_is_one_change(sessions, checklist):
    aid = start(sessions, checklist)
    first = mark(sessions, aid, "s2", Mark.NO, evidence="https://e.example")
    second = mark(sessions, aid, "s2", Mark.NO, evidence="https://e.example")
    assert first.changed and not second.changed
    assert count_changes(sessions) == 1


def test_another_workspace_cannot_see_or_mark(sessions, checklist):
    aid = start(sessions, checklist)
    with pytest.raises(NotFound):
        mark(sessions, aid, "s2", Mark.NO, team=OTHER, evidence="x")
    with pytest.raises(NotFound), session_scope(sessions) as s:
        scorecard(s, OTHER, aid)


def test_completing_every_item_gives_a_final_verdict(sessions, checklist):
    aid = start(sessions, checklist)
    for item_id in checklist.item_ids:
        out = mark(sessions, aid, item_id, Mark.NO, evidence=f"proof for {item_id}")
    assert out.completed and out.after.verdict is Verdict.GO
    with session_scope(sessions) as s:
        assert get_assessment(s, TEAM, aid).status == "complete"


def test_concurrent_marks_on_one_item_both_land_and_the_later_wins(sessions, checklist):
    aid = start(sessions, checklist)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(actor: str, evidence: str) -> None:
        try:
            barrier.wait()
            mark(sessions, aid, "s7", Mark.NO, actor=actor, evidence=evidence)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"U{i}", f"evidence {i}")) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(sessions) as s:
        changes = history(s, TEAM, aid)
        current = s.scalar(select(ItemMark).where(ItemMark.assessment_id == aid, ItemMark.item_id == "s7"))
    assert len(changes) == 2
    assert [c.revision for c in changes] == [1, 2]
    assert current is not None and current.revision == 2
    assert current.evidence == changes[-1].evidence and current.marked_by == changes[-1].changed_by


def test_proposals_waiting_for_a_lead_are_counted_only_when_more_exist_than_are_shown(sessions, checklist, engine):
    from sqlalchemy import event

    from bot.services import due_dates
    from models import DueProposal

    aid = start(sessions, checklist)
    with session_scope(sessions) as s:
        for n in range(5):
            s.add(DueProposal(team_id=TEAM, assessment_id=aid, item_id=f"s{n + 1}", proposer="U_OWNER", lead="U_LEAD",
                              was=date(2026, 12, 1), due=date(2026, 12, 8 + n)))
    sent: list[str] = []

    def record(_conn, _cursor, statement: str, *_) -> None:
        sent.append(statement)

    with session_scope(sessions) as s:
        s.connection()
        event.listen(engine, "before_cursor_execute", record)
        try:
            shown, total = due_dates.waiting_for(s, TEAM, "U_LEAD", 8)
            assert (len(shown), total, len(sent)) == (5, 5, 1)  # all of them on the page: no count
            shown, total = due_dates.waiting_for(s, TEAM, "U_LEAD", 3)
            assert (len(shown), total, len(sent)) == (3, 5, 3)  # a full page: the rest counted
            assert [p.item_id for p in shown] == ["s1", "s2", "s3"]  # oldest first
        finally:
            event.remove(engine, "before_cursor_execute", record)
