"""Judging cohorts: thin samples never pass, noise never fails, real regressions and floors do."""

from __future__ import annotations

import math
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, norm

from bot.core.evidence.evidence_set import evidence_from_data, load_evidence
from bot.core.evidence.judge import Check, JudgeError, Outcome, judge
from bot.core.evidence.policy import load_policy, policy_from_data
from bot.core.evidence.stats import newcombe_interval

SAMPLES = resources.files("bot.samples").joinpath("evidence")


def policy(*rules, **top):
    return policy_from_data({"id": "p", "version": "1", "min_sample": 30, **top, "rules": list(rules)})


def evidence(*rows, version="2.4.0", metrics=None):
    data = {"system": "search", "version": version, "rows": list(rows)}
    if metrics:
        data["metrics"] = metrics
    return evidence_from_data(data)


def rate(cohort, successes, n, metric="task_success_rate"):
    return {"cohort": cohort, "metric": metric, "value": round(successes / n, 6), "n": n, "count": successes}


TSR_FLOOR = {"metric": "task_success_rate", "floor": 0.80, "max_regression": {"absolute": 0.0}}


def only_cell(card):
    assert len(card.cells) == 1
    return card.cells[0]


def test_a_small_cohort_never_passes_for_lack_of_data():
    card = judge(
        policy(TSR_FLOOR), evidence(rate("tiny", 5, 5)), evidence(rate("tiny", 200, 200), version="1")
    )
    cell = only_cell(card)
    assert cell.outcome is Outcome.NOT_ENOUGH and cell.check is Check.MIN_SAMPLE
    assert cell.rule == "min_sample 30: candidate n=5 is too small to judge"
    assert not card.passed and card.failures() == []


def test_a_difference_inside_the_noise_never_fails():
    card = judge(policy(TSR_FLOOR), evidence(rate("a", 180, 200)), evidence(rate("a", 182, 200), version="1"))
    cell = only_cell(card)
    assert cell.outcome is Outcome.PASS
    assert "within noise" in cell.rule
    assert cell.delta == pytest.approx(-0.01)
    assert cell.interval_of == "difference" and cell.interval[0] < cell.delta < cell.interval[1]
    assert card.passed


def test_a_big_regression_fails_with_its_test_in_the_rule_text():
    card = judge(
        policy(TSR_FLOOR | {"max_regression": {"absolute": 0.02}}),
        evidence(rate("a", 850, 1000)),
        evidence(rate("a", 930, 1000), version="1"),
    )
    cell = only_cell(card)
    assert cell.outcome is Outcome.REGRESSION and cell.check is Check.REGRESSION
    assert cell.rule.startswith("regression beyond noise: -0.08")
    assert "< 0.05, allowed -0.02" in cell.rule
    pooled = 1780 / 2000
    z = (0.85 - 0.93) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert cell.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-6)
    assert cell.interval[1] < 0  # the whole interval on the difference is a loss
    assert [(f.cohort, f.metric) for f in card.failures()] == [("a", "task_success_rate")]
    assert not card.passed


def test_a_significant_change_inside_the_allowance_passes():
    rule = TSR_FLOOR | {"max_regression": {"absolute": 0.02}}
    card = judge(
        policy(rule), evidence(rate("a", 18800, 20000)), evidence(rate("a", 19000, 20000), version="1")
    )
    cell = only_cell(card)
    assert cell.p_value < 0.05
    assert cell.outcome is Outcome.PASS and "within the allowed -0.02" in cell.rule


def test_below_the_floor_fails_on_the_point_estimate():
    card = judge(policy(TSR_FLOOR | {"floor": 0.90}), evidence(rate("eu-legal", 420, 500)))
    cell = only_cell(card)
    assert cell.outcome is Outcome.FAIL and cell.check is Check.FLOOR
    assert cell.rule == "floor 0.90: candidate 0.84 [0.805, 0.87] below"
    assert cell.interval_of == "candidate" and cell.baseline is None
    assert "no baseline row for this cohort and metric" in cell.notes


def test_the_floor_still_counts_when_the_baseline_is_too_small_to_compare():
    thin_baseline = evidence(rate("a", 10, 12), version="1")
    card = judge(policy(TSR_FLOOR), evidence(rate("a", 900, 1000)), thin_baseline)
    cell = only_cell(card)
    assert cell.outcome is Outcome.PASS
    assert cell.notes == ("baseline n=12 is below min_sample 30: no regression comparison",)
    only_regression = {"metric": "task_success_rate", "max_regression": {"absolute": 0.0}}
    cell = only_cell(judge(policy(only_regression), evidence(rate("a", 100, 1000)), thin_baseline))
    assert cell.outcome is Outcome.NOT_ENOUGH and cell.check is Check.NO_COMPARISON
    assert "baseline n=12" in cell.rule


def test_rule_min_sample_and_confidence_override_the_policy():
    rule = TSR_FLOOR | {"min_sample": 500, "confidence": 0.99}
    cell = only_cell(judge(policy(rule), evidence(rate("a", 400, 450))))
    assert cell.rule == "min_sample 500: candidate n=450 is too small to judge"
    # p is about 0.035: a regression at 95% confidence, noise at 99%.
    base, cand = evidence(rate("a", 900, 1000), version="1"), evidence(rate("a", 870, 1000))
    assert only_cell(judge(policy(TSR_FLOOR), cand, base)).outcome is Outcome.REGRESSION
    cell = only_cell(judge(policy(TSR_FLOOR | {"confidence": 0.99}), cand, base))
    assert cell.outcome is Outcome.PASS and "needs p < 0.01" in cell.rule


def test_counts_are_derived_when_missing():
    with_counts = evidence(rate("a", 850, 1000))
    without = evidence({"cohort": "a", "metric": "task_success_rate", "value": 0.85, "n": 1000})
    base = evidence(rate("a", 930, 1000), version="1")
    first, second = (only_cell(judge(policy(TSR_FLOOR), e, base)) for e in (with_counts, without))
    assert first.p_value == second.p_value and first.interval == second.interval


def test_lower_is_better_rates_regress_upwards():
    rule = {"metric": "escalation_rate", "ceiling": 0.15, "max_regression": {"relative": 0.25}}
    base = evidence(rate("a", 100, 2000, "escalation_rate"), version="1")
    worse = only_cell(judge(policy(rule), evidence(rate("a", 180, 2000, "escalation_rate")), base))
    assert worse.outcome is Outcome.REGRESSION and "allowed +0.013" in worse.rule
    better = only_cell(judge(policy(rule), evidence(rate("a", 40, 2000, "escalation_rate")), base))
    assert better.outcome is Outcome.PASS
    assert (
        better.rule
        == "ceiling 0.15: candidate 0.02 [0.015, 0.027] within; improved -0.03 [-0.042, -0.019], p=2.4e-07"
    )
    over = only_cell(judge(policy(rule), evidence(rate("a", 340, 2000, "escalation_rate"))))
    assert over.outcome is Outcome.FAIL and over.check is Check.CEILING and "above" in over.rule


def latency(cohort, ms, n=500):
    return {"cohort": cohort, "metric": "latency_p95_end_to_end", "value": ms, "n": n}


@pytest.mark.parametrize(
    ("rule", "candidate_ms", "outcome"),
    [
        ({"ceiling": 5000}, 2150, Outcome.PASS),  # +7.5%, inside the policy's 10% tolerance
        ({"ceiling": 5000}, 2300, Outcome.REGRESSION),  # +15%
        ({"ceiling": 5000, "max_regression": {"relative": 0.2}}, 2300, Outcome.PASS),  # the larger allowance
        ({"ceiling": 2200}, 2300, Outcome.FAIL),
        ({"ceiling": 5000}, 1500, Outcome.PASS),
    ],
)
def test_latency_uses_the_larger_tolerance(rule, candidate_ms, outcome):
    card = judge(
        policy({"metric": "latency_p95_end_to_end", **rule}, latency_tolerance=0.10),
        evidence(latency("a", candidate_ms)),
        evidence(latency("a", 2000), version="1"),
    )
    cell = only_cell(card)
    assert cell.outcome is outcome
    assert cell.interval is None and cell.p_value is None
    if outcome is Outcome.REGRESSION:
        assert cell.rule == "regression: 2300 ms vs baseline 2000 ms (+15.0%), allowed +200 ms"


def test_other_values_compare_plainly():
    declared = {"csat": {"unit": "points", "direction": "higher"}}
    rule = {"metric": "csat", "floor": 3.5, "max_regression": {"absolute": 0.2}}
    top = {"metrics": declared}
    base = evidence({"cohort": "a", "metric": "csat", "value": 4.5, "n": 300}, version="1", metrics=declared)
    for value, outcome in ((4.2, Outcome.REGRESSION), (4.35, Outcome.PASS), (3.0, Outcome.FAIL)):
        cand = evidence({"cohort": "a", "metric": "csat", "value": value, "n": 300}, metrics=declared)
        assert only_cell(judge(policy(rule, **top), cand, base)).outcome is outcome


def test_gaps_and_rows_no_rule_covers():
    named = TSR_FLOOR | {"cohorts": ["jp-support"], "floor": 0.5}
    card = judge(
        policy(TSR_FLOOR, named),
        evidence(rate("a", 90, 100), rate("a", 5, 100, "retry_rate")),
        evidence(rate("a", 90, 100), rate("gone", 90, 100), version="1"),
    )
    assert card.missing_cohorts == ("gone", "jp-support")
    assert [(k.cohort, k.metric) for k in card.unjudged] == [("a", "retry_rate")]
    assert not card.passed  # every cell passes, but two cohorts are missing
    assert card.counts() == {"pass": 1, "regression": 0, "fail": 0, "not-enough-evidence": 0}


def test_other_systems_are_refused():
    with pytest.raises(JudgeError, match="not 'search'"):
        judge(policy(TSR_FLOOR, system="other"), evidence(rate("a", 90, 100)))
    other = evidence_from_data({"system": "other", "version": "1", "rows": [rate("a", 90, 100)]})
    with pytest.raises(JudgeError, match="baseline is for system 'other'"):
        judge(policy(TSR_FLOOR), evidence(rate("a", 90, 100)), other)


@settings(max_examples=150, deadline=None)
@given(st.integers(30, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_a_candidate_equal_to_its_baseline_never_regresses(kn):
    k, n = kn
    rule = {"metric": "task_success_rate", "max_regression": {"absolute": 0.0}}
    cell = only_cell(judge(policy(rule), evidence(rate("a", k, n)), evidence(rate("a", k, n), version="1")))
    assert cell.outcome is Outcome.PASS


def test_the_samples_fail_exactly_two_cohorts_and_the_fixed_one_passes():
    sample_policy = load_policy()
    baseline = load_evidence(str(SAMPLES.joinpath("baseline.json")))
    candidate = load_evidence(str(SAMPLES.joinpath("candidate.json")))
    card = judge(sample_policy, candidate, baseline)
    assert [(c.cohort, c.metric, c.outcome) for c in card.failures()] == [
        ("eu-legal", "task_success_rate", Outcome.FAIL),
        ("jp-support", "task_success_rate", Outcome.REGRESSION),
    ]
    assert card.counts()["pass"] == len(card.cells) - 2 and not card.unjudged and not card.missing_cohorts
    assert len(candidate.cohorts) == 6 and "tenant=acme,workflow=refund" in candidate.cohorts
    as_csv = load_evidence(str(SAMPLES.joinpath("candidate.csv")))
    assert as_csv.content_hash == candidate.content_hash
    fixed = judge(sample_policy, load_evidence(str(SAMPLES.joinpath("candidate-fixed.json"))), baseline)
    assert fixed.passed and fixed.counts()["pass"] == len(fixed.cells)
    summary = card.summary()
    assert (
        summary["passed"] is False
        and summary["version"] == "2.4.0"
        and summary["baseline_version"] == "2.3.0"
    )
    assert [f["cohort"] for f in summary["failures"]] == ["eu-legal", "jp-support"]
    assert summary["policy"]["hash"] == sample_policy.content_hash


def test_the_sample_assessment_names_the_same_system():
    from bot.core import documents

    assessment = documents.safe_load(
        resources.files("bot.samples").joinpath("search-assistant.yaml").read_text()
    )
    candidate = load_evidence(str(SAMPLES.joinpath("candidate.json")))
    assert (candidate.system, candidate.version) == (assessment["system"], str(assessment["version"]))
    assert load_policy().system == assessment["system"]


# -- a metric left out of a cohort; declarations that disagree; numbers the statistics refuse ---------


LATENCY = {"metric": "latency_p95_end_to_end", "ceiling": 3000}


def test_a_metric_the_baseline_measured_left_out_of_a_present_cohort_is_a_gap():
    card = judge(
        policy(TSR_FLOOR, LATENCY),
        evidence(latency("eu", 2000)),  # task_success_rate dropped for eu
        evidence(rate("eu", 950, 1000), latency("eu", 2000), version="1"),
    )
    assert [c.outcome for c in card.cells] == [Outcome.PASS] and not card.missing_cohorts
    assert [(k.cohort, k.metric, k.expected_by) for k in card.missing_cells] == [
        ("eu", "task_success_rate", "baseline")
    ]
    assert not card.passed
    summary = card.summary()
    assert summary["passed"] is False
    assert summary["missing_cells"] == [
        {"cohort": "eu", "metric": "task_success_rate", "expected_by": "baseline"}
    ]


def test_a_named_cohort_needs_its_rules_metric_and_a_class_counts_for_its_base():
    named = {"metric": "major_failure_rate", "cohorts": ["jp-support"], "ceiling": 0.05}
    card = judge(policy(TSR_FLOOR, named), evidence(rate("jp-support", 95, 100)))
    assert [(k.cohort, k.metric, k.expected_by) for k in card.missing_cells] == [
        ("jp-support", "major_failure_rate", "policy")
    ]
    assert card.missing_metrics == card.missing_cells and not card.passed
    classed = rate("jp-support", 1, 100, "major_failure_rate:timeout")
    card = judge(policy(TSR_FLOOR, named), evidence(rate("jp-support", 95, 100), classed))
    assert card.missing_cells == () and card.passed


def test_missing_cells_of_a_missing_cohort_are_listed_but_reported_once_as_the_cohort():
    card = judge(
        policy(TSR_FLOOR),
        evidence(rate("a", 90, 100)),
        evidence(rate("a", 90, 100), rate("gone", 90, 100), version="1"),
    )
    assert card.missing_cohorts == ("gone",)
    assert [(k.cohort, k.metric) for k in card.missing_cells] == [("gone", "task_success_rate")]
    assert card.missing_metrics == () and card.summary()["missing_cells"] == []


def test_a_metric_the_evidence_declares_otherwise_than_the_policy_cannot_be_judged():
    declared = {"custom_score": {"unit": "fraction", "direction": "higher", "kind": "rate"}}
    custom = policy({"metric": "custom_score", "floor": 0.5}, metrics=declared)
    as_value = {"custom_score": {"unit": "points", "direction": "higher", "kind": "value"}}
    row = {"cohort": "eu", "metric": "custom_score", "value": 95, "n": 100}
    with pytest.raises(JudgeError, match="the evidence declares custom_score as value .points, higher is better. "
                                         "but policy p declares it as rate"):
        judge(custom, evidence(row, metrics=as_value))
    same = {"cohort": "eu", "metric": "custom_score", "value": 0.95, "n": 100}
    good = evidence(same, metrics=declared)
    with pytest.raises(JudgeError, match="the baseline 1 declares custom_score"):
        judge(custom, good, evidence(row, version="1", metrics=as_value))
    assert judge(custom, good).passed


def test_numbers_the_statistics_refuse_are_a_judge_error_not_a_crash():
    from bot.core.evidence.evidence_set import EvidenceSet

    stored = EvidenceSet.model_validate(  # a stored body is not checked row by row again
        {"system": "search", "version": "2", "rows": [
            {"cohort": "a", "metric": "task_success_rate", "value": 0.5, "n": 100, "count": 9500}]}
    )
    with pytest.raises(JudgeError, match="cohort a, task_success_rate: successes must be between 0 and 100"):
        judge(policy(TSR_FLOOR), stored)


# -- edges, exact rule texts, the summary ----------------------------------------------------------------


def test_the_summary_is_the_documented_machine_readable_result():
    rules = (TSR_FLOOR, {"metric": "latency_p95_end_to_end", "ceiling": 3000})
    the_policy = policy(*rules)
    candidate = evidence(rate("a", 850, 1000), rate("thin", 5, 10), rate("a", 5, 100, "retry_rate"))
    baseline = evidence(rate("a", 930, 1000), rate("gone", 90, 100), version="1")
    card = judge(the_policy, candidate, baseline)
    regression = card.cell("a", "task_success_rate")
    assert regression is not None and regression.outcome is Outcome.REGRESSION
    assert card.summary() == {
        "system": "search",
        "version": "2.4.0",
        "baseline_version": "1",
        "policy": {"id": "p", "version": "1", "hash": the_policy.content_hash},
        "candidate_hash": candidate.content_hash,
        "baseline_hash": baseline.content_hash,
        "passed": False,
        "counts": {"pass": 0, "regression": 1, "fail": 0, "not-enough-evidence": 1},
        "failures": [{"cohort": "a", "metric": "task_success_rate", "outcome": "regression", "rule": regression.rule}],
        "not_enough_evidence": [{"cohort": "thin", "metric": "task_success_rate", "outcome": "not-enough-evidence",
                                 "rule": "min_sample 30: candidate n=10 is too small to judge"}],
        "missing_cohorts": ["gone"],
        "missing_cells": [],
        "unjudged": [{"cohort": "a", "metric": "retry_rate"}],
    }
    alone = judge(the_policy, candidate)
    assert (alone.baseline_version, alone.baseline_hash) == (None, None)
    assert alone.summary()["baseline_hash"] is None


def test_a_cell_is_found_by_its_cohort_and_metric():
    card = judge(
        policy(TSR_FLOOR, LATENCY),
        evidence(rate("a", 90, 100), latency("a", 2000), rate("b", 95, 100), latency("b", 2500)),
    )
    assert sorted((c.cohort, c.metric) for c in card.cells) == [
        ("a", "latency_p95_end_to_end"), ("a", "task_success_rate"),
        ("b", "latency_p95_end_to_end"), ("b", "task_success_rate"),
    ]
    cell = card.cell("b", "latency_p95_end_to_end")
    assert cell is not None and (cell.cohort, cell.metric, cell.candidate) == ("b", "latency_p95_end_to_end", 2500)
    assert card.cell("b", "task_success_rate").candidate == 0.95
    assert card.cell("c", "task_success_rate") is None and card.cell("a", "retry_rate") is None


def test_a_value_on_the_floor_or_the_ceiling_is_within():
    both = {"metric": "task_success_rate", "floor": 0.8, "ceiling": 0.95}
    on_floor = only_cell(judge(policy(both), evidence(rate("a", 800, 1000))))
    assert on_floor.outcome is Outcome.PASS
    assert on_floor.rule == "floor 0.80 and ceiling 0.95: candidate 0.80 [0.774, 0.824] within"
    on_ceiling = only_cell(judge(policy(both), evidence(rate("a", 950, 1000))))
    assert on_ceiling.outcome is Outcome.PASS and on_ceiling.rule.startswith("floor 0.80 and ceiling 0.95: ")
    # a rounding error's worth below the floor still counts as on it
    declared = {"csat": {"unit": "points", "direction": "higher"}}
    row = {"cohort": "a", "metric": "csat", "value": 3.5 - 1e-12, "n": 300}
    csat = policy({"metric": "csat", "floor": 3.5, "ceiling": 4.5}, metrics=declared)
    assert only_cell(judge(csat, evidence(row, metrics=declared))).outcome is Outcome.PASS
    above = {"cohort": "a", "metric": "csat", "value": 4.5 + 1e-12, "n": 300}
    assert only_cell(judge(csat, evidence(above, metrics=declared))).outcome is Outcome.PASS
    below = {"cohort": "a", "metric": "csat", "value": 3.49, "n": 300}
    assert only_cell(judge(csat, evidence(below, metrics=declared))).rule == "floor 3.5: candidate 3.49 below"


def test_a_drop_of_exactly_the_allowance_is_within_it():
    rule = {"metric": "task_success_rate", "max_regression": {"absolute": 0.02}}
    cell = only_cell(judge(policy(rule), evidence(rate("a", 18200, 20000)), evidence(rate("a", 18600, 20000), version="1")))
    assert cell.p_value < 1e-10 and cell.delta == pytest.approx(-0.02)
    assert cell.outcome is Outcome.PASS
    assert cell.rule == "change -0.02 [-0.025, -0.015], p=1.7e-13 is within the allowed -0.02"
    declared = {"csat": {"unit": "points", "direction": "higher"}}
    csat = policy({"metric": "csat", "max_regression": {"absolute": 0.2}}, metrics=declared)
    base = evidence({"cohort": "a", "metric": "csat", "value": 4.5, "n": 300}, version="1", metrics=declared)
    exact = evidence({"cohort": "a", "metric": "csat", "value": 4.3, "n": 300}, metrics=declared)
    assert only_cell(judge(csat, exact, base)).outcome is Outcome.PASS


def test_no_change_reads_plus_zero_and_p_has_three_decimals_from_a_thousandth():
    same = only_cell(judge(policy(TSR_FLOOR), evidence(rate("a", 900, 1000)), evidence(rate("a", 900, 1000), version="1")))
    assert same.rule == ("floor 0.80: candidate 0.90 [0.88, 0.917] within; "
                         "change +0.00 [-0.026, 0.026], p=1.000 is within noise (needs p < 0.05)")
    noisy = only_cell(judge(policy(TSR_FLOOR), evidence(rate("a", 180, 200)), evidence(rate("a", 186, 200), version="1")))
    assert noisy.p_value == pytest.approx(0.282, abs=5e-4)
    assert "change -0.03 [-0.087, 0.026], p=0.282 is within noise" in noisy.rule


def test_the_rules_confidence_sets_both_intervals():
    rule = TSR_FLOOR | {"confidence": 0.99}
    alone = only_cell(judge(policy(rule), evidence(rate("a", 850, 1000))))
    wilson99 = binomtest(850, 1000).proportion_ci(confidence_level=0.99, method="wilson")
    assert alone.interval == pytest.approx((wilson99.low, wilson99.high), abs=1e-9)
    compared = only_cell(judge(policy(rule), evidence(rate("a", 850, 1000)), evidence(rate("a", 930, 1000), version="1")))
    assert compared.interval_of == "difference"
    assert compared.interval == pytest.approx(newcombe_interval(930, 1000, 850, 1000, 0.99), abs=1e-12)
    assert compared.interval[0] < newcombe_interval(930, 1000, 850, 1000, 0.95)[0]  # wider than at 95%


def test_a_latency_has_no_interval_and_no_tolerance_means_any_slowdown_regresses():
    within = only_cell(judge(policy({"metric": "latency_p95_end_to_end", "ceiling": 5000}, latency_tolerance=0.1),
                             evidence(latency("a", 2150)), evidence(latency("a", 2000), version="1")))
    assert (within.interval, within.interval_of, within.outcome) == (None, None, Outcome.PASS)
    assert within.rule == ("ceiling 5000 ms: candidate 2150 ms within; "
                           "change 2150 ms vs baseline 2000 ms (+7.5%) is within the allowed +200 ms")
    strict = policy({"metric": "latency_p95_end_to_end", "ceiling": 5000}, latency_tolerance=0)
    slower = only_cell(judge(strict, evidence(latency("a", 2001)), evidence(latency("a", 2000), version="1")))
    assert slower.outcome is Outcome.REGRESSION
    assert slower.rule == "regression: 2001 ms vs baseline 2000 ms (+0.1%), allowed +0 ms"
    assert slower.notes == ("ceiling 5000 ms: candidate 2001 ms within",)


def test_plain_values_show_their_change_against_the_baseline():
    declared = {"csat": {"unit": "points", "direction": "higher"}}
    rule = {"metric": "csat", "floor": -5, "max_regression": {"absolute": 0.2}}

    def cell(base_value: float, value: float):
        base = evidence({"cohort": "a", "metric": "csat", "value": base_value, "n": 300}, version="1", metrics=declared)
        cand = evidence({"cohort": "a", "metric": "csat", "value": value, "n": 300}, metrics=declared)
        return only_cell(judge(policy(rule, metrics=declared), cand, base))

    worse = cell(4.5, 4.2)
    assert (worse.outcome, worse.rule) == (Outcome.REGRESSION, "regression: 4.2 vs baseline 4.5 (-6.7%), allowed -0.2")
    assert worse.notes == ("floor -5: candidate 4.2 within",)
    from_zero = cell(0, -0.5)  # no share of a zero baseline
    assert from_zero.rule == "regression: -0.5 vs baseline 0, allowed -0.2"
    assert cell(0, 0.5).rule == "floor -5: candidate 0.5 within; change 0.5 vs baseline 0 is within the allowed -0.2"


def test_a_failed_floor_keeps_the_comparison_and_a_regression_keeps_the_threshold_in_its_notes():
    base = evidence(rate("a", 930, 1000), version="1")
    failed = only_cell(judge(policy(TSR_FLOOR | {"floor": 0.9}), evidence(rate("a", 850, 1000)), base))
    assert failed.outcome is Outcome.FAIL and failed.check is Check.FLOOR
    assert len(failed.notes) == 1 and failed.notes[0].startswith("regression beyond noise: -0.08 ")
    regressed = only_cell(judge(policy(TSR_FLOOR), evidence(rate("a", 850, 1000)), base))
    assert regressed.outcome is Outcome.REGRESSION
    assert regressed.notes == ("floor 0.80: candidate 0.85 [0.827, 0.871] within",)
    only_regression = {"metric": "task_success_rate", "max_regression": {"absolute": 0.0}}
    bare = only_cell(judge(policy(only_regression), evidence(rate("a", 850, 1000)), base))
    assert bare.outcome is Outcome.REGRESSION and bare.notes == ()
    unmatched = only_cell(judge(policy(only_regression), evidence(rate("a", 850, 1000))))
    assert unmatched.outcome is Outcome.NOT_ENOUGH and unmatched.check is Check.NO_COMPARISON
    assert unmatched.rule == "only a regression rule applies and no baseline row for this cohort and metric"


def test_a_cohorts_own_rule_is_used_before_the_general_one():
    general = TSR_FLOOR | {"floor": 0.5}
    own = {"metric": "task_success_rate", "floor": 0.9, "cohorts": ["jp"]}
    card = judge(policy(general, own), evidence(rate("jp", 85, 100), rate("eu", 85, 100)))
    assert card.cell("jp", "task_success_rate").outcome is Outcome.FAIL
    assert card.cell("jp", "task_success_rate").rule.startswith("floor 0.90: ")
    assert card.cell("eu", "task_success_rate").outcome is Outcome.PASS


def test_only_baseline_cells_a_rule_judges_are_expected():
    own = {"metric": "task_success_rate", "floor": 0.9, "cohorts": ["jp"]}
    card = judge(
        policy(own, LATENCY),
        evidence(latency("jp", 2000), latency("eu", 2000)),
        evidence(rate("jp", 95, 100), rate("eu", 95, 100), rate("eu", 5, 100, "retry_rate"),
                 latency("jp", 2000), latency("eu", 2000), version="1"),
    )
    # jp's rate is judged by jp's own rule and the baseline had it; eu's rate and retry_rate no rule judges.
    assert [(k.cohort, k.metric, k.expected_by) for k in card.missing_cells] == [
        ("jp", "task_success_rate", "baseline")
    ]


def test_a_baseline_cell_needs_its_own_row_not_a_class_of_it():
    ceiling = {"metric": "major_failure_rate", "ceiling": 0.05}
    card = judge(
        policy(ceiling),
        evidence(rate("a", 1, 100, "major_failure_rate:timeout")),
        evidence(rate("a", 2, 100, "major_failure_rate"), version="1"),
    )
    assert [(k.cohort, k.metric, k.expected_by) for k in card.missing_cells] == [
        ("a", "major_failure_rate", "baseline")
    ]


def test_the_rounding_tolerance_counts_as_within_the_allowance():
    from bot.core.evidence.judge import EPSILON

    base, cand = evidence(rate("a", 930, 1000), version="1"), evidence(rate("a", 850, 1000))
    worse = 0.93 - 0.85
    allowance = worse - EPSILON  # the drop is the allowance plus exactly the tolerance
    assert allowance + EPSILON == worse
    at = only_cell(judge(policy({"metric": "task_success_rate", "max_regression": {"absolute": allowance}}), cand, base))
    assert at.outcome is Outcome.PASS and at.p_value < 1e-6
    beyond = {"metric": "task_success_rate", "max_regression": {"absolute": allowance - 1e-9}}
    assert only_cell(judge(policy(beyond), cand, base)).outcome is Outcome.REGRESSION

    declared = {"csat": {"unit": "points", "direction": "higher"}}
    csat = policy({"metric": "csat", "max_regression": {"absolute": 0.0}}, metrics=declared)
    zero = evidence({"cohort": "a", "metric": "csat", "value": 0, "n": 300}, version="1", metrics=declared)

    def against_zero(value: float):
        return only_cell(judge(csat, evidence({"cohort": "a", "metric": "csat", "value": value, "n": 300},
                                              metrics=declared), zero))

    assert against_zero(-EPSILON).outcome is Outcome.PASS
    assert against_zero(-10 * EPSILON).outcome is Outcome.REGRESSION
