"""The audit trail's hash chain. Pure.

Each workspace's audit events form one chain: event n carries the hash of event n-1 and its own hash, over
its fields and that previous hash. Changing, removing or reordering any event, or cutting the chain's end
(against the head kept beside it), breaks the chain at that point, and ``verify_chain`` says where. A head
without events, events without a head, or a workspace with reviews and neither show as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.canonical import canonical_json

GENESIS = "0" * 64  # the "previous hash" of a workspace's first event
HASHED = ("team_id", "seq", "at", "assessment_id", "actor", "action", "subject", "before", "after")


@dataclass(frozen=True)
class ChainedEvent:
    """The fields of one audit event that its hash covers, plus the chain's own two hashes."""

    team_id: str
    seq: int
    at: datetime
    assessment_id: int | None
    actor: str
    action: str
    subject: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    row_hash: str = ""


def event_hash(event: ChainedEvent) -> str:
    body = {name: getattr(event, name) for name in HASHED}
    body["at"] = event.at.isoformat(timespec="microseconds")
    return hashlib.sha256((event.prev_hash + canonical_json(body, ensure_ascii=False)).encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    team_id: str
    events: int
    head: str
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(team_id: str, events: Iterable[ChainedEvent], head_seq: int | None,
                 head_hash: str | None, *, reviews: int = 0) -> ChainReport:
    """Check one workspace's events (in ``seq`` order) against each other and against the stored head
    (``head_seq`` None: the workspace has no head). ``reviews``: how many reviews it has, each of which left
    an event when it started, so a workspace with reviews and no trail at all lost it."""
    expected_prev, count = GENESIS, 0
    for seq, event in enumerate(events, start=1):
        count = seq
        if event.seq != seq:
            return ChainReport(team_id, count, expected_prev, f"event {seq} is missing (found event {event.seq} next)")
        if event.prev_hash != expected_prev:
            return ChainReport(team_id, count, expected_prev, f"event {seq} does not follow event {seq - 1}")
        if event_hash(event) != event.row_hash:
            return ChainReport(team_id, count, expected_prev, f"event {seq} was changed after it was written")
        expected_prev = event.row_hash
    problem = _ends_problem(count, head_seq, head_hash, expected_prev, reviews)
    return ChainReport(team_id, count, expected_prev, problem)


def _ends_problem(count: int, head_seq: int | None, head_hash: str | None, last_hash: str, reviews: int) -> str | None:
    """What is wrong with the chain's end, given its head: None when they agree."""
    if count and head_seq is None:
        return f"it has {count} event(s) but no head: the head was deleted"
    if not count and head_seq:
        return f"its head says event {head_seq}, but it has no events: they were deleted"
    if not count and head_seq is None and reviews:
        return f"{reviews} review(s) but no audit events and no head: the trail was deleted"
    if (head_seq or 0) != count or (head_hash or GENESIS) != last_hash:
        return (f"the chain ends at event {count}, but its head says event {head_seq or 0}: "
                "events were removed from its end")
    return None
