"""Text scorecards for the command line and the demo (pure: checklist, marks and scorecard in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core import words
from bot.core.advice import recommended_action
from bot.core.checklist import Checklist
from bot.core.render import render
from bot.core.scoring import MarkEntry, Scorecard


def _row(checklist: Checklist, item_id: str, entry: MarkEntry, names: Mapping[str, str]) -> dict[str, Any]:
    owner = names.get(entry.owner, entry.owner) if entry.owner else "(none)"
    detail = f"{words.mark(entry.mark)}, owner {owner}, "
    detail += f"due {entry.due.isoformat() if entry.due else '(none)'}"
    return {"id": item_id, "title": checklist.item(item_id).title, "detail": detail}


def scorecard_text(
    title: str, checklist: Checklist, marks: Mapping[str, MarkEntry], card: Scorecard,
    names: Mapping[str, str] | None = None,
) -> str:
    """The readable scorecard; ``names`` turns stored owner ids into display names. Marks and verdicts are named
    as everywhere else (:mod:`bot.core.words`)."""
    names = names or {}
    blockers = [_row(checklist, i, marks[i], names) for i in card.blockers]
    gaps = [_row(checklist, i, e, names) for i in checklist.item_ids if (e := marks.get(i)) is not None and e.is_gap]
    owners = {i: names.get(e.owner, e.owner) if e.owner else None for i, e in marks.items()}
    action = recommended_action(card, owners)
    return render("scorecard.txt.j2", title=title, card=card, blockers=blockers, gaps=gaps, action=action,
                  verdict=words.VERDICT[card.verdict])
