"""lm-evaluation-harness output: ``--log_samples``'s ``samples_<task>_<date>.jsonl`` (one line per document
and filter) and ``results_<date>.json`` (aggregates only). Pure core.

Samples: the metric that decides success is the mapping's ``success.score``, else the first name in a line's
``metrics``; a document passes at or above the threshold (default 1, so ``exact_match`` and ``acc`` pass at
1.0). The other metrics become metrics. The cohort keys are looked up in ``doc`` (your dataset's row), then
from the line's top level; lm-eval writes a column missing from some rows as null, which counts as missing.
When lines of several filters are present, those of one filter are counted (the mapping's ``filter``, else the
first line's). lm-eval records no errors and no per-document latency.

Results: one set of rows per task, the task's name as the cohort and ``n-samples`` as n; a metric whose value
times n is a whole number (a share of passes) is a rate with that count, any other a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.evidence.importers.counting import SUCCESS, Collector, Imported, Sample, score_value
from bot.core.evidence.importers.mapping import Options
from bot.core.evidence.importers.reading import ImportProblem, shown
from bot.core.evidence.metrics import KNOWN_METRICS, Kind, MetricSpec, canonical_cohort

FORMAT, TOOL = "lm-eval", "lm_eval"
SKIPPED = ("alias", "name", "sample_len", " ")


def is_sample(data: Any) -> bool:
    return isinstance(data, Mapping) and "doc_id" in data and isinstance(data.get("doc"), Mapping)


def is_results(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("results"), Mapping) and \
        isinstance(data.get("n-samples"), Mapping)


def from_samples(lines: Iterable[tuple[str, Any]], source: str, options: Options) -> Imported:
    found = Collector(options.cohort)
    chosen_filter, first, other_filters = options.lm_filter, options.success_score, 0
    metrics: dict[str, None] = {}
    for where, line in lines:
        if not is_sample(line):
            raise ImportProblem(f"{where}: not an lm-eval sample (no doc_id and doc)")
        line_filter = line.get("filter")
        chosen_filter = chosen_filter or line_filter
        if line_filter is not None and line_filter != chosen_filter:
            other_filters += 1
            continue
        names = [str(m) for m in line.get("metrics") or [] if isinstance(m, str)]
        first = first or (names[0] if names else None)
        if first is None:
            raise ImportProblem(f"{where}, metrics: missing (it names the metric that decides success)")
        values: dict[str, float] = {}
        for name in dict.fromkeys([first, *names]):
            try:
                value = score_value(line.get(name))
            except ValueError as exc:
                raise ImportProblem(f"{where}, {shown(name)}: {exc}") from None
            if value is None and name == first:
                raise ImportProblem(f"{where}, {shown(name)}: missing (it decides success)")
            if value is not None:
                values[name] = value
                metrics.setdefault(name, None)
        cohort = found.cohort(line, line["doc"], where)
        found.add(Sample(cohort=cohort, passed=values[first] >= options.success_threshold(),
                         scores={k: v for k, v in values.items() if k != first}))
    if other_filters:
        found.notes.append(f"{other_filters} line(s) of filters other than {shown(chosen_filter)} were left out "
                           "(choose one with filter: in the mapping)")
    found.notes.append("lm-eval records no errors and no per-document latency; its samples file does not "
                       "name the lm-eval version")
    options.check_scores(metrics, source)
    rules = {m: r for m in metrics if m != first and (r := options.rule_for(m)) is not None}
    return found.finish(FORMAT, TOOL, None, errors=False, rules=rules, source=source)


def _task_metrics(entry: Mapping[str, Any], wanted: str | None) -> tuple[str | None, dict[str, float]]:
    """(the filter, {metric: value}) of one task's results, ``_stderr`` entries left out."""
    by_filter: dict[str, dict[str, float]] = {}
    for key, value in entry.items():
        metric, _, filt = str(key).partition(",")
        if key in SKIPPED or not filt or metric.endswith("_stderr") or isinstance(value, bool) or \
                not isinstance(value, int | float) or value != value:
            continue
        by_filter.setdefault(filt, {})[metric] = float(value)
    if not by_filter:
        return None, {}
    filt = wanted if wanted in by_filter else ("none" if "none" in by_filter else next(iter(by_filter)))
    return filt, by_filter[filt]


def from_results(data: Any, source: str, options: Options) -> Imported:
    if not is_results(data):
        raise ImportProblem(f"{source}: not an lm-eval results file (no results and n-samples)")
    version = data.get("lm_eval_version")
    better = data.get("higher_is_better") if isinstance(data.get("higher_is_better"), Mapping) else {}
    rows: list[dict[str, Any]] = []
    declared: dict[str, MetricSpec] = {}
    seen: dict[str, None] = {}
    for task, sizes in data["n-samples"].items():
        where = f"{source}, n-samples.{shown(task)}"
        n = sizes.get("effective", sizes.get("original")) if isinstance(sizes, Mapping) else None
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ImportProblem(f"{where}: expected a sample count, got {shown(n)}")
        entry = data["results"].get(task)
        filt, values = _task_metrics(entry if isinstance(entry, Mapping) else {}, options.lm_filter)
        if not values:
            raise ImportProblem(f"{source}, results.{shown(task)}: no metric values")
        seen.update(dict.fromkeys(values))
        first = options.success_score or next(iter(values))
        if first not in values:
            raise ImportProblem(f"{source}, results.{shown(task)}: no {shown(first)} for filter {shown(filt)}")
        try:
            cohort = canonical_cohort(str(task))
        except ValueError as exc:
            raise ImportProblem(f"{where}: the task name as a cohort {exc}") from None
        passes = _count(values[first], n)
        if passes is None:
            raise ImportProblem(f"{source}, results.{shown(task)}.{shown(first)}: {values[first]:g} over {n} "
                                "samples is not a share of passes; import the samples file instead")
        rows.append({"cohort": cohort, "metric": SUCCESS, "value": passes / n, "n": n, "count": passes})
        for metric, value in values.items():
            rule = options.rule_for(metric) if metric != first else None
            if rule is None:
                continue
            higher = (better.get(task) or {}).get(metric, True) if isinstance(better.get(task), Mapping) else True
            row, spec = _aggregate_row(cohort, rule.metric, value, n, higher, rule.unit)
            rows.append(row)
            if rule.metric not in KNOWN_METRICS:
                declared[rule.metric] = spec
    options.check_scores(seen, source)
    notes = ["aggregates only: one set of rows per task (the task is the cohort); the samples file has the "
             "per-document results"]
    if options.cohort:
        notes.append(f"--cohort {' '.join(options.cohort)} is not used: a results file has no per-sample data")
    rows.sort(key=lambda r: (r["cohort"], r["metric"]))
    return Imported(FORMAT, TOOL, str(version) if version is not None else None, rows, declared,
                    sum(r["n"] for r in rows if r["metric"] == SUCCESS), 0, notes)


def _count(value: float, n: int) -> int | None:
    count = round(value * n)
    return count if 0 <= value <= 1 and abs(value * n - count) < 1e-6 * n else None


def _aggregate_row(cohort: str, metric: str, value: float, n: int, higher: bool,
                   unit: str | None) -> tuple[dict[str, Any], MetricSpec]:
    known = KNOWN_METRICS.get(metric)
    count = _count(value, n)
    kind = known.kind if known else (Kind.RATE if count is not None else Kind.VALUE)
    if kind is Kind.RATE and count is None:
        raise ImportProblem(f"{metric}: {value:g} over {n} samples is not a rate with a count")
    spec = known or MetricSpec(unit=unit or ("fraction" if kind is Kind.RATE else "score"),
                               direction="higher" if higher else "lower", kind=kind)  # type: ignore[arg-type]
    row = {"cohort": cohort, "metric": metric, "value": count / n if kind is Kind.RATE else value, "n": n,
           "count": count if kind is Kind.RATE else None}
    return row, spec

