"""From per-sample results to evidence rows: the counting every importer shares. Pure core.

* A sample is in the cohort its cohort keys name (dot paths, looked up in the sample's metadata first,
  then from the record's top level). A sample without them is counted under :data:`NO_COHORT`, never
  dropped; with no key given, every sample is in the cohort ``all``. A sample whose label is itself
  ``(none)`` is refused: it would be counted with the samples that lack the key, and the count the import
  reports of those would not match the cohort's row.
* ``task_success_rate``: n = every sample of the cohort, count = the passes; a sample whose provider or
  solver errored is in n and is not a pass. ``error_rate`` (when the tool records errors): count = the
  errored samples, over the same n.
* Latency percentiles (``latency_p50/p95/p99_end_to_end``, ms) by the nearest-rank method: the smallest
  recorded value with at least p% of the cohort's recorded values at or below it (always a value that
  was measured); n = the samples with a latency.
* Every other score becomes a metric (see :class:`ScoreRule`): a rate (n = the samples that carry the
  score, count = those at or above its threshold) or a mean (a value metric, n = the samples that carry it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.evidence.importers.reading import ImportProblem, shown
from bot.core.evidence.metrics import KNOWN_METRICS, Kind, MetricSpec, canonical_cohort, lookup

NO_COHORT = "(none)"
ALL = "all"
PERCENTILES = (50, 95, 99)
SUCCESS, ERRORS = "task_success_rate", "error_rate"
MISSING = object()
_WORDS = {"true": 1.0, "false": 0.0, "pass": 1.0, "passed": 1.0, "fail": 0.0, "failed": 0.0, "yes": 1.0,
          "no": 0.0, "c": 1.0, "correct": 1.0, "i": 0.0, "incorrect": 0.0, "p": 0.5, "partial": 0.5,
          "n": 0.0, "noanswer": 0.0}
_UNSAFE = re.compile(r"[^a-z0-9_]+")


def resolve(path: str, record: Any, base: Any = None) -> Any:
    """The value at a dot path: in ``base`` (the sample's metadata) if it is there, else from the record's
    top level; :data:`MISSING` when neither has it. A null counts as missing."""
    for root in (base, record):
        value = root
        for part in path.split("."):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                value = MISSING
                break
        if value is not MISSING and value is not None:
            return value
    return MISSING


def label(value: Any, key: str, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise ImportProblem(f"{where}, {shown(key)}: holds {type(value).__name__}, not a cohort label")


def cohort_of(keys: Sequence[str], record: Any, base: Any, where: str) -> tuple[str, bool]:
    """(the cohort, whether any cohort key was missing)."""
    if not keys:
        return ALL, False
    found = {k: resolve(k, record, base) for k in keys}
    labels = {k: NO_COHORT if v is MISSING else label(v, k, where) for k, v in found.items()}
    for k, v in found.items():
        if v is not MISSING and labels[k] == NO_COHORT:  # it would be counted with the samples without the key
            raise ImportProblem(f'{where}, {shown(k)}: the label "{NO_COHORT}" is the name of the cohort of samples '
                                f"without {shown(k)}; rename it in the file")
    missing = any(v is MISSING or labels[k] == "" for k, v in found.items())
    if all(v is MISSING for v in found.values()):
        return NO_COHORT, True
    labels = {k: v or NO_COHORT for k, v in labels.items()}
    raw: Any = labels[keys[0]] if len(keys) == 1 else labels
    try:
        return canonical_cohort(raw), missing
    except ValueError as exc:
        raise ImportProblem(f"{where}, {shown(', '.join(keys))}: the cohort {exc}") from None


def score_value(raw: Any) -> float | None:
    """A score as a number: booleans and pass words (C/I, PASS/FAIL, true/false, yes/no) as 1 and 0,
    Inspect's P as 0.5; None when there is none (missing, null, NaN)."""
    if raw is None or raw is MISSING:
        return None
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        return None if math.isnan(raw) else float(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if not text:
            return None
        if text in _WORDS:
            return _WORDS[text]
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{shown(raw)} is not a score (a number, true/false, pass/fail or C/I)") from None
        return None if math.isnan(value) else value
    raise ValueError(f"holds {type(raw).__name__}, not a score")


def metric_name(score: str) -> str:
    """A score's name as a metric name: lower case, other characters as underscores."""
    name = _UNSAFE.sub("_", score.strip().lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"score_{name}".rstrip("_")
    return name[:61]


@dataclass
class Sample:
    """One sample's result, as every importer reads it."""

    cohort: str
    passed: bool
    errored: bool = False
    latency_ms: float | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreRule:
    """How one score becomes a metric. ``threshold``: the score counts at or above it (a rate); without
    one a score whose values are all 0 or 1 is a rate, any other a mean (a value metric)."""

    metric: str
    threshold: float | None = None
    kind: Kind | None = None
    unit: str | None = None
    direction: str | None = None


@dataclass
class Counted:
    rows: list[dict[str, Any]]
    metrics: dict[str, MetricSpec]
    samples: int


def nearest_rank(values: Sequence[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def _rate(cohort: str, metric: str, count: int, n: int) -> dict[str, Any]:
    return {"cohort": cohort, "metric": metric, "value": count / n, "n": n, "count": count}


def _number(value: float) -> float | int:
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def count(samples: Iterable[Sample], *, errors: bool, rules: Mapping[str, ScoreRule]) -> Counted:
    """Evidence rows (sorted by cohort, then metric) and the declarations of the metrics they name."""
    by_cohort: dict[str, list[Sample]] = {}
    total = 0
    for sample in samples:
        by_cohort.setdefault(sample.cohort, []).append(sample)
        total += 1
    rows: list[dict[str, Any]] = []
    declared: dict[str, MetricSpec] = {}
    for cohort in sorted(by_cohort):
        group = by_cohort[cohort]
        rows.append(_rate(cohort, SUCCESS, sum(1 for s in group if s.passed and not s.errored), len(group)))
        if errors:
            rows.append(_rate(cohort, ERRORS, sum(1 for s in group if s.errored), len(group)))
        latencies = [s.latency_ms for s in group if s.latency_ms is not None]
        for p in PERCENTILES if latencies else ():
            rows.append({"cohort": cohort, "metric": f"latency_p{p}_end_to_end",
                         "value": _number(nearest_rank(latencies, p)), "n": len(latencies), "count": None})
        for score, rule in rules.items():
            values = [s.scores[score] for s in group if score in s.scores]
            if values:
                row, spec = _score_row(cohort, rule, values, by_cohort, score)
                rows.append(row)
                if rule.metric not in KNOWN_METRICS:
                    declared[rule.metric] = spec
    rows.sort(key=lambda r: (r["cohort"], r["metric"]))
    return Counted(rows, declared, total)


def _kind(rule: ScoreRule, score: str, by_cohort: Mapping[str, list[Sample]]) -> Kind:
    known = lookup(rule.metric)
    if known is not None:
        return known.kind
    if rule.kind is not None:
        return rule.kind
    if rule.threshold is not None:
        return Kind.RATE
    every = (s.scores[score] for group in by_cohort.values() for s in group if score in s.scores)
    return Kind.RATE if all(v in (0.0, 1.0) for v in every) else Kind.VALUE


def _score_row(cohort: str, rule: ScoreRule, values: list[float], by_cohort: Mapping[str, list[Sample]],
               score: str) -> tuple[dict[str, Any], MetricSpec]:
    kind = _kind(rule, score, by_cohort)
    known = lookup(rule.metric)
    spec = known or MetricSpec(unit=rule.unit or ("fraction" if kind is Kind.RATE else "score"),
                               direction=rule.direction or "higher", kind=kind)  # type: ignore[arg-type]
    if kind is Kind.RATE:
        threshold = 1.0 if rule.threshold is None else rule.threshold
        if rule.threshold is None and any(v not in (0.0, 1.0) for v in values):
            raise ImportProblem(f"score {shown(score)}: {rule.metric} is a rate, and the score is not only 0 "
                                "and 1: give it a threshold in the mapping")
        return _rate(cohort, rule.metric, sum(1 for v in values if v >= threshold), len(values)), spec
    if kind is Kind.LATENCY:
        raise ImportProblem(f"score {shown(score)}: {rule.metric} is a latency; latencies come from the "
                            "tool's own timing (or the mapping's latency field)")
    return {"cohort": cohort, "metric": rule.metric, "value": _number(sum(values) / len(values)),
            "n": len(values), "count": None}, spec


@dataclass
class Imported:
    """What an import found: the evidence rows (the rows ``evidence_from_data`` takes), the declarations of
    the metrics that are not known ones, and what the reader noticed (samples without a cohort, ...)."""

    format: str
    tool: str | None
    tool_version: str | None
    rows: list[dict[str, Any]]
    metrics: dict[str, MetricSpec]
    samples: int
    without_cohort: int
    notes: list[str]

    def as_json(self) -> dict[str, Any]:
        """The dry run's object, exactly these keys (the README documents them; a test pins them): issue 15's
        format, tool, tool_version and rows, and metrics (the rows cannot be pushed without the declarations)
        and notes (what the reader noticed)."""
        return {"format": self.format, "tool": self.tool, "tool_version": self.tool_version, "rows": self.rows,
                "metrics": {k: v.model_dump(mode="json") for k, v in self.metrics.items()}, "notes": self.notes}

    def evidence_data(self, system: str | None, version: str | None) -> dict[str, Any]:
        """The evidence set's data: what ``evidence_from_data`` validates and ``evidence push`` stores."""
        data: dict[str, Any] = {"rows": [{k: v for k, v in r.items() if v is not None} for r in self.rows]}
        if self.metrics:
            data["metrics"] = {k: v.model_dump(mode="json") for k, v in self.metrics.items()}
        for name, value in (("system", system), ("version", version)):
            if value is not None:
                data[name] = value
        return data


class Collector:
    """Gathers the samples of one file: their cohorts (and how many had none), then the rows."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        self.samples: list[Sample] = []
        self.without_cohort = 0
        self.notes: list[str] = []

    def cohort(self, record: Any, base: Any, where: str) -> str:
        cohort, missing = cohort_of(self.keys, record, base, where)
        self.without_cohort += missing
        return cohort

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def finish(self, fmt: str, tool: str | None, version: str | None, *, errors: bool,
               rules: Mapping[str, ScoreRule], source: str) -> Imported:
        if not self.samples:
            raise ImportProblem(f"{source}: the file holds no samples")
        counted = count(self.samples, errors=errors, rules=rules)
        notes = list(self.notes)
        if self.without_cohort:
            keys = " and ".join(self.keys)
            notes.insert(0, f"{self.without_cohort} of {counted.samples} sample(s) had no {keys}: counted under "
                            f"cohort {NO_COHORT}")
        return Imported(fmt, tool, version, counted.rows, counted.metrics, counted.samples, self.without_cohort,
                        notes)
