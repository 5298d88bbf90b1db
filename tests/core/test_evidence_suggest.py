"""Suggested marks from the cohort scorecard, contradictions, and watch-list breaches."""

from __future__ import annotations

from importlib import resources

import pytest

from bot.core import documents
from bot.core.checklist import Mark
from bot.core.evidence.evidence_set import evidence_from_data, load_evidence
from bot.core.evidence.judge import judge
from bot.core.evidence.metrics import Direction
from bot.core.evidence.policy import load_policy, policy_from_data
from bot.core.evidence.suggest import WatchRule, contradictions, suggest, watch_breaches

SAMPLES = resources.files("bot.samples")


def sample_card(name="candidate.json"):
    evidence = SAMPLES.joinpath("evidence")
    return judge(
        load_policy(),
        load_evidence(str(evidence.joinpath(name))),
        load_evidence(str(evidence.joinpath("baseline.json"))),
    )


def sample_marks() -> dict[str, Mark | None]:
    data = documents.safe_load(SAMPLES.joinpath("search-assistant.yaml").read_text())
    return {item_id: Mark(entry["mark"]) for item_id, entry in data["marks"].items()}


def small_card(*rows, baseline_rows=()):
    policy = policy_from_data(
        {
            "id": "p",
            "version": "1",
            "min_sample": 30,
            "rules": [
                {"metric": "task_success_rate", "floor": 0.9},
                {"metric": "major_failure_rate", "ceiling": 0.02},
            ],
        }
    )
    candidate = evidence_from_data({"system": "s", "version": "2", "rows": list(rows)})
    baseline = (
        evidence_from_data({"system": "s", "version": "1", "rows": list(baseline_rows)})
        if baseline_rows
        else None
    )
    return judge(policy, candidate, baseline)


def tsr(cohort, value, n=200):
    return {"cohort": cohort, "metric": "task_success_rate", "value": value, "n": n}


def test_sample_candidate_suggests_partial_for_the_two_failing_cohorts(checklist):
    found = {s.item_id: s for s in suggest(checklist, sample_card(), {})}
    s1 = found["s1"]
    assert s1.mark is Mark.PARTIAL
    assert s1.cohorts == ("eu-legal", "jp-support") and s1.metrics == ("task_success_rate",)
    assert s1.reason == (
        "Partial: cohort eu-legal below the floor for task_success_rate; "
        "cohort jp-support regressed beyond noise on task_success_rate"
    )
    assert found["s3"].mark is Mark.PARTIAL and found["s19"].mark is Mark.PARTIAL
    assert (
        found["s2"].mark is Mark.NO
        and found["s2"].reason == "No: all 6 judged cohort(s) pass escalation_rate"
    )
    assert found["s13"].metrics == (
        "latency_p95_model",
        "latency_p95_rerank",
        "latency_p95_retrieval",
        "latency_p95_tool",
    )
    items_with_metrics = {i.id for i in checklist.items if i.metrics}
    assert set(found) == items_with_metrics


def test_suggestions_equal_to_the_current_mark_are_left_out(checklist):
    marks = sample_marks()
    found = {s.item_id: s.mark for s in suggest(checklist, sample_card(), marks)}
    assert "s1" not in found  # already Partial
    assert "s2" not in found  # already No, and escalation passes
    assert found["s3"] is Mark.PARTIAL  # marked No, but two cohorts fail
    assert found["s4"] is Mark.NO  # marked Partial, and its metrics pass everywhere


def test_contradictions_are_items_marked_no_whose_metrics_fail(checklist):
    marks = sample_marks()
    assert contradictions(checklist, sample_card(), marks) == ["s3"]
    assert contradictions(checklist, sample_card("candidate-fixed.json"), marks) == []
    assert contradictions(checklist, sample_card(), {"s1": None}) == []


def test_every_judged_cohort_failing_suggests_yes(checklist):
    card = small_card(tsr("a", 0.5), tsr("b", 0.6), tsr("thin", 0.1, n=5))
    s1 = next(s for s in suggest(checklist, card, {}) if s.item_id == "s1")
    assert s1.mark is Mark.YES and s1.cohorts == ("a", "b")
    assert s1.reason == "Yes: cohorts a and b below the floor for task_success_rate"


def test_thin_evidence_alone_gives_no_mark_but_says_so(checklist):
    card = small_card(tsr("a", 0.95), tsr("thin", 0.1, n=5))
    s1 = next(s for s in suggest(checklist, card, {"s1": None}) if s.item_id == "s1")
    assert s1.mark is None and s1.cohorts == ("thin",)
    assert s1.reason.startswith("Not enough evidence: cohort thin")


def test_classes_of_a_metric_count_for_the_item(checklist):
    card = small_card({"cohort": "a", "metric": "major_failure_rate:data_leak", "value": 0.05, "n": 400})
    s4 = next(s for s in suggest(checklist, card, {}) if s.item_id == "s4")
    assert s4.mark is Mark.YES and s4.metrics == ("major_failure_rate:data_leak",)
    assert "above the ceiling for major_failure_rate:data_leak" in s4.reason


def test_watch_breaches_report_cohort_value_and_threshold():
    week = evidence_from_data(
        {
            "system": "s",
            "version": "2",
            "rows": [
                tsr("a", 0.95),
                tsr("b", 0.85),
                {"cohort": "a", "metric": "major_failure_rate:timeout", "value": 0.03, "n": 500},
                {"cohort": "b", "metric": "latency_p95_end_to_end", "value": 2600, "n": 500},
            ],
        }
    )
    breaches = watch_breaches(
        [
            ("task_success_rate", 0.9, "higher"),
            WatchRule(metric="major_failure_rate", threshold=0.02),
            ("latency_p95_end_to_end", 2500, None),
            ("retry_rate", 0.1, "lower"),
        ],
        week,
    )
    assert [(b.cohort, b.metric, b.value, b.threshold) for b in breaches] == [
        ("a", "major_failure_rate:timeout", 0.03, 0.02),
        ("b", "latency_p95_end_to_end", 2600.0, 2500.0),
        ("b", "task_success_rate", 0.85, 0.9),
    ]
    assert breaches[0].direction is Direction.LOWER
    assert breaches[2].text == "b: task_success_rate 0.85 is below the threshold 0.9 (n=200)"
    with pytest.raises(ValueError, match="give its direction"):
        watch_breaches([("csat", 4.0, None)], week)


def test_a_metric_left_out_of_a_cohort_is_never_a_no(checklist):
    latency = {"cohort": "eu", "metric": "latency_p95_end_to_end", "value": 900, "n": 500}
    card = small_card(tsr("us", 0.95), latency, baseline_rows=(tsr("eu", 0.95), tsr("us", 0.95), latency))
    assert [(k.cohort, k.metric) for k in card.missing_cells] == [("eu", "task_success_rate")]
    s1 = next(s for s in suggest(checklist, card, {"s1": Mark.NO}) if s.item_id == "s1")
    assert s1.mark is None and s1.cohorts == ("eu",) and s1.metrics == ("task_success_rate",)
    assert s1.reason == ("Not enough evidence: cohort eu left out task_success_rate "
                         "(expected by the baseline 1 or the policy)")
    # no cell of the item at all: still said, not left out
    alone = small_card(latency, baseline_rows=(tsr("eu", 0.95), latency))
    s1 = next(s for s in suggest(checklist, alone, {}) if s.item_id == "s1")
    assert s1.mark is None and "left out task_success_rate" in s1.reason


def test_watch_rows_below_the_policys_min_sample_are_skipped_and_said():
    from bot.core.evidence.suggest import watch_check

    policy = policy_from_data({"id": "p", "version": "1", "min_sample": 100, "rules": [
        {"metric": "task_success_rate", "floor": 0.9},
        {"metric": "task_success_rate", "cohorts": ["big"], "floor": 0.9, "min_sample": 1000}]})
    week = evidence_from_data({"system": "s", "version": "2", "rows": [
        tsr("one", 0.0, n=1), tsr("ok", 0.5, n=100), tsr("big", 0.5, n=500)]})
    rules = [("task_success_rate", 0.9, "higher")]
    assert [b.cohort for b in watch_breaches(rules, week)] == ["big", "ok", "one"]  # no policy: all rows
    checked = watch_check(rules, week, policy)
    assert [b.cohort for b in checked.breaches] == ["ok"]
    assert [(k.cohort, k.n, k.min_sample) for k in checked.skipped] == [("big", 500, 1000), ("one", 1, 100)]
    assert checked.skipped[1].text == "one: task_success_rate n=1 is below min_sample 100"
    assert [b.cohort for b in watch_breaches(rules, week, 30)] == ["big", "ok"]
