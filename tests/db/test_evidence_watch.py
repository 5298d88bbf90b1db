"""Watch-list lines with a metric and a threshold, checked against evidence pushed during the first week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.evidence import Direction, evidence_from_data
from bot.core.reminder_plan import ReminderPolicy
from bot.db import session_scope
from bot.services import golive
from bot.services.assessments import StartRequest, start_assessment
from bot.services.errors import ServiceError
from models import GoLive, OutboxMessage
from tests.conftest import allow_golive_before_signoff

TEAM = "T001"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("line", "metric", "threshold", "direction"), [
    ("task_success_rate >= 0.90", "task_success_rate", 0.90, Direction.HIGHER),
    ("task_success_rate>=90%", "task_success_rate", 0.90, Direction.HIGHER),
    ("latency_p95_end_to_end <= 2500", "latency_p95_end_to_end", 2500, Direction.LOWER),
    ("latency_p99_end_to_end ≤ 6 s", "latency_p99_end_to_end", 6000, Direction.LOWER),
    ("major_failure_rate:timeout <= 0.01", "major_failure_rate:timeout", 0.01, Direction.LOWER),
])
def test_watch_rules_are_read_from_lines(line, metric, threshold, direction):
    rule = golive.watch_rule(line)
    assert rule is not None and (rule.metric, rule.direction) == (metric, direction)
    assert rule.threshold == pytest.approx(threshold)


@pytest.mark.parametrize("line", ["jp-support task success", "p99 latency > 6 s", "escalation rate <= 8%"])
def test_plain_watch_items_are_not_rules(line):
    assert golive.watch_rule(line) is None


@pytest.mark.parametrize(("line", "why"), [
    ("escalation_rate >= 0.1", "lower is better"),
    ("task_sucess_rate >= 0.9", "not a known metric"),
    ("task_success_rate >= 1.5", "a rate"),
    ("latency_p95_model <= 50%", "a latency"),
    ("task_success_rate >= high", "write a metric"),
])
def test_bad_rule_lines_say_what_is_wrong(line, why):
    with pytest.raises(ValueError, match=why):
        golive.watch_rule(line)
    plan = golive.MonitoringPlan(alerts="a", cadence="b", escalation_owner="U_OPS", watch_items=[line])
    assert why in plan.errors()["watch_items"]


def _go_live(sessions, checklist, items: list[str]) -> int:
    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="2.0",
                                                        started_by="U_LEAD", channel_id="C_REV",
                                                        release_channel_id="C_REL"))
        allow_golive_before_signoff(s, TEAM)
        plan = golive.MonitoringPlan(alerts="a", cadence="daily", escalation_owner="U_OPS", watch_items=items)
        return golive.record_golive(s, TEAM, a.id, actor="U_LEAD", plan=plan, now=NOW,
                                    policy=ReminderPolicy()).id


def _set(values: dict[str, float]):
    rows = [{"cohort": c, "metric": "task_success_rate", "value": v, "n": 500} for c, v in values.items()]
    return evidence_from_data({"system": "copilot", "version": "2.0", "rows": rows})


def _breach_rows(sessions) -> list[OutboxMessage]:
    with session_scope(sessions) as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == golive.BREACH)
                              .order_by(OutboxMessage.id)))


def test_breaches_during_the_watch_are_queued_once_for_the_channel_and_the_owner(sessions, checklist):
    gid = _go_live(sessions, checklist, ["refund answers", "task_success_rate >= 0.90"])
    with session_scope(sessions) as s:
        assert s.get(GoLive, gid).watch_rules == [
            {"metric": "task_success_rate", "threshold": 0.9, "direction": "higher"}]
        assert golive.check_evidence(s, TEAM, _set({"eu": 0.85, "us": 0.95}), 1, NOW + timedelta(days=1)) == 1
        assert golive.check_evidence(s, TEAM, _set({"eu": 0.84, "us": 0.95}), 2, NOW + timedelta(days=2)) == 0
        assert golive.check_evidence(s, TEAM, _set({"eu": 0.84, "jp": 0.80}), 3, NOW + timedelta(days=3)) == 1
        assert golive.check_evidence(s, TEAM, _set({"kr": 0.10}), 4, NOW + timedelta(days=8)) == 0  # after the week
        assert golive.check_evidence(s, TEAM, _set({"kr": 0.10}), 5, NOW - timedelta(hours=1)) == 0  # before it
    rows = _breach_rows(sessions)
    assert [(r.recipient, r.payload["count"]) for r in rows] == [("C_REL", 1), ("U_OPS", 1), ("C_REL", 1),
                                                                 ("U_OPS", 1)]
    assert [b["cohort"] for b in rows[2].payload["breaches"]] == ["jp"]


def test_a_watch_without_rules_checks_nothing(sessions, checklist):
    _go_live(sessions, checklist, ["refund answers"])
    with session_scope(sessions) as s:
        assert golive.check_evidence(s, TEAM, _set({"eu": 0.1}), 1, NOW + timedelta(days=1)) == 0
    with pytest.raises(ServiceError, match="a rate"), session_scope(sessions) as s:
        golive.record_golive(s, TEAM, 1, actor="U", now=NOW, policy=ReminderPolicy(), plan=golive.MonitoringPlan(
            alerts="a", cadence="b", escalation_owner="U_OPS", watch_items=["task_success_rate >= 2"]))
    assert _breach_rows(sessions) == []


def test_a_closed_review_is_no_longer_watched(sessions, checklist):
    from bot.services.marks import close_review

    gid = _go_live(sessions, checklist, ["task_success_rate >= 0.9"])
    with session_scope(sessions) as s:
        close_review(s, TEAM, s.get(GoLive, gid).assessment_id, actor="U_LEAD", now=NOW)
    with session_scope(sessions) as s:
        assert golive.check_evidence(s, TEAM, _set({"eu": 0.1}), 1, NOW + timedelta(days=1)) == 0
