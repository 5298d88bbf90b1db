"""Scorecards of reviews for lines that show many or answer at once (`/readiness status`, `list`), kept per process.

A review's scorecard is drawn from its marks and live waivers. Every change to those (a mark, a waiver granted
or ended) raises the review's state revision in the same transaction (``surfaces.changed``), and a waiver that
runs out by time stops counting at its expiry. So a card drawn in a read is kept under (review, created, state
revision, checklist) until the earliest expiry of the waivers it counts, and reused by reads of the same
revision: a line then costs the review's own row, not its marks and waivers. Only read-only sessions use the
cache (a write may hold changes not yet committed); each database (connection pool) has its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from bot.core.review import ReviewRow
from bot.core.scoring import Scorecard, score
from bot.db import clock_now
from bot.services.assessments import checklist_of, current_marks, live_waivers
from models import Assessment

MAX_CARDS = 4096  # per database; past this the cache starts over


@dataclass(frozen=True)
class _Drawn:
    card: Scorecard
    until: datetime | None  # the earliest expiry of a waiver the card counts: from then on it is drawn again


_cards: WeakKeyDictionary[Any, dict[tuple[Any, ...], _Drawn]] = WeakKeyDictionary()
_lock = threading.Lock()


def _cache(session: Session) -> dict[tuple[Any, ...], _Drawn] | None:
    bind = session.get_bind()
    if not bind.get_execution_options().get("readonly"):
        return None
    pool = getattr(bind, "pool", None)
    if pool is None:
        return None
    with _lock:
        found = _cards.get(pool)
        if found is None:
            found = _cards[pool] = {}
        return found


def card_of(session: Session, assessment: Assessment) -> Scorecard:
    """The review's scorecard as it stands now: current marks, live waivers."""
    now = clock_now(session)
    cache = _cache(session)
    key = (assessment.team_id, assessment.id, assessment.created_at, assessment.state_rev or 0,
           assessment.checklist_hash)
    if cache is not None:
        drawn = cache.get(key)
        if drawn is not None and (drawn.until is None or now < drawn.until):
            return drawn.card
    waivers = live_waivers(session, assessment, now)
    card = score(checklist_of(session, assessment), current_marks(session, assessment),
                 waived={w.item_id for w in waivers})
    if cache is not None:
        if len(cache) >= MAX_CARDS:
            cache.clear()
        cache[key] = _Drawn(card, min((w.expires_at for w in waivers), default=None))
    return card


def review_row(session: Session, assessment: Assessment) -> ReviewRow:
    """One line of a list of reviews: its number, label, status, scorecard and channel."""
    return ReviewRow(assessment.id, f"{assessment.system} {assessment.version}", assessment.status,
                     card_of(session, assessment), assessment.channel_id)
