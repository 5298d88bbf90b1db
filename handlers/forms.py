"""Reading modal submissions: Slack's view.state.values into plain Python values (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.checklist import Mark
from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from handlers.ids import BlockId, InputId


def _element(values: dict[str, Any], block: str) -> dict[str, Any]:
    return values.get(str(block), {}).get(InputId.VALUE.value, {}) or {}


def text_value(values: dict[str, Any], block: str) -> str | None:
    raw = _element(values, block).get("value")
    text = (raw or "").strip()
    return text or None


def user_value(values: dict[str, Any], block: str) -> str | None:
    return _element(values, block).get("selected_user") or None


def conversation_value(values: dict[str, Any], block: str) -> str | None:
    el = _element(values, block)
    return el.get("selected_conversation") or el.get("selected_channel") or None


def url_value(values: dict[str, Any], block: str) -> str | None:
    raw = (_element(values, block).get("value") or "").strip()
    return raw if raw.startswith(("https://", "http://")) else None


def option_value(values: dict[str, Any], block: str) -> str | None:
    option = _element(values, block).get("selected_option") or {}
    return option.get("value") or None


def date_value(values: dict[str, Any], block: str) -> tuple[date | None, str | None]:
    """(date, error): a date that does not parse is an error, not a silent None."""
    raw = _element(values, block).get("selected_date")
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except (ValueError, TypeError):
        return None, f"{str(raw)[:40]!r} is not a date."


def cohorts_value(values: dict[str, Any]) -> list[str]:
    raw = text_value(values, BlockId.COHORTS) or ""
    return [c.strip() for c in raw.replace("\n", ",").split(",") if c.strip()]


def start_errors(system: str | None, version: str | None, release_channel: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not system:
        errors[BlockId.SYSTEM] = "Name the system under review."
    elif len(system) > MAX_SYSTEM:
        errors[BlockId.SYSTEM] = f"Keep the system name to {MAX_SYSTEM} characters."
    if not version:
        errors[BlockId.VERSION] = "Name the candidate version."
    elif len(version) > MAX_VERSION:
        errors[BlockId.VERSION] = f"Keep the version to {MAX_VERSION} characters."
    if not release_channel:
        errors[BlockId.RELEASE_CHANNEL] = "Pick the release channel for alerts."
    return errors


@dataclass(frozen=True)
class SectionMark:
    item_id: str
    mark: Mark
    evidence: str | None
    owner: str | None
    due: date | None
    note: str | None


def section_marks(values: dict[str, Any], items: list[str]) -> tuple[list[SectionMark], dict[str, str]]:
    """The marks picked in a section form, and the errors of fields that cannot be read (keyed by block)."""
    picked, errors = [], {}
    for item in items:
        raw = option_value(values, f"{BlockId.MARK}:{item}")
        if raw is None:
            continue
        try:
            mark = Mark(raw)
        except ValueError:
            errors[f"{BlockId.MARK}:{item}"] = "Pick No, Partial or Yes."
            continue
        due, due_error = date_value(values, f"{BlockId.DUE}:{item}")
        if due_error:
            errors[f"{BlockId.DUE}:{item}"] = due_error
        gap = mark is not Mark.NO
        picked.append(SectionMark(item, mark, None if gap else text_value(values, f"{BlockId.EVIDENCE}:{item}"),
                                  user_value(values, f"{BlockId.OWNER}:{item}") if gap else None,
                                  due if gap else None, text_value(values, f"{BlockId.NOTE}:{item}") if gap else None))
    return picked, errors


FIELD_BLOCKS = {
    "evidence": BlockId.EVIDENCE,
    "owner": BlockId.OWNER,
    "due": BlockId.DUE,
    "note": BlockId.NOTE,
    "reason": BlockId.REASON,
}


def mark_errors_to_blocks(errors: dict[str, str], present: set[str], fallback: str) -> dict[str, str]:
    """Put each field's error on its input block; errors for fields the modal lacks go on `fallback`."""
    out: dict[str, str] = {}
    for name, message in errors.items():
        block = FIELD_BLOCKS.get(name)
        target = block.value if block is not None and block.value in present else fallback
        out[target] = f"{out[target]} {message}" if target in out else message
    return out
