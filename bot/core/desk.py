"""A person's desk (the App Home) as plain data: what waits for them, their gaps, the reviews in progress. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.core.review import GapRow, ReviewRow


@dataclass(frozen=True)
class WaitingProposal:
    """A due date a gap owner asked for, waiting for the review's release lead."""

    id: int
    assessment_id: int
    item_id: str
    proposer: str
    was: date
    due: date
    reason: str | None


@dataclass(frozen=True)
class Decision:
    """A sign-off decision a named approver has not given yet."""

    assessment_id: int
    label: str
    role: str
    link: str | None  # the card


@dataclass(frozen=True)
class Checkin:
    golive_id: int
    day: int
    label: str
    link: str | None  # the check-in message


@dataclass(frozen=True)
class Desk:
    decisions: list[Decision] = field(default_factory=list)
    proposals: list[WaitingProposal] = field(default_factory=list)
    proposals_total: int = 0
    labels: dict[int, str] = field(default_factory=dict)  # review id -> "system version", for proposals
    checkins: list[Checkin] = field(default_factory=list)
    overdue: list[GapRow] = field(default_factory=list)
    gaps: list[GapRow] = field(default_factory=list)  # open, not overdue
    gaps_total: int = 0  # overdue ones included
    gaps_over: bool = False  # gaps_total is where the count stopped: there are more
    links: dict[tuple[int, str], str] = field(default_factory=dict)  # (review, item) -> its message in the thread
    reviews: list[ReviewRow] = field(default_factory=list)
    reviews_total: int = 0
    review_links: dict[int, str] = field(default_factory=dict)


