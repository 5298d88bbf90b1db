"""From a cohort scorecard to suggested marks, contradictions, and watch-list breaches.

Pure core. A checklist item asks whether a risk exists, so a metric that passes everywhere
suggests No, failures in some cohorts suggest Partial, and failures in every judged cohort
suggest Yes. Suggestions are advice: a person still sets the mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from bot.checklist import Checklist, Item, Mark
from bot.evidence.evidence_set import EvidenceSet
from bot.evidence.judge import Cell, Check, CohortScorecard, Outcome
from bot.evidence.metrics import Direction, base_metric, lookup

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


def _failure_reason(cells: Sequence[Cell]) -> str:
    groups: dict[tuple[Check, str], list[str]] = {}
    for cell in cells:
        groups.setdefault((cell.check, cell.metric), []).append(cell.cohort)
    parts = [
        f"{_cohort_list(cohorts)} {_PHRASES.get(check, 'failed on')} {metric}"
        for (check, metric), cohorts in sorted(groups.items())
    ]
    return "; ".join(parts)


def _suggest_item(checklist: Checklist, item: Item, cells: Sequence[Cell]) -> Suggestion:
    bad = [c for c in cells if c.failed]
    thin = [c for c in cells if c.outcome is Outcome.NOT_ENOUGH]
    judged = {c.cohort for c in cells if c.outcome is not Outcome.NOT_ENOUGH}
    label = checklist.marks
    if bad:
        cohorts = {c.cohort for c in bad}
        mark = Mark.YES if cohorts == judged else Mark.PARTIAL
        reason = f"{label[mark].label}: {_failure_reason(bad)}"
        chosen = bad
    elif thin:
        mark, chosen = None, thin
        metrics = join_names(sorted({c.metric for c in thin}))
        reason = (
            f"Not enough evidence: {_cohort_list([*{c.cohort for c in thin}])} too thin to judge {metrics}"
        )
    else:
        mark, chosen = Mark.NO, list(cells)
        metrics = join_names(sorted({c.metric for c in cells}))
        reason = f"{label[Mark.NO].label}: all {len(judged)} judged cohort(s) pass {metrics}"
    return Suggestion(
        item_id=item.id,
        mark=mark,
        reason=reason,
        cohorts=tuple(sorted({c.cohort for c in chosen})),
        metrics=tuple(sorted({c.metric for c in chosen})),
    )


def suggest(
    checklist: Checklist, scorecard: CohortScorecard, marks: Mapping[str, Mark | None]
) -> list[Suggestion]:
    """Suggestions in checklist order, leaving out those that equal the current mark.

    "Not enough evidence" notes (mark None) are always kept.
    """
    out: list[Suggestion] = []
    for item in checklist.items:
        cells = item_cells(item, scorecard)
        if not cells:
            continue
        suggestion = _suggest_item(checklist, item, cells)
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


def watch_breaches(
    watch_rules: Sequence[WatchRule | tuple[str, float, str | Direction | None]], evidence: EvidenceSet
) -> list[Breach]:
    """Rows of post-launch evidence that cross a watch-list threshold, by cohort then metric.

    A rule on a metric also watches its classes (``major_failure_rate`` watches
    ``major_failure_rate:<class>``). Raises ValueError for a rule whose direction is unknown.
    """
    breaches: list[Breach] = []
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
    return sorted(breaches, key=lambda b: (b.cohort, b.metric, b.threshold))
