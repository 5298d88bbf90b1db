"""Judging a candidate evidence set against the release policy and a baseline.

Pure core. Per cohort and metric with a rule: a sample below ``min_sample`` is never a pass;
floors and ceilings are checked on the point estimate (the interval is shown beside it);
a rate regresses only when the two-proportion test is significant at the rule's confidence
AND the worsening exceeds ``max_regression``; a latency regresses when it is worse than the
baseline by more than the larger of the policy's ``latency_tolerance`` and the rule's
allowance (this check runs on every latency rule that has a baseline to compare with).

Gaps: a cohort of the baseline (or named by the policy) absent from the candidate is a missing cohort;
a cohort and metric the baseline measured under a rule (or a named cohort's metric) absent from the
candidate is a missing cell. Either keeps the scorecard from passing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.core.evidence.evidence_set import EvidenceRow, EvidenceSet
from bot.core.evidence.metrics import Direction, Kind, MetricSpec, base_metric
from bot.core.evidence.policy import ReleasePolicy, Rule
from bot.core.evidence.stats import newcombe_interval, two_proportion_z, wilson_interval

EPSILON = 1e-12


class Outcome(StrEnum):
    PASS = "pass"
    REGRESSION = "regression"
    FAIL = "fail"
    NOT_ENOUGH = "not-enough-evidence"


class Check(StrEnum):
    """What decided a cell's outcome."""

    MIN_SAMPLE = "min-sample"
    FLOOR = "floor"
    CEILING = "ceiling"
    REGRESSION = "regression"
    NO_COMPARISON = "no-comparison"
    ALL = "all-checks"


class JudgeError(ValueError):
    """The inputs cannot be judged together (another system's policy or baseline)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cell(_Frozen):
    cohort: str
    metric: str
    kind: Kind
    unit: str
    direction: Direction
    outcome: Outcome
    check: Check
    rule: str
    candidate: float
    n: int
    baseline: float | None = None
    baseline_n: int | None = None
    delta: float | None = None
    interval: tuple[float, float] | None = None
    interval_of: Literal["difference", "candidate"] | None = None
    p_value: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome in (Outcome.FAIL, Outcome.REGRESSION)


class CellKey(_Frozen):
    cohort: str
    metric: str


class MissingCell(CellKey):
    """A cohort and metric a rule judges, expected but absent from the candidate."""

    expected_by: Literal["baseline", "policy"]


class CohortScorecard(_Frozen):
    system: str
    version: str
    candidate_hash: str
    baseline_version: str | None = None
    baseline_hash: str | None = None
    policy_id: str
    policy_version: str
    policy_hash: str
    cells: tuple[Cell, ...]
    missing_cohorts: tuple[str, ...] = ()
    missing_cells: tuple[MissingCell, ...] = ()  # every expected pair absent, in missing cohorts too
    unjudged: tuple[CellKey, ...] = ()

    def failures(self) -> list[Cell]:
        """Cells that fail the gate: below a floor, above a ceiling, or regressed beyond noise."""
        return [c for c in self.cells if c.failed]

    def with_outcome(self, outcome: Outcome) -> list[Cell]:
        return [c for c in self.cells if c.outcome is outcome]

    @property
    def passed(self) -> bool:
        """True only when there are cells, every cell passes and no cohort or cell is missing."""
        return (
            bool(self.cells)
            and not self.missing_cohorts
            and not self.missing_cells
            and all(c.outcome is Outcome.PASS for c in self.cells)
        )

    @property
    def missing_metrics(self) -> tuple[MissingCell, ...]:
        """Missing cells of cohorts the candidate has (a wholly missing cohort is reported as such)."""
        gone = set(self.missing_cohorts)
        return tuple(k for k in self.missing_cells if k.cohort not in gone)

    def counts(self) -> dict[str, int]:
        return {o.value: len(self.with_outcome(o)) for o in Outcome}

    @property
    def cohorts(self) -> tuple[str, ...]:
        return tuple(sorted({c.cohort for c in self.cells}))

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(sorted({c.metric for c in self.cells}))

    def cell(self, cohort: str, metric: str) -> Cell | None:
        return next((c for c in self.cells if c.cohort == cohort and c.metric == metric), None)

    def summary(self) -> dict[str, object]:
        """The machine-readable result for ``--json`` and HTTP answers."""

        def brief(c: Cell) -> dict[str, object]:
            return {"cohort": c.cohort, "metric": c.metric, "outcome": c.outcome.value, "rule": c.rule}

        return {
            "system": self.system,
            "version": self.version,
            "baseline_version": self.baseline_version,
            "policy": {"id": self.policy_id, "version": self.policy_version, "hash": self.policy_hash},
            "candidate_hash": self.candidate_hash,
            "baseline_hash": self.baseline_hash,
            "passed": self.passed,
            "counts": self.counts(),
            "failures": [brief(c) for c in self.failures()],
            "not_enough_evidence": [brief(c) for c in self.with_outcome(Outcome.NOT_ENOUGH)],
            "missing_cohorts": list(self.missing_cohorts),
            "missing_cells": [k.model_dump() for k in self.missing_metrics],
            "unjudged": [k.model_dump() for k in self.unjudged],
        }


def fmt(value: float, spec: MetricSpec) -> str:
    """A value as the rule texts show it: rates with 2-3 decimals, latencies in whole units."""
    if spec.kind is Kind.RATE:
        text = f"{value:.3f}"
        return text[:-1] if text.endswith("0") else text
    if spec.kind is Kind.LATENCY:
        return f"{value:.0f} {spec.unit}"
    return f"{value:.4g}"


def _signed(value: float, spec: MetricSpec) -> str:
    return ("+" if value >= 0 else "-") + fmt(abs(value), spec)


def _p(p: float) -> str:
    return f"p={p:.2g}" if p < 0.001 else f"p={p:.3f}"


def _span(interval: tuple[float, float] | None, spec: MetricSpec) -> str:
    return "" if interval is None else f" [{fmt(interval[0], spec)}, {fmt(interval[1], spec)}]"


def _threshold(
    rule: Rule, spec: MetricSpec, row: EvidenceRow, interval: tuple[float, float] | None
) -> tuple[bool, Check, str] | None:
    """The floor/ceiling check on the point estimate: (failed, which, text), or None without one."""
    shown = f"candidate {fmt(row.value, spec)}{_span(interval, spec)}"
    if rule.floor is not None and row.value < rule.floor - EPSILON:
        return True, Check.FLOOR, f"floor {fmt(rule.floor, spec)}: {shown} below"
    if rule.ceiling is not None and row.value > rule.ceiling + EPSILON:
        return True, Check.CEILING, f"ceiling {fmt(rule.ceiling, spec)}: {shown} above"
    limits = [
        f"{name} {fmt(limit, spec)}"
        for name, limit in (("floor", rule.floor), ("ceiling", rule.ceiling))
        if limit is not None
    ]
    return (False, Check.ALL, f"{' and '.join(limits)}: {shown} within") if limits else None


class _Comparison(_Frozen):
    regressed: bool
    text: str
    delta: float
    interval: tuple[float, float] | None = None
    p_value: float | None = None


def _compare_rate(
    rule: Rule, spec: MetricSpec, base: EvidenceRow, cand: EvidenceRow, confidence: float
) -> _Comparison | None:
    if rule.max_regression is None:
        return None
    test = two_proportion_z(base.successes(), base.n, cand.successes(), cand.n)
    interval = newcombe_interval(base.successes(), base.n, cand.successes(), cand.n, confidence)
    delta, alpha = cand.value - base.value, 1 - confidence
    worse, allowed = spec.worse(base.value, cand.value), rule.max_regression.allowed(base.value)
    allowed_text = _signed(allowed if spec.direction is Direction.LOWER else -allowed, spec)
    change = f"{_signed(delta, spec)}{_span(interval, spec)}, {_p(test.p_value)}"
    significant = test.p_value < alpha
    if significant and worse > allowed + EPSILON:
        text = f"regression beyond noise: {change} < {alpha:g}, allowed {allowed_text}"
        return _Comparison(regressed=True, text=text, delta=delta, interval=interval, p_value=test.p_value)
    if not significant:
        text = f"change {change} is within noise (needs p < {alpha:g})"
    elif worse <= 0:
        text = f"improved {change}"
    else:
        text = f"change {change} is within the allowed {allowed_text}"
    return _Comparison(regressed=False, text=text, delta=delta, interval=interval, p_value=test.p_value)


def _compare_plain(
    policy: ReleasePolicy, rule: Rule, spec: MetricSpec, base: EvidenceRow, cand: EvidenceRow
) -> _Comparison | None:
    latency = spec.kind is Kind.LATENCY
    if rule.max_regression is None and not latency:
        return None
    allowed = rule.max_regression.allowed(base.value) if rule.max_regression else 0.0
    if latency:
        allowed = max(allowed, policy.latency_tolerance * abs(base.value))
    delta, worse = cand.value - base.value, spec.worse(base.value, cand.value)
    share = f" ({delta / base.value:+.1%})" if base.value else ""
    shown = f"{fmt(cand.value, spec)} vs baseline {fmt(base.value, spec)}{share}"
    allowed_text = _signed(allowed if spec.direction is Direction.LOWER else -allowed, spec)
    if worse > allowed + EPSILON:
        return _Comparison(regressed=True, delta=delta, text=f"regression: {shown}, allowed {allowed_text}")
    return _Comparison(
        regressed=False, delta=delta, text=f"change {shown} is within the allowed {allowed_text}"
    )


def _judge_cell(
    policy: ReleasePolicy, rule: Rule, spec: MetricSpec, cand: EvidenceRow, base: EvidenceRow | None
) -> Cell:
    min_n, confidence = policy.min_sample_for(rule), policy.confidence_for(rule)
    is_rate = spec.kind is Kind.RATE
    own = wilson_interval(cand.successes(), cand.n, confidence) if is_rate else None
    fields = {
        "cohort": cand.cohort,
        "metric": cand.metric,
        "kind": spec.kind,
        "unit": spec.unit,
        "direction": spec.direction,
        "candidate": cand.value,
        "n": cand.n,
        "interval": own,
        "interval_of": "candidate" if is_rate else None,
    }
    if base is not None:
        fields |= {"baseline": base.value, "baseline_n": base.n, "delta": cand.value - base.value}
    if cand.n < min_n:
        return Cell(
            **fields,
            outcome=Outcome.NOT_ENOUGH,
            check=Check.MIN_SAMPLE,
            rule=f"min_sample {min_n}: candidate n={cand.n} is too small to judge",
        )
    notes: list[str] = []
    comparison = None
    if base is None:
        notes.append("no baseline row for this cohort and metric")
    elif base.n < min_n:
        notes.append(f"baseline n={base.n} is below min_sample {min_n}: no regression comparison")
    elif is_rate:
        comparison = _compare_rate(rule, spec, base, cand, confidence)
    else:
        comparison = _compare_plain(policy, rule, spec, base, cand)
    if comparison is not None and comparison.interval is not None:
        fields |= {
            "interval": comparison.interval,
            "interval_of": "difference",
            "p_value": comparison.p_value,
        }
    threshold = _threshold(rule, spec, cand, own)
    if threshold is not None and threshold[0]:
        extra = [comparison.text] if comparison else []
        return Cell(
            **fields, outcome=Outcome.FAIL, check=threshold[1], rule=threshold[2], notes=tuple(extra + notes)
        )
    if comparison is not None and comparison.regressed:
        extra = [threshold[2]] if threshold else []
        return Cell(
            **fields,
            outcome=Outcome.REGRESSION,
            check=Check.REGRESSION,
            rule=comparison.text,
            notes=tuple(extra + notes),
        )
    if threshold is None and comparison is None:
        reason = notes[0] if notes else "nothing to check"
        return Cell(
            **fields,
            outcome=Outcome.NOT_ENOUGH,
            check=Check.NO_COMPARISON,
            rule=f"only a regression rule applies and {reason}",
        )
    texts = [t for t in (threshold[2] if threshold else None, comparison.text if comparison else None) if t]
    return Cell(**fields, outcome=Outcome.PASS, check=Check.ALL, rule="; ".join(texts), notes=tuple(notes))


def _declaration_conflicts(policy: ReleasePolicy, evidence: EvidenceSet, which: str) -> None:
    """Refuse evidence that declares a metric otherwise than the policy does (kind, unit or direction)."""
    for name, declared in sorted(evidence.metrics.items()):
        ruled = policy.metrics.get(name)
        if ruled is not None and ruled != declared:
            raise JudgeError(
                f"the {which} declares {name} as {_describe(declared)} but policy {policy.id} "
                f"declares it as {_describe(ruled)}; declare it the same way in both"
            )


def _describe(spec: MetricSpec) -> str:
    return f"{spec.kind.value} ({spec.unit}, {spec.direction.value} is better)"


def _expected(
    policy: ReleasePolicy, baseline: EvidenceSet | None
) -> dict[tuple[str, str], Literal["baseline", "policy"]]:
    """Cells the candidate should have: baseline cells a rule judges, and each named cohort's metric."""
    expected: dict[tuple[str, str], Literal["baseline", "policy"]] = {}
    for row in baseline.rows if baseline is not None else ():
        if policy.rule_for(row.cohort, row.metric) is not None and policy.spec(row.metric) is not None:
            expected[(row.cohort, row.metric)] = "baseline"
    for rule in policy.rules:
        for cohort in () if rule.cohorts == "all" else rule.cohorts:
            expected.setdefault((cohort, rule.metric), "policy")
    return expected


def judge(
    policy: ReleasePolicy, candidate: EvidenceSet, baseline: EvidenceSet | None = None
) -> CohortScorecard:
    """Judge every candidate row that a rule covers; list gaps and rows no rule covers.

    Raises JudgeError when the inputs cannot be judged together: another system's policy or baseline,
    a metric declared otherwise than the policy declares it, or numbers the statistics refuse.
    """
    if policy.system is not None and policy.system != candidate.system:
        raise JudgeError(f"policy {policy.id} is for system {policy.system!r}, not {candidate.system!r}")
    if baseline is not None and baseline.system != candidate.system:
        raise JudgeError(f"baseline is for system {baseline.system!r}, not {candidate.system!r}")
    _declaration_conflicts(policy, candidate, "evidence")
    if baseline is not None:
        _declaration_conflicts(policy, baseline, f"baseline {baseline.version}")
    cells: list[Cell] = []
    unjudged: list[CellKey] = []
    for row in candidate.rows:
        rule = policy.rule_for(row.cohort, row.metric)
        spec = policy.spec(row.metric) if rule else None
        if rule is None or spec is None:
            unjudged.append(CellKey(cohort=row.cohort, metric=row.metric))
            continue
        base = baseline.row(row.cohort, row.metric) if baseline is not None else None
        try:
            cells.append(_judge_cell(policy, rule, spec, row, base))
        except ValueError as exc:  # numbers the statistics cannot take (e.g. a count beyond n)
            raise JudgeError(f"cohort {row.cohort}, {row.metric}: {exc}") from None
    expected = set(policy.named_cohorts) | set(baseline.cohorts if baseline is not None else ())
    classed = {(r.cohort, base_metric(r.metric)) for r in candidate.rows}
    missing = [  # a baseline cell needs its own row; a policy's rule on a base metric is met by a class too
        MissingCell(cohort=cohort, metric=metric, expected_by=why)
        for (cohort, metric), why in sorted(_expected(policy, baseline).items())
        if candidate.row(cohort, metric) is None and (why == "baseline" or (cohort, metric) not in classed)
    ]
    return CohortScorecard(
        system=candidate.system,
        version=candidate.version,
        candidate_hash=candidate.content_hash,
        baseline_version=baseline.version if baseline is not None else None,
        baseline_hash=baseline.content_hash if baseline is not None else None,
        policy_id=policy.id,
        policy_version=policy.version,
        policy_hash=policy.content_hash,
        cells=tuple(cells),
        missing_cohorts=tuple(sorted(expected - set(candidate.cohorts))),
        missing_cells=tuple(missing),
        unjudged=tuple(unjudged),
    )
