"""From a cohort scorecard to suggested marks, contradictions, and watch-list breaches.

Pure core. A checklist item asks whether a risk exists, so a metric that passes everywhere
suggests No, failures in some cohorts suggest Partial, and failures in every judged cohort
suggest Yes. A metric of the item that the candidate left out of a cohort (which the baseline
measured, or the policy names) is not enough evidence: never a No. Suggestions are advice: a person
still sets the mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from bot.core.checklist import Checklist, Item, Mark
from bot.core.evidence.evidence_set import EvidenceSet
from bot.core.evidence.judge import Cell, Check, CohortScorecard, MissingCell, Outcome
from bot.core.evidence.metrics import Direction, base_metric, lookup
from bot.core.evidence.policy import ReleasePolicy

_PHRASES = {
    Check.FLOOR: "below the floor for",
    Check.CEILING: "above the ceiling for",
    Check.REGRESSION: "regressed beyond noise on",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Suggestion(_Frozen):
    """A suggested mark for one item; ``mark`` is None when the evidence is too thin to suggest one."""

    item_id: str
    mark: Mark | None
    reason: str
    cohorts: tuple[str, ...]
    metrics: tuple[str, ...]


class WatchRule(_Frozen):
    """A watch-list threshold; ``direction`` is which way is better (None: the metric's own)."""

    metric: str
    threshold: float
    direction: Direction | None = None


class Breach(_Frozen):
    cohort: str
    metric: str
    value: float
    threshold: float
    direction: Direction
    n: int
    source: str | None = None

    @property
    def text(self) -> str:
        side = "below" if self.direction is Direction.HIGHER else "above"
        return f"{self.cohort}: {self.metric} {self.value:g} is {side} the threshold {self.threshold:g} (n={self.n})"


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _cohort_list(cohorts: Sequence[str]) -> str:
    return ("cohort " if len(cohorts) == 1 else "cohorts ") + join_names(sorted(cohorts))


def item_cells(item: Item, scorecard: CohortScorecard) -> list[Cell]:
    """The scorecard cells for an item's metrics (a class of a metric counts as the metric)."""
    wanted = {base_metric(m) for m in item.metrics}
    return [c for c in scorecard.cells if c.metric in item.metrics or base_metric(c.metric) in wanted]


def item_missing(item: Item, scorecard: CohortScorecard) -> list[MissingCell]:
    """The expected cells of an item's metrics that the candidate left out."""
    wanted = {base_metric(m) for m in item.metrics}
    return [k for k in scorecard.missing_cells if k.metric in item.metrics or base_metric(k.metric) in wanted]


def _missing_reason(missing: Sequence[MissingCell], baseline_version: str | None) -> str:
    groups: dict[str, list[str]] = {}
    for key in missing:
        groups.setdefault(key.metric, []).append(key.cohort)
    where = f"the baseline {baseline_version} or the policy" if baseline_version else "the policy"
    parts = [f"{_cohort_list(cohorts)} left out {metric}" for metric, cohorts in sorted(groups.items())]
    return f"{'; '.join(parts)} (expected by {where})"


def _failure_reason(cells: Sequence[Cell]) -> str:
    groups: dict[tuple[Check, str], list[str]] = {}
    for cell in cells:
        groups.setdefault((cell.check, cell.metric), []).append(cell.cohort)
    parts = [
        f"{_cohort_list(cohorts)} {_PHRASES.get(check, 'failed on')} {metric}"
        for (check, metric), cohorts in sorted(groups.items())
    ]
    return "; ".join(parts)


def _suggest_item(
    checklist: Checklist, item: Item, cells: Sequence[Cell], missing: Sequence[MissingCell] = (),
    baseline_version: str | None = None,
) -> Suggestion:
    bad = [c for c in cells if c.failed]
    thin = [c for c in cells if c.outcome is Outcome.NOT_ENOUGH]
    judged = {c.cohort for c in cells if c.outcome is not Outcome.NOT_ENOUGH}
    label = checklist.marks
    if bad:
        cohorts = {c.cohort for c in bad}
        mark = Mark.YES if cohorts == judged else Mark.PARTIAL
        reason = f"{label[mark].label}: {_failure_reason(bad)}"
        keys = [(c.cohort, c.metric) for c in bad]
    elif thin or missing:
        mark = None
        parts = []
        if thin:
            metrics = join_names(sorted({c.metric for c in thin}))
            parts.append(f"{_cohort_list([*{c.cohort for c in thin}])} too thin to judge {metrics}")
        if missing:
            parts.append(_missing_reason(missing, baseline_version))
        reason = f"Not enough evidence: {'; '.join(parts)}"
        keys = [(c.cohort, c.metric) for c in thin] + [(k.cohort, k.metric) for k in missing]
    else:
        mark = Mark.NO
        metrics = join_names(sorted({c.metric for c in cells}))
        reason = f"{label[Mark.NO].label}: all {len(judged)} judged cohort(s) pass {metrics}"
        keys = [(c.cohort, c.metric) for c in cells]
    return Suggestion(
        item_id=item.id,
        mark=mark,
        reason=reason,
        cohorts=tuple(sorted({c for c, _ in keys})),
        metrics=tuple(sorted({m for _, m in keys})),
    )


def suggest(
    checklist: Checklist, scorecard: CohortScorecard, marks: Mapping[str, Mark | None]
) -> list[Suggestion]:
    """Suggestions in checklist order, leaving out those that equal the current mark.

    "Not enough evidence" notes (mark None) are always kept.
    """
    out: list[Suggestion] = []
    for item in checklist.items:
        cells, missing = item_cells(item, scorecard), item_missing(item, scorecard)
        if not cells and not missing:
            continue
        suggestion = _suggest_item(checklist, item, cells, missing, scorecard.baseline_version)
        if suggestion.mark is None or marks.get(item.id) != suggestion.mark:
            out.append(suggestion)
    return out


def contradictions(
    checklist: Checklist, scorecard: CohortScorecard, marks: Mapping[str, Mark | None]
) -> list[str]:
    """Items marked No although a metric of theirs fails or regresses in some cohort."""
    return [
        item.id
        for item in checklist.items
        if marks.get(item.id) is Mark.NO and any(c.failed for c in item_cells(item, scorecard))
    ]


def _rule(raw: WatchRule | tuple[str, float, str | Direction | None]) -> WatchRule:
    if isinstance(raw, WatchRule):
        return raw
    metric, threshold, direction = raw
    return WatchRule(metric=metric, threshold=threshold, direction=direction)


class Skipped(_Frozen):
    """A watched row left unchecked: its sample is below the policy's ``min_sample``."""

    cohort: str
    metric: str
    n: int
    min_sample: int

    @property
    def text(self) -> str:
        return f"{self.cohort}: {self.metric} n={self.n} is below min_sample {self.min_sample}"


class WatchCheck(_Frozen):
    breaches: tuple[Breach, ...] = ()
    skipped: tuple[Skipped, ...] = ()


def _min_sample(sample: ReleasePolicy | int | None, cohort: str, metric: str) -> int:
    if sample is None:
        return 1
    if isinstance(sample, int):
        return sample
    rule = sample.rule_for(cohort, metric)
    return sample.min_sample_for(rule) if rule is not None else sample.min_sample


def watch_check(
    watch_rules: Sequence[WatchRule | tuple[str, float, str | Direction | None]],
    evidence: EvidenceSet,
    sample: ReleasePolicy | int | None = None,
) -> WatchCheck:
    """Rows of post-launch evidence that cross a watch-list threshold, by cohort then metric, and the
    watched rows skipped for too little data.

    A rule on a metric also watches its classes (``major_failure_rate`` watches
    ``major_failure_rate:<class>``). ``sample`` is the release policy (its ``min_sample`` for the row's
    rule, else its own) or a plain minimum; a row with fewer cases is skipped, never alerted.
    Raises ValueError for a rule whose direction is unknown.
    """
    breaches: list[Breach] = []
    skipped: dict[tuple[str, str], Skipped] = {}
    for rule in (_rule(r) for r in watch_rules):
        direction = rule.direction
        if direction is None:
            spec = lookup(rule.metric, evidence.metrics)
            if spec is None:
                raise ValueError(f"watch rule on {rule.metric}: unknown metric, give its direction")
            direction = spec.direction
        for row in evidence.rows:
            if rule.metric not in (row.metric, base_metric(row.metric)):
                continue
            least = _min_sample(sample, row.cohort, row.metric)
            if row.n < least:
                skipped[(row.cohort, row.metric)] = Skipped(
                    cohort=row.cohort, metric=row.metric, n=row.n, min_sample=least
                )
                continue
            crossed = (
                row.value < rule.threshold if direction is Direction.HIGHER else row.value > rule.threshold
            )
            if crossed:
                breaches.append(
                    Breach(
                        cohort=row.cohort,
                        metric=row.metric,
                        value=row.value,
                        threshold=rule.threshold,
                        direction=direction,
                        n=row.n,
                        source=row.source,
                    )
                )
    return WatchCheck(
        breaches=tuple(sorted(breaches, key=lambda b: (b.cohort, b.metric, b.threshold))),
        skipped=tuple(skipped[k] for k in sorted(skipped)),
    )


def watch_breaches(
    watch_rules: Sequence[WatchRule | tuple[str, float, str | Direction | None]],
    evidence: EvidenceSet,
    sample: ReleasePolicy | int | None = None,
) -> list[Breach]:
    """The breaches of :func:`watch_check` (rows below ``sample``'s minimum are skipped)."""
    return list(watch_check(watch_rules, evidence, sample).breaches)
