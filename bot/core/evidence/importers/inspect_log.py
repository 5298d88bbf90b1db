"""Inspect (UK AISI ``inspect_ai``) eval logs: the ``.eval`` ZIP (members compressed with Zstandard) and
``--log-format json``. Pure core.

From a ``.eval``: ``header.json`` (tool version, scorers, status) and ``summaries.json`` (one summary per
sample and epoch: metadata, scores, error, times), or each ``samples/*.json`` when a log has no summaries.
Per sample: the scorer that decides success is the mapping's ``success.score``, else the log's first scorer;
its value (``"C"``/``"I"``, a number, a boolean) passes at or above the threshold (default 1). A sample with
an ``error`` is in n, not a pass, and counted in ``error_rate``. Every other scorer becomes a metric (a scorer
whose value is an object gives one per key, ``scorer_key``). Latency: ``working_time``, seconds, as ms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.evidence.importers.counting import Collector, Imported, Sample, score_value
from bot.core.evidence.importers.mapping import Options
from bot.core.evidence.importers.reading import Archive, ImportProblem, shown

FORMAT, TOOL = "inspect", "inspect_ai"
HEADER, SUMMARIES = "header.json", "summaries.json"


def is_log(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("eval"), Mapping) and "status" in data


def from_archive(archive: Archive, options: Options) -> Imported:
    source = archive.source
    if HEADER not in archive.members:
        raise ImportProblem(f"{source}: not a finished Inspect log (no header.json in the archive)")
    header = archive.json(HEADER)
    if not is_log(header):
        raise ImportProblem(f"{source}, member header.json: not an Inspect log header (no eval and status)")
    if SUMMARIES in archive.members:
        summaries = archive.json(SUMMARIES)
        if not isinstance(summaries, list):
            raise ImportProblem(f"{source}, member summaries.json: expected a list of sample summaries")
        samples: Iterable[tuple[str, Any]] = ((f"{source}, summaries.json[{i}]", s) for i, s in enumerate(summaries))
    else:
        names = sorted(n for n in archive.names() if n.startswith("samples/") and n.endswith(".json"))
        samples = ((f"{source}, member {shown(n, 80)}", archive.json(n)) for n in names)
    return read(header, samples, source, options)


def from_json(data: Any, source: str, options: Options) -> Imported:
    if not is_log(data):
        raise ImportProblem(f"{source}: not an Inspect log (no eval and status)")
    samples = data.get("samples")
    if not isinstance(samples, list):
        raise ImportProblem(f"{source}, samples: missing (a log written with --no-log-samples has none)")
    return read(data, ((f"{source}, samples[{i}]", s) for i, s in enumerate(samples)), source, options)


def _scorers(header: Mapping[str, Any]) -> list[str]:
    listed = header["eval"].get("scorers") or []
    names = [s.get("name") for s in listed if isinstance(s, Mapping)]
    if not names and isinstance(header.get("results"), Mapping):
        names = [s.get("name") for s in header["results"].get("scores") or [] if isinstance(s, Mapping)]
    return [str(n) for n in names if n]


def read(header: Mapping[str, Any], samples: Iterable[tuple[str, Any]], source: str, options: Options) -> Imported:
    packages = header["eval"].get("packages")
    version = packages.get("inspect_ai") if isinstance(packages, Mapping) else None
    scorers = _scorers(header)
    found = Collector(options.cohort)
    read_samples: list[tuple[str, Mapping[str, Any], dict[str, float]]] = []
    seen: dict[str, None] = dict.fromkeys(scorers)
    for where, raw in samples:
        if not isinstance(raw, Mapping) or ("scores" not in raw and "error" not in raw):
            raise ImportProblem(f"{where}: not an Inspect sample (no scores)")
        values = _values(raw.get("scores") or {}, where)
        seen.update(dict.fromkeys(values))
        read_samples.append((where, raw, values))
    options.check_success_score(seen, source)
    options.check_scores(seen, source)
    first = options.success_score or next(iter(seen), None)
    if first is None:
        raise ImportProblem(f"{source}: the log names no scorer, so no sample can pass")
    unscored = epochs = 0
    for where, raw, values in read_samples:
        errored = bool(raw.get("error"))
        if not errored and first not in values:
            unscored += 1
        passed = not errored and values.get(first, 0.0) >= options.success_threshold()
        epochs += isinstance(raw.get("epoch"), int) and raw["epoch"] > 1
        latency = raw.get("working_time")
        latency_ms = float(latency) * 1000 if isinstance(latency, int | float) and not isinstance(latency, bool) \
            and latency == latency and latency >= 0 else None
        metadata = raw.get("metadata")
        cohort = found.cohort(raw, metadata if isinstance(metadata, Mapping) else None, where)
        found.add(Sample(cohort=cohort, passed=passed, errored=errored, latency_ms=latency_ms,
                         scores={k: v for k, v in values.items() if k != first}))
    status = header.get("status")
    if status != "success":
        results = header.get("results") if isinstance(header.get("results"), Mapping) else {}
        found.notes.append(f"the log's status is {shown(status)}: {len(found.samples)} of "
                           f"{results.get('total_samples', '?')} samples were recorded")
    if unscored:
        found.notes.append(f"{unscored} sample(s) without a {first} score: counted in n, not as passes")
    if epochs:
        found.notes.append("the log has several epochs: each epoch of a sample is counted as a sample")
    rules = {s: r for s in seen if s != first and (r := options.rule_for(s)) is not None}
    return found.finish(FORMAT, TOOL, str(version) if version is not None else None, errors=True, rules=rules,
                        source=source)


def _values(scores: Any, where: str) -> dict[str, float]:
    if not isinstance(scores, Mapping):
        raise ImportProblem(f"{where}, scores: expected an object of scorers")
    values: dict[str, float] = {}
    for name, score in scores.items():
        raw = score.get("value") if isinstance(score, Mapping) else score
        parts = raw.items() if isinstance(raw, Mapping) else [(None, raw)]
        for key, part in parts:
            label = str(name) if key is None else f"{name}_{key}"
            if isinstance(part, list):
                continue  # a list of values has no single score to count
            try:
                value = score_value(part)
            except ValueError as exc:
                raise ImportProblem(f"{where}, scores.{shown(label)}.value: {exc}") from None
            if value is not None:
                values[label] = value
    return values
