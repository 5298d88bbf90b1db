"""What to do next, following the verdict (not the band alone). Pure.

One rule for every place the action is shown (Slack, the packet, the command line's scorecard):
incomplete says how many items are left; no-go names the blockers and their owners (or, without a
blocker, the band's hardening action); narrow, hold and go give the band's action.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from bot.core.checklist import Verdict
from bot.core.scoring import Scorecard
from bot.core.words import APPROVE, APPROVED, APPROVED_STAGED, REJECT, REJECTED

MAX_NAMED = 5


def recommended_action(card: Scorecard, owners: Mapping[str, str | None],
                       person: Callable[[str], str] = str) -> str:
    """``owners``: each item's owner (a person id); ``person`` shows one (a Slack mention, a display name)."""
    if card.verdict is Verdict.NO_GO and card.blockers:
        named = [f"{item} ({person(owner)})" if (owner := owners.get(item)) else f"{item} (no owner)"
                 for item in card.blockers[:MAX_NAMED]]
        more = f" and {len(card.blockers) - MAX_NAMED} more" if len(card.blockers) > MAX_NAMED else ""
        noun = "blocker" if len(card.blockers) == 1 else "blockers"
        return f"Do not widen the rollout: clear the {noun} first: {', '.join(named)}{more}."
    if card.verdict is Verdict.INCOMPLETE:
        left = len(card.unmarked)
        return (f"{left} of {card.total} item{'s are' if left != 1 else ' is'} still unmarked: mark "
                f"{'them' if left != 1 else 'it'} before anyone decides.")
    return card.band_action


def signoff_outcome(decisions: Collection[str | None]) -> str | None:
    """The sign-off's outcome from each role's live decision (None for a role still waiting): rejected when
    any role rejected, approved when all approved, approved-staged otherwise; None until every role decided."""
    if not decisions or any(d is None for d in decisions):
        return None
    if REJECT in decisions:
        return REJECTED
    return APPROVED if set(decisions) == {APPROVE} else APPROVED_STAGED


# -- the one action that moves a review forward ------------------------------------------------------

MARK_NEXT, SEE_BLOCKERS, REQUEST_SIGNOFF, RECORD_GOLIVE, NOTHING = (
    "mark_next", "see_blockers", "request_signoff", "record_golive", "nothing")


def next_step(card: Scorecard, *, status: str, signoff_requested: bool, signoff_outcome: str | None,
              golive_allowed_early: bool = False) -> str:
    """What the primary button of a review's messages offers: the first unmarked items, the blockers, the
    sign-off, then the go-live; nothing once the review is live, closed or rejected."""
    if status in ("closed", "live") or signoff_outcome == "rejected":
        return NOTHING
    if card.verdict is Verdict.INCOMPLETE:
        return MARK_NEXT
    if card.verdict is Verdict.NO_GO:
        return SEE_BLOCKERS if card.blockers else NOTHING
    if signoff_outcome in (APPROVED, APPROVED_STAGED):
        return RECORD_GOLIVE
    if not signoff_requested:
        return REQUEST_SIGNOFF
    return RECORD_GOLIVE if golive_allowed_early else NOTHING
