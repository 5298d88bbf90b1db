"""The rules for a mark, checked before anything is stored. Pure core.

Errors come back keyed by field (evidence, owner, due, note) so a modal can show each
next to its input.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.core.checklist import Checklist, Mark
from bot.core.scoring import MarkEntry

MAX_EVIDENCE = 2000
MAX_NOTE = 2000
MAX_REASON = 500
MAX_DUE_DAYS = 3 * 365  # a gap's due date is a plan, not a placeholder


def earliest_today(now: datetime) -> date:
    """The earliest calendar date anywhere on Earth right now (UTC-12).

    A due date is "in the past" only when it is before this, so a user far west of UTC can
    still pick their own today.
    """
    return (now - timedelta(hours=12)).date()


def validate_mark(
    checklist: Checklist,
    item_id: str,
    mark: Mark,
    *,
    evidence: str | None,
    owner: str | None,
    due: date | None,
    note: str | None,
    today: date,
    note_required: bool = False,
) -> dict[str, str]:
    """Each field's problem. ``note_required``: a Yes must say what is missing (the Slack forms ask for it)."""
    errors: dict[str, str] = {}
    if item_id not in checklist.item_ids:
        errors["item"] = f"{item_id} is not an item of checklist {checklist.id} {checklist.version}"
        return errors
    evidence = (evidence or "").strip()
    if mark is Mark.NO:
        if not evidence:
            errors["evidence"] = "Marking No needs evidence: a link or a short description of the proof."
    else:
        if not (owner or "").strip():
            errors["owner"] = "A gap needs a named owner."
        if due is None:
            errors["due"] = "A gap needs a due date."
        elif due < today:
            errors["due"] = f"The due date {due.isoformat()} is in the past."
        elif (due - today).days > MAX_DUE_DAYS:
            errors["due"] = (f"The due date {due.isoformat()} is more than {MAX_DUE_DAYS // 365} years away; "
                             "pick the date the gap will really be closed by.")
    if len(evidence) > MAX_EVIDENCE:
        errors["evidence"] = f"Evidence is limited to {MAX_EVIDENCE} characters."
    if note_required and mark is Mark.YES and not (note or "").strip():
        errors["note"] = "Say what is missing: a Yes is a real gap, and its owner needs to know what closes it."
    if note and len(note) > MAX_NOTE:
        errors["note"] = f"The note is limited to {MAX_NOTE} characters."
    return errors


# What one change of an item is: only a new mark changes the scorecard (and voids decisions, ends a waiver).
MARK_CHANGE, OWNER_CHANGE, DUE_CHANGE, DETAILS_CHANGE = "mark", "owner", "due", "details"


def change_kind(previous: MarkEntry | None, current: MarkEntry) -> str:
    """``mark`` for a first or new mark; else ``owner``, ``due`` (the first of them that differs) or
    ``details`` (only the evidence or the note)."""
    if previous is None or previous.mark != current.mark:
        return MARK_CHANGE
    if previous.owner != current.owner:
        return OWNER_CHANGE
    if previous.due != current.due:
        return DUE_CHANGE
    return DETAILS_CHANGE
