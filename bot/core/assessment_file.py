"""Assessment as code: the YAML file that ``readiness score`` and ``readiness gate`` read.

Pure core: every error is one line that names the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core import documents
from bot.core.checklist import Checklist, Mark
from bot.core.scoring import MarkEntry

MARK_FIELDS = ("mark", "evidence", "owner", "due", "note")
TOP_FIELDS = ("system", "version", "cohorts", "marks", "traces", "rollout", "rollback")
TRACE_FIELDS = ("kind", "url", "description", "added_by")
TRACE_KINDS = ("good", "bad", "escalation")


class AssessmentFileError(ValueError):
    """Bad input in an assessment file; the message names the file and the field."""


@dataclass(frozen=True)
class TraceEntry:
    """A trace example for the rollout packet: a good, bad or escalation path, as a link."""

    kind: str
    url: str
    description: str = ""
    added_by: str | None = None


@dataclass(frozen=True)
class AssessmentFile:
    system: str
    version: str
    marks: dict[str, MarkEntry]
    cohorts: list[str] = field(default_factory=list)
    source: str = "<assessment>"
    traces: tuple[TraceEntry, ...] = ()
    rollout: str | None = None  # the staged rollout path
    rollback: str | None = None  # the rollback steps


def _text(value: Any, where: str, source: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise AssessmentFileError(f"{source}: {where}: missing")
        return None
    if isinstance(value, bool | dict | list):
        raise AssessmentFileError(f"{source}: {where}: expected text, got {type(value).__name__}")
    text = str(value).strip()
    if required and not text:
        raise AssessmentFileError(f"{source}: {where}: must not be empty")
    return text or None


def _due(value: Any, where: str, source: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise AssessmentFileError(f"{source}: {where}: {documents.shown(value)!r} is not a date (use YYYY-MM-DD)")


def _mark_entry(item_id: str, raw: Any, source: str) -> MarkEntry:
    where = f"marks.{item_id}"
    if isinstance(raw, str):
        raw = {"mark": raw}
    if not isinstance(raw, dict):
        raise AssessmentFileError(f"{source}: {where}: expected a mapping with 'mark' (no, partial or yes)")
    unknown = sorted(str(k) for k in raw if k not in MARK_FIELDS)
    if unknown:
        raise AssessmentFileError(
            f"{source}: {where}.{unknown[0]}: unknown field (expected one of {', '.join(MARK_FIELDS)})"
        )
    value = raw.get("mark")
    # YAML 1.1 reads bare yes/no as booleans; take them back as the marks they were meant to be.
    if value is True:
        value = "yes"
    elif value is False:
        value = "no"
    allowed = ", ".join(m.value for m in Mark)
    if value is None:
        raise AssessmentFileError(f"{source}: {where}.mark: missing (one of {allowed})")
    try:
        mark = Mark(str(value).strip().lower())
    except ValueError:
        raise AssessmentFileError(f"{source}: {where}.mark: {documents.shown(value)!r} is not one of {allowed}") from None
    return MarkEntry(
        mark=mark,
        evidence=_text(raw.get("evidence"), f"{where}.evidence", source),
        owner=_text(raw.get("owner"), f"{where}.owner", source),
        due=_due(raw.get("due"), f"{where}.due", source),
        note=_text(raw.get("note"), f"{where}.note", source),
    )


def _http_url(value: Any, where: str, source: str) -> str:
    url = _text(value, where, source, required=True) or ""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    odd = any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url)
    if odd or parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AssessmentFileError(f"{source}: {where}: {documents.shown(url)!r} is not an http or https link")
    return url


def _trace(raw: Any, where: str, source: str) -> TraceEntry:
    if not isinstance(raw, dict):
        raise AssessmentFileError(f"{source}: {where}: expected a mapping with kind, url and description")
    unknown = sorted(str(k) for k in raw if k not in TRACE_FIELDS)
    if unknown:
        raise AssessmentFileError(
            f"{source}: {where}.{unknown[0]}: unknown field (expected one of {', '.join(TRACE_FIELDS)})"
        )
    kind = (_text(raw.get("kind"), f"{where}.kind", source, required=True) or "").lower()
    if kind not in TRACE_KINDS:
        raise AssessmentFileError(f"{source}: {where}.kind: {documents.shown(kind)!r} is not one of {', '.join(TRACE_KINDS)}")
    return TraceEntry(
        kind=kind,
        url=_http_url(raw.get("url"), f"{where}.url", source),
        description=_text(raw.get("description"), f"{where}.description", source) or "",
        added_by=_text(raw.get("added_by"), f"{where}.added_by", source),
    )


def _traces(raw: Any, source: str) -> tuple[TraceEntry, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AssessmentFileError(f"{source}: traces: expected a list of {{kind, url, description}}")
    return tuple(_trace(entry, f"traces[{n}]", source) for n, entry in enumerate(raw))


def parse_assessment(data: Any, checklist: Checklist, source: str = "<assessment>") -> AssessmentFile:
    if not isinstance(data, dict):
        raise AssessmentFileError(f"{source}: expected a mapping with system, version and marks")
    unknown = sorted(str(k) for k in data if k not in TOP_FIELDS)
    if unknown:
        raise AssessmentFileError(
            f"{source}: {documents.shown(unknown[0])}: unknown field (expected one of {', '.join(TOP_FIELDS)})"
        )
    system = _text(data.get("system"), "system", source, required=True)
    version = _text(data.get("version"), "version", source, required=True)
    cohorts_raw = data.get("cohorts") or []
    if not isinstance(cohorts_raw, list):
        raise AssessmentFileError(f"{source}: cohorts: expected a list")
    cohorts = [c for c in (_text(v, "cohorts", source) for v in cohorts_raw) if c]
    raw_marks = data.get("marks") or {}
    if not isinstance(raw_marks, dict):
        raise AssessmentFileError(f"{source}: marks: expected a mapping of item id to mark")
    known = set(checklist.item_ids)
    marks: dict[str, MarkEntry] = {}
    for key, raw in raw_marks.items():
        item_id = str(key)
        if item_id not in known:
            raise AssessmentFileError(
                f"{source}: marks.{documents.shown(item_id)}: unknown item id (checklist {checklist.id} "
                f"{checklist.version} has {checklist.item_ids[0]}..{checklist.item_ids[-1]})"
            )
        marks[item_id] = _mark_entry(item_id, raw, source)
    assert system is not None and version is not None
    return AssessmentFile(system=system, version=version, marks=marks, cohorts=cohorts, source=source,
                          traces=_traces(data.get("traces"), source),
                          rollout=_text(data.get("rollout"), "rollout", source),
                          rollback=_text(data.get("rollback"), "rollback", source))


def load_assessment(path: str | Path, checklist: Checklist) -> AssessmentFile:
    source = str(path)
    try:
        data = documents.parse(documents.read_text(path, source, documents.MAX_YAML_BYTES), source)
    except documents.FileProblem as exc:
        raise AssessmentFileError(str(exc)) from None
    return parse_assessment(data, checklist, source)
