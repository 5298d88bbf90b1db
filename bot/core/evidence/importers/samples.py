"""Per-sample results from anything else: CSV, JSON Lines or a JSON array, one sample a row (Ragas
``to_pandas()`` exports, LangSmith and Braintrust experiment exports, MLflow evaluation tables, a team's own
logs). Pure core.

Which columns mean what is given on the command line or in the mapping: the cohort columns, a pass column
(true/false, 1/0, PASS/FAIL, yes/no) or a score column with a threshold, optionally an error column (a
non-empty value other than false/0/no/none/null means the sample errored) and a latency column (ms, or s).
Only the scores the mapping's ``metrics`` names become further metrics (a file has many other columns).
Column names may be dot paths into JSON records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.evidence.importers.counting import MISSING, Collector, Imported, Sample, resolve, score_value
from bot.core.evidence.importers.mapping import Options
from bot.core.evidence.importers.reading import ImportProblem, shown

FORMAT = "samples"
NOT_ERRORS = frozenset({"", "false", "0", "no", "none", "null", "nan"})


def _columns(records: list[tuple[str, Any]]) -> str:
    first = records[0][1] if records else {}
    names = list(first)[:12] if isinstance(first, Mapping) else []
    return ", ".join(shown(n, 30) for n in names) or "none"


def _errored(raw: Any) -> bool:
    if raw is MISSING or raw is None or raw is False:
        return False
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return raw != 0
    return str(raw).strip().lower() not in NOT_ERRORS


def _number(record: Any, field: str, where: str) -> float | None:
    raw = resolve(field, record)
    try:
        value = score_value(raw)
    except ValueError as exc:
        raise ImportProblem(f"{where}, {shown(field)}: {exc}") from None
    return value


def read(records: Iterable[tuple[str, Any]], source: str, options: Options, kind: str) -> Imported:
    """``kind``: csv, jsonl or json (only said in the notes)."""
    listed = list(records)
    decider = options.pass_field or options.success_score
    if decider is None:
        raise ImportProblem(f"{source}: name the pass column (--pass COL) or a score column and its threshold "
                            f"(--score COL --threshold X); its columns: {_columns(listed)}")
    found = Collector(options.cohort)
    scored = {name: rule for name, rule in options.rules.items() if rule is not None}
    carried: set[str] = set()
    for where, record in listed:
        if not isinstance(record, Mapping):
            raise ImportProblem(f"{where}: expected an object (one sample)")
        errored = bool(options.error_field) and _errored(resolve(options.error_field or "", record))
        value = _number(record, decider, where)
        if value is None and not errored:
            raise ImportProblem(f"{where}, {shown(decider)}: missing (it decides success)")
        if options.pass_field and value not in (None, 0.0, 1.0):
            raise ImportProblem(f"{where}, {shown(decider)}: {shown(resolve(decider, record))} is not a pass "
                                "(true/false, 1/0, PASS/FAIL)")
        threshold = 1.0 if options.pass_field else options.success_threshold()
        latency = _number(record, options.latency_field, where) if options.latency_field else None
        if latency is not None and latency < 0:
            raise ImportProblem(f"{where}, {shown(options.latency_field)}: a latency cannot be negative")
        scores = {}
        for name in scored:
            score = _number(record, name, where)
            if score is not None:
                scores[name] = score
                carried.add(name)
        found.add(Sample(cohort=found.cohort(record, None, where), passed=not errored and (value or 0) >= threshold,
                         errored=errored, scores=scores,
                         latency_ms=None if latency is None else latency * (1000 if options.latency_unit == "s" else 1)))
    columns = (str(k) for _, record in listed for k in record)  # every record is a mapping by now
    options.check_scores(carried, source, listed=columns, what="columns")
    found.notes.append(f"per-sample records ({kind}); success from {decider}")
    return found.finish(FORMAT, None, None, errors=bool(options.error_field), rules=scored, source=source)


def csv_samples(records: list[tuple[int, dict[str, str]]], source: str) -> list[tuple[str, Any]]:
    """CSV cells: an empty cell is a missing value."""
    return [(f"{source}, line {line}", {k: v for k, v in cells.items() if v != ""}) for line, cells in records]
