"""Evidence services on SQLite and PostgreSQL: pushing, policies, baselines, the gate, suggestions, the packet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.checklist import Mark, Verdict
from bot.core.evidence import evidence_from_data, load_evidence, parse_policy
from bot.db import session_scope
from bot.services import evidence, policies
from bot.services.assessments import MarkRequest, StartRequest, get_assessment, start_assessment
from bot.services.errors import ServiceError
from bot.services.gate import evaluate
from bot.services.marks import record_mark
from bot.services.reviews import load_review
from models import AuditEvent, EvidenceRecord, MarkSuggestion, OutboxMessage
from tests.conftest import allow_golive_before_signoff

TEAM, OTHER = "T001", "T002"
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SAMPLES = Path(__file__).parents[2] / "bot" / "samples" / "evidence"
POLICY = """
id: noise-test
version: "1"
min_sample: 100
rules:
  - metric: task_success_rate
    floor: 0.80
    max_regression: {absolute: 0.02}
"""


def rate(cohort: str, value: float, n: int, metric: str = "task_success_rate") -> dict[str, Any]:
    return {"cohort": cohort, "metric": metric, "value": round(value * n) / n, "n": n, "count": round(value * n)}


def evidence_set(version: str, rows: list[dict[str, Any]], system: str = "copilot"):
    return evidence_from_data({"system": system, "version": version, "rows": rows})


def start(sessions, checklist, system="copilot", version="2.0", team=TEAM, baseline_id=None, channel="C1") -> int:
    with session_scope(sessions) as s:
        return start_assessment(s, checklist, StartRequest(team_id=team, system=system, version=version,
                                                           started_by="U_LEAD", channel_id=channel,
                                                           baseline_id=baseline_id)).id


def mark(sessions, aid, item_id, m=Mark.NO, team=TEAM, **kw):
    if m is Mark.NO:
        kw.setdefault("evidence", "proof")
    else:
        kw.setdefault("owner", "U_OWNER")
        kw.setdefault("due", TODAY + timedelta(days=5))
    with session_scope(sessions) as s:
        return record_mark(s, team, aid, MarkRequest(item_id=item_id, mark=m, **kw), actor="U1", today=TODAY,
                           now=NOW)


def mark_all_no(sessions, checklist, aid):
    for item_id in checklist.item_ids:
        mark(sessions, aid, item_id)


def push(sessions, data, team=TEAM, **kw):
    with session_scope(sessions) as s:
        return evidence.push(s, team, data, actor="test", **kw)


def store_policy(sessions, text=POLICY, team=TEAM, system=None):
    with session_scope(sessions) as s:
        return policies.store(s, team, parse_policy(text), system=system, actor="test")


def cohort_reasons(sessions, system="copilot", version="2.0") -> tuple[list[str], Any]:
    with session_scope(sessions) as s:
        result = evaluate(s, TEAM, system, version, {Verdict.GO}, actor="test")
    return [r for r in result.reasons if r.startswith("cohort")], result.cohort


# -- pushing ---------------------------------------------------------------------------------------


def test_a_set_is_stored_once_per_content_and_per_workspace(sessions):
    data = load_evidence(SAMPLES / "candidate.json")
    first = push(sessions, data)
    again = push(sessions, load_evidence(SAMPLES / "candidate.csv"))  # the same rows as CSV
    other = push(sessions, data, team=OTHER)
    assert not first.duplicate and again.duplicate and again.evidence_id == first.evidence_id and again.current
    assert not other.duplicate and other.evidence_id != first.evidence_id
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 2
        assert [e.action for e in s.scalars(select(AuditEvent))].count("evidence.pushed") == 2
        record = s.get(EvidenceRecord, first.evidence_id)
        assert record.row_count == 108 and record.content_hash == data.content_hash


def test_the_latest_push_of_a_version_is_the_current_one_even_an_earlier_set_again(engine, checklist):
    from bot.db import session_factory

    sessions = session_factory(engine, clock=lambda: NOW)  # one stopped clock: every push at the same moment
    aid = start(sessions, checklist, system="support-search-assistant", version="2.4.0")
    bad, good = load_evidence(SAMPLES / "candidate.json"), load_evidence(SAMPLES / "candidate-fixed.json")
    older = push(sessions, bad)
    newer = push(sessions, good)
    with session_scope(sessions) as s:
        assert evidence.latest(s, TEAM, "support-search-assistant", "2.4.0").id == newer.evidence_id
        open_of_newer = s.scalar(select(func.count()).select_from(MarkSuggestion).where(
            MarkSuggestion.evidence_id == newer.evidence_id, MarkSuggestion.status == "open"))
    assert open_of_newer > 0
    older_again = push(sessions, bad)
    assert older_again.duplicate and older_again.current and older_again.evidence_id == older.evidence_id
    assert older_again.scorecard["passed"] is False and older_again.assessment_id == aid
    assert f"current set of support-search-assistant 2.4.0 again (replacing #{newer.evidence_id})" in \
        older_again.notes[0]
    with session_scope(sessions) as s:
        assert evidence.latest(s, TEAM, "support-search-assistant", "2.4.0").id == older.evidence_id
        assert evidence.judged(s, TEAM, "support-search-assistant", "2.4.0").candidate.id == older.evidence_id
        repushed = s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.repushed")).all()
        assert [(e.before, e.after["current"]) for e in repushed] == [
            ({"current": newer.evidence_id}, older.evidence_id)]
        assert s.scalar(select(func.count()).select_from(MarkSuggestion).where(  # stale: superseded
            MarkSuggestion.evidence_id == newer.evidence_id, MarkSuggestion.status == "open")) == 0
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 2
    again = push(sessions, bad)  # already the current one: nothing changes
    assert again.duplicate and again.current and "nothing was added or posted" in again.notes[0]
    newest = push(sessions, evidence_from_data({**good.model_dump(mode="json"), "rows": [
        r.model_dump() for r in good.rows if r.cohort != "us-smb"]}))  # a new set is current after a re-push
    with session_scope(sessions) as s:
        assert evidence.latest(s, TEAM, "support-search-assistant", "2.4.0").id == newest.evidence_id
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "evidence.repushed")) == 1


# -- policies and baselines -------------------------------------------------------------------------


def test_the_policy_is_the_systems_then_the_workspace_default_then_the_file(sessions, tmp_path):
    with session_scope(sessions) as s:
        chosen = policies.policy_for(s, TEAM, "support-search-assistant")
        assert chosen.source.startswith("the shipped sample")
        with pytest.raises(ServiceError, match="no release policy applies to copilot"):
            policies.policy_for(s, TEAM, "copilot")
    own = tmp_path / "policy.yaml"
    own.write_text(POLICY)
    with session_scope(sessions) as s:
        assert policies.policy_for(s, TEAM, "copilot", own).source.startswith(f"file {own}")
    store_policy(sessions)
    stored = store_policy(sessions, POLICY.replace('version: "1"', 'version: "2"'), system="copilot")
    assert stored.created and stored.record.system == "copilot"
    with session_scope(sessions) as s:
        assert policies.policy_for(s, TEAM, "copilot").policy.version == "2"
        assert policies.policy_for(s, TEAM, "other").source.startswith("the workspace default")
        assert policies.policy_for(s, OTHER, "support-search-assistant").source.startswith("the shipped sample")
        bound = policies.policy_for(s, TEAM, "copilot").policy
        assert bound.system == "copilot"
    again = store_policy(sessions)
    assert not again.created
    with pytest.raises(ServiceError, match="written for system"), session_scope(sessions) as s:
        policies.store(s, TEAM, parse_policy(POLICY + "system: a\n"), system="b", actor="test")


def test_the_baseline_is_the_reviews_else_the_latest_earlier_version(sessions, checklist):
    store_policy(sessions)
    for version, value in (("2.9", 0.90), ("2.10", 0.91), ("3.0", 0.92), ("1.0", 0.5)):
        push(sessions, evidence_set(version, [rate("all", value, 500)]))
    with session_scope(sessions) as s:
        assert evidence.judged(s, TEAM, "copilot", "3.0").scorecard.baseline_version == "2.10"
        assert evidence.judged(s, TEAM, "copilot", "3.0", baseline="1.0").scorecard.baseline_version == "1.0"
        assert evidence.judged(s, TEAM, "copilot", "1.0").baseline is None
        with pytest.raises(ServiceError, match="no evidence is stored for the baseline"):
            evidence.judged(s, TEAM, "copilot", "3.0", baseline="0.1")
        assert evidence.judged(s, TEAM, "copilot", "4.0") is None
    base = start(sessions, checklist, version="2.9")
    start(sessions, checklist, version="3.0", baseline_id=base)
    with session_scope(sessions) as s:
        scored = evidence.judged(s, TEAM, "copilot", "3.0")
    assert scored.scorecard.baseline_version == "2.9" and "review's baseline" in scored.baseline_note


# -- the gate: thin evidence never passes, noise never fails -----------------------------------------


def test_a_small_cohort_never_passes_for_lack_of_data(sessions, checklist):
    store_policy(sessions)
    aid = start(sessions, checklist)
    mark_all_no(sessions, checklist, aid)
    push(sessions, evidence_set("1.0", [rate("big", 0.90, 1000), rate("tiny", 0.90, 1000)]))
    push(sessions, evidence_set("2.0", [rate("big", 0.91, 1000), rate("tiny", 1.0, 20)]))  # perfect, but 20 cases
    reasons, cohort = cohort_reasons(sessions)
    assert reasons == ["cohort tiny, task_success_rate: not enough evidence (min_sample 100: candidate n=20 is "
                       "too small to judge)"]
    assert cohort["passed"] is False and cohort["counts"]["not-enough-evidence"] == 1
    push(sessions, evidence_set("2.0", [rate("big", 0.91, 1000), rate("tiny", 0.10, 20)]))  # dreadful, 20 cases
    reasons, _ = cohort_reasons(sessions)
    assert len(reasons) == 1 and "not enough evidence" in reasons[0]
    push(sessions, evidence_set("2.0", [rate("big", 0.91, 1000)]))  # the cohort left out: a gap, not a pass
    reasons, cohort = cohort_reasons(sessions)
    assert reasons == ["cohort tiny: no evidence in this version's set (in the baseline 1.0)"]
    assert cohort["missing_cohorts"] == ["tiny"]


def test_a_difference_inside_the_noise_never_fails_the_gate(sessions, checklist):
    store_policy(sessions)
    aid = start(sessions, checklist)
    mark_all_no(sessions, checklist, aid)
    # 4 points worse (twice the allowed 2), but on 150 cases each: p is about 0.27
    push(sessions, evidence_set("1.0", [rate("eu", 0.90, 150)]))
    push(sessions, evidence_set("2.0", [rate("eu", 0.86, 150)]))
    reasons, cohort = cohort_reasons(sessions)
    assert reasons == [] and cohort["passed"] is True
    # the same rates on 3,000 cases each are beyond noise: the same check does fail then
    push(sessions, evidence_set("1.0", [rate("eu", 0.90, 3000)]))
    push(sessions, evidence_set("2.0", [rate("eu", 0.86, 3000)]))
    reasons, cohort = cohort_reasons(sessions)
    assert len(reasons) == 1 and reasons[0].startswith("cohort eu, task_success_rate: regression")
    assert cohort["failures"][0]["outcome"] == "regression"


def test_evidence_no_policy_can_judge_fails_the_gate_and_none_changes_nothing(sessions, checklist):
    aid = start(sessions, checklist)
    mark_all_no(sessions, checklist, aid)
    assert cohort_reasons(sessions) == ([], None)
    result = push(sessions, evidence_set("2.0", [rate("eu", 0.9, 500)]))
    assert "no release policy applies to copilot" in result.notes[0] and result.scorecard is None
    reasons, cohort = cohort_reasons(sessions)
    assert reasons[0].startswith("cohort evidence cannot be judged") and "error" in cohort


# -- suggestions -------------------------------------------------------------------------------------


def test_suggestions_are_queued_once_superseded_by_newer_evidence_and_settled_by_marks(sessions, checklist):
    aid = start(sessions, checklist, system="support-search-assistant", version="2.4.0")
    mark(sessions, aid, "s1")
    push(sessions, load_evidence(SAMPLES / "baseline.json"))
    first = push(sessions, load_evidence(SAMPLES / "candidate.json"))
    assert first.assessment_id == aid and first.suggestions > 0
    with session_scope(sessions) as s:
        rows = {r.item_id: r for r in s.scalars(select(MarkSuggestion))}
        queued = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "evidence_suggestions")))
        review = load_review(s, TEAM, aid)
    assert rows["s1"].mark == "partial" and "eu-legal" in rows["s1"].reason
    assert len(queued) == 1 and queued[0].payload["contradicted"] == ["s1"]
    assert review.contradicted == frozenset({"s1"})

    mark(sessions, aid, "s1", Mark.PARTIAL)  # the suggested mark: the suggestion is applied
    with session_scope(sessions) as s:
        s1 = s.scalar(select(MarkSuggestion).where(MarkSuggestion.item_id == "s1"))
        assert (s1.status, s1.decided_by) == ("applied", "U1")
        with pytest.raises(ServiceError, match="already applied"):
            evidence.open_suggestion(s, TEAM, s1.id)
        s3 = s.scalar(select(MarkSuggestion).where(MarkSuggestion.item_id == "s3"))
        with pytest.raises(ServiceError, match="Say why"):
            evidence.dismiss(s, TEAM, s3.id, actor="U2", reason=" ")
        evidence.dismiss(s, TEAM, s3.id, actor="U2", reason="out of scope")
        with pytest.raises(ServiceError):
            evidence.get_suggestion(s, OTHER, s3.id)

    push(sessions, load_evidence(SAMPLES / "candidate-fixed.json"))
    with session_scope(sessions) as s:
        statuses = [r.status for r in s.scalars(select(MarkSuggestion).where(MarkSuggestion.evidence_id == 2))]
        newest = {r.item_id: r.mark for r in s.scalars(select(MarkSuggestion).where(MarkSuggestion.evidence_id == 3))}
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "evidence_suggestions")) == 2
        assert load_review(s, TEAM, aid).contradicted == frozenset()
    assert "open" not in statuses and {"applied", "dismissed", "superseded"} <= set(statuses)
    assert newest["s1"] == "no"  # marked Partial, the numbers now say No


def test_the_packet_section_lists_every_cell_gaps_and_contradictions(sessions, checklist):
    aid = start(sessions, checklist, system="support-search-assistant", version="2.4.0")
    with session_scope(sessions) as s:
        assert evidence.cohort_section(s, get_assessment(s, TEAM, aid)) is None
    mark(sessions, aid, "s1")
    push(sessions, load_evidence(SAMPLES / "baseline.json"))
    data = load_evidence(SAMPLES / "candidate.json")
    push(sessions, evidence_from_data({"system": data.system, "version": data.version,
                                       "rows": [r.model_dump() for r in data.rows if r.cohort != "us-smb"]}))
    with session_scope(sessions) as s:
        section = evidence.cohort_section(s, get_assessment(s, TEAM, aid))
    assert section is not None and section.svg.startswith("<svg") and section.contradicted == ("s1",)
    first = section.rows[0]
    assert (first.cohort, first.metric, first.outcome) == ("eu-legal", "task_success_rate", "fail")
    assert first.baseline == "0.92 (n=600)" and first.candidate == "0.84 (n=600)" and first.delta.startswith("-0.08 [")
    assert section.rows[-1].cohort == "us-smb" and section.rows[-1].outcome == "gap"


# -- a metric left out, a metric declared otherwise, thin rows under the watch ------------------------

TWO_RULES = POLICY + """  - metric: latency_p95_end_to_end
    ceiling: 3000
"""


def latency(cohort: str, value: float = 2000) -> dict[str, Any]:
    return {"cohort": cohort, "metric": "latency_p95_end_to_end", "value": value, "n": 1000}


def test_a_metric_left_out_of_a_cohort_fails_the_gate_shows_in_the_packet_and_suggests_no_no(sessions, checklist):
    store_policy(sessions, TWO_RULES)
    aid = start(sessions, checklist)
    mark_all_no(sessions, checklist, aid)
    push(sessions, evidence_set("1.0", [rate("eu", 0.95, 1000), latency("eu")]))
    result = push(sessions, evidence_set("2.0", [latency("eu")]))  # task_success_rate dropped for eu
    assert result.scorecard["passed"] is False
    assert result.scorecard["missing_cells"] == [
        {"cohort": "eu", "metric": "task_success_rate", "expected_by": "baseline"}]
    reasons, cohort = cohort_reasons(sessions)
    assert reasons == ["cohort eu, task_success_rate: no evidence in this version's set (in the baseline 1.0)"]
    assert cohort["passed"] is False
    with session_scope(sessions) as s:
        section = evidence.cohort_section(s, get_assessment(s, TEAM, aid))
        s1 = s.scalar(select(MarkSuggestion).where(MarkSuggestion.item_id == "s1",
                                                   MarkSuggestion.status == "open"))
        payload = s.scalar(select(OutboxMessage.payload).where(OutboxMessage.kind == "evidence_suggestions"))
    gap = section.rows[-1]
    assert (gap.cohort, gap.metric, gap.candidate, gap.outcome) == ("eu", "task_success_rate", "missing", "gap")
    assert s1.mark is None and "cohort eu left out task_success_rate" in s1.reason  # marked No: not confirmed
    assert payload["missing_metrics"] == ["eu: task_success_rate"]


CONFLICT_POLICY = """
id: p2
version: "1"
metrics: {custom_score: {unit: fraction, direction: higher, kind: rate}}
rules:
  - metric: custom_score
    floor: 0.5
  - metric: task_success_rate
    floor: 0.5
"""


def test_a_metric_declared_otherwise_than_the_policy_is_a_clear_reason_not_a_crash(sessions, checklist):
    aid = start(sessions, checklist)
    mark(sessions, aid, "s1")
    conflicting = evidence_from_data({"system": "copilot", "version": "2.0",
                                      "metrics": {"custom_score": {"unit": "points", "direction": "higher",
                                                                   "kind": "value"}},
                                      "rows": [{"cohort": "eu", "metric": "custom_score", "value": 95, "n": 100},
                                               rate("eu", 0.9, 100)]})
    store_policy(sessions, CONFLICT_POLICY, system="copilot")
    why = "declares custom_score as value (points, higher is better) but policy p2 declares it as rate"
    first = push(sessions, conflicting)  # stored (it is valid on its own), and said why it is not judged
    assert not first.duplicate and first.scorecard is None and first.suggestions == 0
    assert first.notes == [f"stored as #{first.evidence_id} but not judged: the evidence of copilot 2.0 cannot be "
                           f"judged: the evidence {why} (fraction, higher is better); declare it the same way in both"]
    with session_scope(sessions) as s:
        assert load_review(s, TEAM, aid).contradicted == frozenset()
        section = evidence.cohort_section(s, get_assessment(s, TEAM, aid))
        with pytest.raises(ServiceError, match=r"the evidence of copilot 2.0 cannot be judged: .*value \(points"):
            evidence.judged(s, TEAM, "copilot", "2.0")
    assert [(r.outcome, why in r.rule) for r in section.rows] == [("cannot be judged", True)]
    reasons, cohort = cohort_reasons(sessions)
    assert len(reasons) == 1 and reasons[0].startswith("cohort evidence cannot be judged") and why in reasons[0]
    assert why in cohort["error"]
    again = push(sessions, evidence_set("2.0", [{"cohort": "eu", "metric": "task_success_rate", "value": 0.9,
                                                 "n": 100, "source": "https://x/1"}]))
    assert again.scorecard is not None  # a set without the conflict is judged again


def test_watched_rows_with_too_little_data_are_skipped_and_said(sessions, checklist):
    from bot.core.reminder_plan import ReminderPolicy
    from bot.services import golive

    store_policy(sessions)  # min_sample 100
    with session_scope(sessions) as s:
        aid = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="copilot", version="2.0",
                                                          started_by="U_LEAD", channel_id="C1",
                                                          release_channel_id="C_REL")).id
    with session_scope(sessions) as s:
        allow_golive_before_signoff(s, TEAM)
        plan = golive.MonitoringPlan(alerts="a", cadence="daily", escalation_owner="U_OPS",
                                     watch_items=["task_success_rate >= 0.90"])
        golive.record_golive(s, TEAM, aid, actor="U_LEAD", plan=plan, now=datetime.now(UTC) - timedelta(hours=1),
                             policy=ReminderPolicy())
    result = push(sessions, evidence_set("2.0", [rate("one", 0.0, 1), rate("eu", 0.95, 500)]))
    assert result.breaches == 0
    assert result.watch_skipped == [{"cohort": "one", "metric": "task_success_rate", "n": 1, "min_sample": 100}]
    assert "watch list: 1 row(s) not checked, too little data: one: task_success_rate n=1" in " ".join(result.notes)
    result = push(sessions, evidence_set("2.0", [rate("one", 0.0, 1), rate("eu", 0.85, 500)]))
    assert result.breaches == 1 and len(result.watch_skipped) == 1
    with session_scope(sessions) as s:
        [alert] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == golive.BREACH,
                                                        OutboxMessage.recipient == "C_REL")).all()
        pushed = s.scalars(select(AuditEvent.after).where(AuditEvent.action == "evidence.pushed")).all()
    assert [b["cohort"] for b in alert.payload["breaches"]] == ["eu"]
    assert [a["watch_skipped"] for a in pushed] == [1, 1]
