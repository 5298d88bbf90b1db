"""Messages that record a moment (a blocker alert, a notice that one cleared, voided decisions, waivers, a
new owner) stay as they were posted, but say when they stop being true. Pure.

A moment carries what it asserts; ``holds`` checks the assertion against the review as it is now. When it
no longer holds, the message is edited to say it is superseded and to link the current state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.scoring import Scorecard

BLOCKER, CLEARED, WAIVED, WAIVER_ENDED, VOIDED, OWNER, DUE = (
    "blocker", "cleared", "waived", "waiver_ended", "voided", "owner", "due")


@dataclass(frozen=True)
class Now:
    """The state a moment is checked against."""

    card: Scorecard
    owners: Mapping[str, str | None] = field(default_factory=dict)  # open gaps: item -> owner
    dues: Mapping[str, str | None] = field(default_factory=dict)  # open gaps: item -> due date (ISO)
    live_decisions: int = 0
    closed: bool = False


def assertion(kind: str, item: str | None = None, **facts: Any) -> dict[str, Any]:
    return {"what": kind, **({"item": item} if item else {}), **facts}


def holds(asserted: Mapping[str, Any], now: Now) -> bool:
    """Whether what the message said is still true. A closed review supersedes every moment."""
    if now.closed:
        return False
    what, item = asserted.get("what"), asserted.get("item")
    if "verdict" in asserted and asserted["verdict"] != now.card.verdict.value:
        return False  # the message also told the verdict of its time
    if what == BLOCKER:
        return item in now.card.blockers
    if what == CLEARED:
        return item not in now.card.blockers
    if what == WAIVED:
        return item in now.card.waived_blockers
    if what == WAIVER_ENDED:
        return item in now.card.blockers
    if what == VOIDED:
        return now.live_decisions == 0
    if what == OWNER:  # "you own it, due then": the owner or the date changed, or the gap closed
        if "due" in asserted and now.dues.get(str(item)) != asserted["due"]:
            return False
        return now.owners.get(str(item)) == asserted.get("owner")
    if what == DUE:  # "the due date moved to then"
        return str(item) in now.dues and now.dues[str(item)] == asserted.get("due")
    return True
