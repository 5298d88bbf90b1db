"""Evidence sets: per-cohort metric rows from the eval pipeline, read from JSON or CSV.

Pure core. A file is taken whole or not at all: every bad row is reported (with its row
number, and its line for CSV) in one :class:`EvidenceError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.core import documents
from bot.core.canonical import content_hash
from bot.core.documents import shown
from bot.core.evidence.metrics import (
    KNOWN_METRICS,
    Kind,
    MetricSpec,
    canonical_cohort,
    declare,
    lookup,
    text_value,
    valid_name,
    whole,
)
from bot.core.evidence.metrics import (
    number as to_number,
)
from bot.core.limits import LIMITS

Format = Literal["json", "csv"]
ROW_FIELDS = ("system", "version", "cohort", "metric", "value", "n", "count", "source")
CSV_EXTRA = ("unit", "direction", "kind")
REQUIRED = ("cohort", "metric", "value", "n")
TOP_FIELDS = ("system", "version", "metrics", "rows")
MAX_SOURCE = 2000


@dataclass(frozen=True)
class RowProblem:
    """One reason a file was refused. ``row`` is the 1-based data row (0: the file as a whole)."""

    row: int
    field: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}, {self.field}: {self.reason}"


class EvidenceError(ValueError):
    """A refused evidence file; ``problems`` lists every reason, in file order."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: refused, {len(self.problems)} problem(s); nothing was accepted"]
        super().__init__("\n".join(lines + [f"  {p}" for p in self.problems]))


class EvidenceRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cohort: str
    metric: str
    value: float
    n: int
    count: int | None = None
    source: str | None = None

    def successes(self) -> int:
        """The count behind a rate: the one given, or ``round(value * n)``."""
        return self.count if self.count is not None else round(self.value * self.n)


class EvidenceSet(BaseModel):
    """A validated evidence set. Rows are sorted by cohort, then metric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    version: str
    rows: tuple[EvidenceRow, ...]
    metrics: dict[str, MetricSpec] = {}

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of system, version, declared metrics and sorted rows."""
        data = self.model_dump(mode="json")
        data["rows"] = sorted(data["rows"], key=lambda r: (r["cohort"], r["metric"]))
        return content_hash(data)

    @cached_property
    def cohorts(self) -> tuple[str, ...]:
        return tuple(sorted({r.cohort for r in self.rows}))

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], EvidenceRow]:
        return {(r.cohort, r.metric): r for r in self.rows}

    def row(self, cohort: str, metric: str) -> EvidenceRow | None:
        return self._by_key.get((cohort, metric))

    def spec(self, metric: str) -> MetricSpec | None:
        return lookup(metric, self.metrics)


_FIELD_CHECKS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("cohort", canonical_cohort),
    ("metric", text_value),
    ("value", to_number),
    ("n", whole),
    ("count", whole),
    ("source", lambda v: text_value(v, MAX_SOURCE)),
)


@dataclass
class _Reader:
    """Checks rows one by one, collecting problems instead of stopping at the first."""

    system: str | None
    version: str | None
    origin: dict[str, str]
    declared: dict[str, MetricSpec]
    problems: list[RowProblem] = field(default_factory=list)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    rows: list[EvidenceRow] = field(default_factory=list)
    undeclared_hint: str = "declare its unit and direction"

    @classmethod
    def start(
        cls, given: Mapping[str, str | None], top: Mapping[str, Any], first_rows: Sequence[Any], **kwargs: Any
    ) -> _Reader:
        """System and version: the given ones, else the file's top level, else the first row's."""
        chosen: dict[str, str | None] = dict(given)
        origin = dict.fromkeys(given, "given on the command line")
        problems: list[RowProblem] = kwargs["problems"]
        for name in ("system", "version"):
            if chosen[name] is not None:
                try:
                    chosen[name] = text_value(chosen[name], LIMITS[name])
                except ValueError as exc:
                    problems.append(RowProblem(0, name, f"{exc} (as given)"))
                    continue
            if top.get(name) is not None:
                try:
                    value = text_value(top[name], LIMITS[name])
                except ValueError as exc:
                    problems.append(RowProblem(0, name, str(exc)))
                    continue
                if chosen[name] is None:
                    chosen[name], origin[name] = value, "the file's top level"
                elif value != chosen[name]:
                    problems.append(RowProblem(0, name, f"{shown(value)!r} differs from {shown(chosen[name])!r} (given)"))
            first = next((r for r in first_rows if isinstance(r, Mapping) and r.get(name) is not None), None)
            if chosen[name] is None and first is not None:
                chosen[name], origin[name] = str(first[name]).strip(), f"row {first_rows.index(first) + 1}"
        return cls(chosen["system"], chosen["version"], origin, **kwargs)

    def problem(self, row: int, line: int | None, name: str, reason: str) -> None:
        self.problems.append(RowProblem(row, name, reason, line))

    def add(self, row: int, line: int | None, raw: Mapping[str, Any]) -> None:
        bad = len(self.problems)
        got: dict[str, Any] = {}
        for name in REQUIRED:
            if raw.get(name) is None:
                self.problem(row, line, name, "missing")
        for name, check in _FIELD_CHECKS:
            if raw.get(name) is not None:
                try:
                    got[name] = check(raw[name])
                except ValueError as exc:
                    self.problem(row, line, name, str(exc))
        self._match(row, line, raw)
        self._consistent(row, line, got)
        if "cohort" in got and "metric" in got:
            key = (got["cohort"], got["metric"])
            if key in self.seen:
                self.problem(
                    row, line, "metric", f"duplicate of row {self.seen[key]} (same cohort and metric)"
                )
            self.seen.setdefault(key, row)
        if len(self.problems) == bad:
            self.rows.append(EvidenceRow(**got))

    def _match(self, row: int, line: int | None, raw: Mapping[str, Any]) -> None:
        for name in ("system", "version"):
            if raw.get(name) is None:
                continue
            try:
                value = text_value(raw[name], LIMITS[name])
            except ValueError as exc:
                self.problem(row, line, name, str(exc))
                continue
            expected = getattr(self, name)
            if expected is not None and value != expected:
                self.problem(row, line, name, f"{shown(value)!r} differs from {shown(expected)!r} ({self.origin[name]})")

    def _consistent(self, row: int, line: int | None, got: dict[str, Any]) -> None:
        metric, value, n, count = got.get("metric"), got.get("value"), got.get("n"), got.get("count")
        spec = None
        if metric is not None:
            spec = lookup(metric, self.declared)
            if spec is None:
                why = (
                    "not a metric name"
                    if not valid_name(metric)
                    else f"unknown metric; {self.undeclared_hint}"
                )
                self.problem(row, line, "metric", why)
        if n is not None and n < 1:
            self.problem(row, line, "n", f"sample size must be at least 1, got {n}")
        if count is not None and count < 0:
            self.problem(row, line, "count", f"must not be negative, got {count}")
        if spec is None or value is None:
            return
        if spec.kind is Kind.RATE and not 0.0 <= value <= 1.0:
            self.problem(row, line, "value", f"a rate must be between 0 and 1, got {value:g}")
        if spec.kind is Kind.LATENCY and value < 0:
            self.problem(row, line, "value", f"a latency cannot be negative, got {value:g}")
        if count is None or n is None or n < 1 or count < 0:
            return
        if spec.kind is not Kind.RATE:
            self.problem(row, line, "count", f"only rates carry a count; {metric} is a {spec.kind.value}")
        elif count > n:
            self.problem(row, line, "count", f"{count} is more than the sample size {n}")
        elif abs(count / n - value) > 0.5 / n + 1e-9:
            self.problem(
                row, line, "count", f"{count}/{n} = {count / n:.4f} does not match the value {value:g}"
            )

    def result(self, source: str) -> EvidenceSet:
        if not self.rows and not self.problems:
            self.problem(0, None, "rows", "the file has no rows")
        for name in ("system", "version"):
            if getattr(self, name) is None and not self.problems:
                self.problem(0, None, name, "missing: give it on the command line, at the top or on the rows")
        if self.problems:
            raise EvidenceError(source, self.problems)
        assert self.system is not None and self.version is not None
        rows = tuple(sorted(self.rows, key=lambda r: (r.cohort, r.metric)))
        return EvidenceSet(system=self.system, version=self.version, rows=rows, metrics=dict(self.declared))


def evidence_from_data(
    data: Any, *, system: str | None = None, version: str | None = None, source: str = "<evidence>"
) -> EvidenceSet:
    """An evidence set from parsed JSON: a list of rows, or {system, version, metrics, rows}."""
    top: Mapping[str, Any] = {"rows": data} if isinstance(data, list) else data
    if not isinstance(top, Mapping):
        raise EvidenceError(
            source, [RowProblem(0, "rows", "expected a list of rows or an object with 'rows'")]
        )
    problems = [
        RowProblem(0, shown(k), f"unknown field (expected {', '.join(TOP_FIELDS)})")
        for k in top
        if k not in TOP_FIELDS
    ]
    rows = top.get("rows")
    if not isinstance(rows, list):
        problems.append(RowProblem(0, "rows", "expected a list of rows"))
        rows = []
    declared = _json_declarations(top.get("metrics") or {}, problems)
    hint = "declare its unit and direction under the top-level 'metrics'"
    given = {"system": system, "version": version}
    reader = _Reader.start(given, top, rows, declared=declared, problems=problems, undeclared_hint=hint)
    for index, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            reader.problem(index, None, "row", "expected an object")
            continue
        for key in raw:
            if key not in ROW_FIELDS:
                reader.problem(index, None, shown(key), f"unknown field (expected {', '.join(ROW_FIELDS)})")
        reader.add(index, None, raw)
    return reader.result(source)


def _json_declarations(raw: Any, problems: list[RowProblem]) -> dict[str, MetricSpec]:
    if not isinstance(raw, Mapping):
        problems.append(RowProblem(0, "metrics", "expected metric names with {unit, direction, kind}"))
        return {}
    declared: dict[str, MetricSpec] = {}
    for name, spec in raw.items():
        where = f"metrics.{shown(name)}"
        if not isinstance(spec, Mapping) or set(spec) - {"unit", "direction", "kind"}:
            problems.append(RowProblem(0, where, "expected {unit, direction, kind}"))
            continue
        try:
            declared[str(name)] = declare(
                str(name), spec.get("unit"), spec.get("direction"), spec.get("kind")
            )
        except ValueError as exc:
            problems.append(RowProblem(0, where, str(exc)))
    return {k: v for k, v in declared.items() if k not in KNOWN_METRICS}


def _csv_records(text: str, problems: list[RowProblem]) -> list[tuple[int, int, dict[str, str]]]:
    """(data row, file line, cells) for every non-blank row under the header."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    records: list[tuple[int, int, dict[str, str]]] = []
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                for name in header:
                    if name not in ROW_FIELDS + CSV_EXTRA:
                        problems.append(RowProblem(0, name or "(blank)", "unknown column", start))
                problems += [
                    RowProblem(0, n, "column missing from the header", start)
                    for n in REQUIRED
                    if n not in header
                ]
                continue
            if len(cells) > len(header):
                problems.append(RowProblem(len(records) + 1, "row", "more cells than columns", start))
            values = {k: v.strip() for k, v in zip(header, cells, strict=False) if v.strip()}
            records.append((len(records) + 1, start, values))
    except csv.Error as exc:
        problems.append(RowProblem(0, "file", f"not valid CSV near line {line + 1} ({exc})"))
    if header is None and not problems:
        problems.append(RowProblem(0, "header", "the file is empty"))
    return records


def _csv_declarations(
    records: Sequence[tuple[int, int, dict[str, str]]], problems: list[RowProblem]
) -> dict[str, MetricSpec]:
    declared: dict[str, MetricSpec] = {}
    first: dict[str, int] = {}
    for index, line, cells in records:
        name = cells.get("metric", "")
        if not any(k in cells for k in CSV_EXTRA) or not name:
            continue
        try:
            spec = declare(name, cells.get("unit"), cells.get("direction"), cells.get("kind"))
        except ValueError as exc:
            problems.append(RowProblem(index, "unit", str(exc), line))
            continue
        if name in declared and declared[name] != spec:
            problems.append(RowProblem(index, "unit", f"declared differently on row {first[name]}", line))
        declared.setdefault(name, spec)
        first.setdefault(name, index)
    return {k: v for k, v in declared.items() if k not in KNOWN_METRICS}


def evidence_from_csv(
    text: str, *, system: str | None = None, version: str | None = None, source: str = "<evidence>"
) -> EvidenceSet:
    problems: list[RowProblem] = []
    records = _csv_records(text, problems)
    declared = _csv_declarations(records, problems)
    hint = "declare it with the unit and direction columns"
    given = {"system": system, "version": version}
    cells = [c for _, _, c in records]
    reader = _Reader.start(given, {}, cells, declared=declared, problems=problems, undeclared_hint=hint)
    for index, line, cells in records:
        reader.add(index, line, {k: v for k, v in cells.items() if k not in CSV_EXTRA})
    return reader.result(source)


def parse_evidence(
    text: str,
    fmt: Format,
    *,
    system: str | None = None,
    version: str | None = None,
    source: str = "<evidence>",
) -> EvidenceSet:
    """Read an evidence file's text. ``system``/``version``, when given, must match every row."""
    if fmt == "csv":
        return evidence_from_csv(text, system=system, version=version, source=source)
    if fmt != "json":
        raise EvidenceError(source, [RowProblem(0, "format", f"{fmt!r} is not json or csv")])
    try:
        data = documents.parse_json(text, source)
    except documents.FileProblem as exc:
        raise EvidenceError(source, [RowProblem(0, "file", str(exc).removeprefix(f"{source}: "))]) from None
    return evidence_from_data(data, system=system, version=version, source=source)


def load_evidence(
    path: str | Path, *, system: str | None = None, version: str | None = None, fmt: Format | None = None
) -> EvidenceSet:
    """Read an evidence file; the format comes from the extension (.json or .csv) unless given."""
    source = str(path)
    suffix = Path(path).suffix.lower().lstrip(".")
    chosen = fmt or suffix
    if chosen not in ("json", "csv"):
        raise EvidenceError(source, [RowProblem(0, "file", "unknown format: name it .json or .csv")])
    try:
        text = documents.read_text(path, source)
    except documents.FileProblem as exc:
        raise EvidenceError(source, [RowProblem(0, "file", str(exc).removeprefix(f"{source}: "))]) from None
    return parse_evidence(text, chosen, system=system, version=version, source=source)  # type: ignore[arg-type]


class EvidenceFileRow(BaseModel):
    """One row of an evidence file: a cohort's value of one metric, on n samples."""

    model_config = ConfigDict(extra="forbid")

    cohort: str | dict[str, str] = Field(description="a cohort name, or label=value pairs (tenant=acme,"
                                                      "workflow=refund), or in JSON an object of labels")
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,60}(:[a-z0-9][a-z0-9_-]{0,40})?$",
                        description="a known metric, or one declared under metrics (major_failure_rate:<class>)")
    value: float = Field(description="a rate in [0, 1], a latency in its unit (ms), or any other value")
    n: int = Field(ge=1, description="the sample size")
    count: int | None = Field(default=None, ge=0, description="rates only: the successes behind the rate")
    source: str | None = Field(default=None, max_length=MAX_SOURCE)
    system: str | None = None
    version: str | None = None


class EvidenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str | None = None
    version: str | None = None
    metrics: dict[str, MetricSpec] = Field(default={}, description="declarations of metrics that are not known")
    rows: list[EvidenceFileRow]


def evidence_json_schema() -> dict[str, Any]:
    """The JSON Schema of an evidence file: a list of rows, or an object with system, version, metrics, rows."""
    schema = TypeAdapter(list[EvidenceFileRow] | EvidenceFile).json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Readiness evidence set",
            "description": "Cohort metric rows (cohort, metric, value, n, count); CSV files have the same "
                           "columns, plus unit, direction and kind to declare a metric", **schema}
