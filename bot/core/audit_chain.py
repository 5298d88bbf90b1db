"""The audit trail's hash chain. Pure.

Each workspace's audit events form one chain: event n carries the hash of event n-1 and its own hash, over
its fields and that previous hash. Changing, removing or reordering any event, or cutting the chain's end
(against the head kept beside it), breaks the chain at that point, and ``verify_chain`` says where.
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
                 head_hash: str | None) -> ChainReport:
    """Check one workspace's events (in ``seq`` order) against each other and against the stored head."""
    expected_prev, seq, count = GENESIS, 0, 0
    for event in events:
        count += 1
        seq += 1
        if event.seq != seq:
            return ChainReport(team_id, count, expected_prev, f"event {seq} is missing (found event {event.seq} next)")
        if event.prev_hash != expected_prev:
            return ChainReport(team_id, count, expected_prev, f"event {seq} does not follow event {seq - 1}")
        if event_hash(event) != event.row_hash:
            return ChainReport(team_id, count, expected_prev, f"event {seq} was changed after it was written")
        expected_prev = event.row_hash
    if (head_seq or 0) != seq or (head_hash or GENESIS) != expected_prev:
        return ChainReport(team_id, count, expected_prev,
                           f"the chain ends at event {seq}, but its head says event {head_seq or 0}: "
                           "events were removed from its end")
    return ChainReport(team_id, count, expected_prev)
