"""Scorecards of reviews kept per process, for lines that show many reviews at once (`/readiness status`,
`list`, the App Home's reviews in progress).

A review's scorecard follows from its marks and the waivers live now. Every change of its marks raises the
review's state revision in the same transaction, so (workspace, review, when it was made, revision, the items
waived now) names one scorecard for good; a waiver that runs out by time changes the last part of the key. A
card is kept only by a session that has written nothing (what it read is committed: a rolled-back change never
leaves a card behind), at most ``MAX_CARDS`` per database (connection pool), so two databases in one process
never share one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from bot.core.scoring import Scorecard

MAX_CARDS = 4096
WROTE = "readiness_rows_written"

Key = tuple[Any, ...]
_cards: WeakKeyDictionary[Any, OrderedDict[Key, Scorecard]] = WeakKeyDictionary()
_lock = threading.Lock()


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, _context: Any) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


def _of(session: Session) -> OrderedDict[Key, Scorecard] | None:
    pool = getattr(session.get_bind(), "pool", None)
    if pool is None:
        return None
    found = _cards.get(pool)
    if found is None:
        found = _cards[pool] = OrderedDict()
    return found


def kept(session: Session, key: Key) -> Scorecard | None:
    with _lock:
        cards = _of(session)
        return None if cards is None else cards.get(key)


def keep(session: Session, key: Key, card: Scorecard) -> None:
    if session.info.get(WROTE):
        return
    with _lock:
        cards = _of(session)
        if cards is None:
            return
        cards[key] = card
        while len(cards) > MAX_CARDS:
            cards.popitem(last=False)
