"""promptfoo's output: ``promptfoo eval -o results.json`` (``results.version: 3``: the records under
``results.results``) and ``-o results.jsonl`` (one record a line, no wrapper). Pure core.

Per record: ``success`` is the verdict; ``failureReason`` 2 is a provider error (in n, not a pass, counted in
``error_rate``; ``error`` alone is also set on plain assertion failures, so it is not read); ``latencyMs`` is
the latency; every ``namedScores`` entry becomes a metric; the cohort keys are looked up in ``metadata``
(the test's metadata), then from the record's top level (``vars.region``, ``provider.label``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.evidence.importers.counting import Collector, Imported, Sample, score_value
from bot.core.evidence.importers.mapping import Options
from bot.core.evidence.importers.reading import ImportProblem, shown

FORMAT, TOOL = "promptfoo", "promptfoo"
PROVIDER_ERROR = 2


def is_results(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("results"), Mapping) and \
        isinstance(data["results"].get("results"), list)


def is_record(data: Any) -> bool:
    return isinstance(data, Mapping) and "testCase" in data and ("promptIdx" in data or "provider" in data)


def from_results(data: Any, source: str, options: Options) -> Imported:
    """A results.json document."""
    if not is_results(data):
        raise ImportProblem(f"{source}: not a promptfoo results.json (no results.results list)")
    results = data["results"]
    version = (data.get("metadata") or {}).get("promptfooVersion") if isinstance(data.get("metadata"), Mapping) \
        else None
    notes = []
    if results.get("version") != 3:
        notes.append(f"results.version is {shown(results.get('version'))}; this reader was checked on version 3")
    records = ((f"{source}, results.results[{i}]", r) for i, r in enumerate(results["results"]))
    return read(records, source, options, str(version) if version is not None else None, notes)


def read(records: Iterable[tuple[str, Any]], source: str, options: Options, version: str | None = None,
         notes: list[str] | None = None) -> Imported:
    """promptfoo records: (where, record) pairs, from results.json or from JSONL lines."""
    found = Collector(options.cohort)
    found.notes.extend(notes or [])
    scores: dict[str, None] = {}
    runs: set[tuple[Any, Any]] = set()
    for where, record in records:
        if not is_record(record):
            raise ImportProblem(f"{where}: not a promptfoo result (no testCase and provider)")
        found.add(_sample(record, where, options, found, scores))
        provider = record.get("provider")
        runs.add((record.get("promptIdx"), provider.get("id") if isinstance(provider, Mapping) else provider))
    if len(runs) > 1:
        found.notes.append(f"{len(runs)} prompt and provider pairs are counted together; give a cohort key "
                           "such as provider.label to tell them apart")
    options.check_scores(scores, source)
    rules = {s: r for s in scores if s != options.success_score and (r := options.rule_for(s)) is not None}
    return found.finish(FORMAT, TOOL, version, errors=True, rules=rules, source=source)


def _sample(record: Mapping[str, Any], where: str, options: Options, found: Collector,
            scores: dict[str, None]) -> Sample:
    success = record.get("success")
    if not isinstance(success, bool):
        raise ImportProblem(f"{where}, success: expected true or false, got {shown(success)}")
    reason = record.get("failureReason")
    errored = reason == PROVIDER_ERROR if reason is not None else \
        (not success and record.get("gradingResult") is None and bool(record.get("error")))
    named = record.get("namedScores") or {}
    if not isinstance(named, Mapping):
        raise ImportProblem(f"{where}, namedScores: expected an object")
    values: dict[str, float] = {}
    for name, raw in named.items():
        try:
            value = score_value(raw)
        except ValueError as exc:
            raise ImportProblem(f"{where}, namedScores.{shown(name)}: {exc}") from None
        if value is not None:
            values[str(name)] = value
            scores.setdefault(str(name), None)
    passed = success
    if options.success_score is not None and not errored:
        if options.success_score not in values:
            raise ImportProblem(f"{where}, namedScores.{shown(options.success_score)}: missing (it decides success)")
        passed = values[options.success_score] >= options.success_threshold()
    latency = record.get("latencyMs")
    if latency is not None and (isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0):
        raise ImportProblem(f"{where}, latencyMs: expected milliseconds, got {shown(latency)}")
    metadata = record.get("metadata")
    cohort = found.cohort(record, metadata if isinstance(metadata, Mapping) else None, where)
    return Sample(cohort=cohort, passed=passed and not errored, errored=errored,
                  latency_ms=float(latency) if latency is not None and latency == latency else None, scores=values)
