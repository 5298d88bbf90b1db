"""Keeping current what shows a review: its messages, its sign-off card and outcome post, people's App Homes.

A refresh row (one per review, one per person's App Home) draws every surface from the database when it runs
and updates only those whose content changed, so ten quick marks give one update of each message with the
latest state. A moment whose statement no longer holds is edited once to say it is superseded. Before each
update the worker renews its claim, and a surface refuses to record an older revision than it shows; if an
older state did reach Slack (a claim taken over at that very moment), the refresh is owed again, so the
latest state is what stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.moments import Now, holds
from bot.core.review import Review, message_parts
from bot.core.slack_failures import CONTENT, MESSAGE, permanent
from bot.core.surface_hash import content_hash
from bot.db import session_scope
from bot.services import outbox, surfaces
from bot.services.home import desk
from bot.services.outbox import HOME_REFRESH
from bot.services.reviews import load_review_signoff
from bot.services.signoff import SignoffState
from handlers.blocks import review as rb
from handlers.blocks import signoff as sb
from handlers.blocks.home import home_view
from handlers.blocks.moments import superseded
from models import Assessment, Surface
from models.surface import CARD, MOMENT, OUTCOME, PARENT, RESULT, SECTION
from scheduler.crash import crash_point
from scheduler.messages import Claimed

log = logging.getLogger(__name__)
NEVER_DEAD = 10**6  # a refresh is retried until Slack takes it: a stale message is never given up on


class Host(Protocol):
    """What a refresh needs of the deliverer that claimed it."""

    sessions: sessionmaker[Session]
    client: WebClient
    worker_id: str

    lease: timedelta

    def _backoff(self, rows: list[Claimed]) -> float: ...

    def _now(self, session: Session) -> datetime: ...


@dataclass(frozen=True)
class Update:
    surface_id: int | None  # None: an App Home not recorded yet
    channel: str  # the message's channel, or the person of an App Home
    ts: str | None
    text: str
    blocks: list[Any]
    digest: str
    rev: int
    superseded: bool = False
    view: dict[str, Any] | None = None  # an App Home's view


def draw(review: Review, st: SignoffState, surface: Surface) -> tuple[str, list[Any]] | None:
    """A kept-current surface as it must look now (None: its section part no longer exists)."""
    if surface.role == PARENT:
        return rb.parent_message(review)
    if surface.role == SECTION:
        part = next((p for p in message_parts(review.checklist) if p.key == surface.key), None)
        return rb.section_message(review, part) if part is not None else None
    if surface.role == RESULT:
        return rb.result_message(review, review.thread_link)
    if surface.role == CARD:
        return sb.card(review, st)
    if surface.role == OUTCOME:
        return sb.outcome(review, st)
    return None


def moment_now(review: Review, st: SignoffState) -> Now:
    gaps = review.gaps()
    return Now(card=review.card, owners={item.id: status.owner for item, status in gaps},
               dues={item.id: status.due.isoformat() if status.due else None for item, status in gaps},
               live_decisions=st.live_decisions, closed=review.status == "closed")


def plan_review(session: Session, team_id: str, assessment_id: int | None, now: datetime) -> list[Update]:
    """The updates the review's surfaces need now: kept-current ones whose content changed, and moments that
    stopped being true."""
    assessment = session.get(Assessment, assessment_id) if assessment_id is not None else None
    if assessment is None or assessment.team_id != team_id:
        return []
    review, st = load_review_signoff(session, assessment)
    state_now = moment_now(review, st)
    updates: list[Update] = []
    # the thread's item messages first: a mark shows where it was made before the card and the parent follow
    for surface in sorted(surfaces.of_review(session, team_id, assessment.id), key=lambda s: s.role != SECTION):
        if surface.role == MOMENT:
            if surface.superseded_at is not None or holds(surface.asserts or {}, state_now):
                continue
            text, blocks = superseded(str(surface.payload.get("text") or ""), list(surface.payload.get("blocks") or []),
                                      now, review.thread_link)
            updates.append(Update(surface.id, surface.channel_id, surface.ts, text, blocks,
                                  content_hash(text, blocks), review.rev, superseded=True))
            continue
        drawn = draw(review, st, surface)
        if drawn is None:
            continue
        digest = content_hash(*drawn)
        if digest != surface.shown_hash:
            updates.append(Update(surface.id, surface.channel_id, surface.ts, drawn[0], drawn[1], digest, review.rev))
    return updates


def plan_home(session: Session, team_id: str, user_id: str, now: datetime) -> list[Update]:
    view = home_view(desk(session, team_id, user_id, now))
    digest = content_hash(view)
    surface = surfaces.home_of(session, team_id, user_id)
    if surface is not None and surface.shown_hash == digest:
        return []
    return [Update(surface.id if surface else None, user_id, None, "", [], digest, 0, view=view)]


def run(host: Host, row: Claimed) -> str | None:
    """Bring every surface of the row's review (or the person's App Home) up to date, then finish the row:
    done, or owed again at once when something changed while it ran. Returns the row's status when it finished
    (None: it went back, or another worker holds it).

    Before each update the claim is renewed: the first time in the transaction that drew the updates, then in
    the one that records the update before it (one transaction between two updates, not two); the last one is
    recorded as the row finishes."""
    with session_scope(host.sessions) as session:
        now = host._now(session)
        if row.kind == HOME_REFRESH:
            updates = plan_home(session, row.team_id, row.recipient, now)
        else:
            updates = plan_review(session, row.team_id, row.assessment_id, now)
        if not updates:  # everything shows what it must already
            return outbox.finish(session, row.id, host.worker_id) or None
        held = bool(outbox.renew(session, [row.id], host.worker_id, host.lease))
    if not held:
        return None  # another worker took the row over: it draws the state itself
    crash_point("refresh_drawn")
    shown: Update | None = None  # in Slack, not recorded yet
    for n, update in enumerate(updates):
        if n:
            with session_scope(host.sessions) as session:
                if shown is not None:
                    _record(session, row, shown, now)
                held = bool(outbox.renew(session, [row.id], host.worker_id, host.lease))
            shown = None
            if not held:
                return None
        sent = _send(host, row, update)
        if sent is None:
            return None
        shown = update if sent else None
    with session_scope(host.sessions) as session:
        if shown is not None:
            _record(session, row, shown, now)
        return outbox.finish(session, row.id, host.worker_id) or None


def _send(host: Host, row: Claimed, update: Update) -> bool | None:
    """Post one update: True when Slack took it (to be recorded), False when the surface is gone and is left
    as it is, None when the row went back to be tried later (Slack is slow or busy)."""
    try:
        if update.view is not None:
            host.client.views_publish(user_id=update.channel, view=update.view)
        else:
            host.client.chat_update(channel=update.channel, ts=update.ts, text=update.text, blocks=update.blocks)
    except SlackApiError as exc:
        status, error = exc.response.status_code, str(exc.response.get("error") or exc.response.status_code)
        failure = permanent(error) if status < 500 else None
        if status == 429:
            after = float(exc.response.headers.get("Retry-After", "1") or 1)
            _again(host, row, after, f"ratelimited ({after:g}s)", counts=False)
            return None
        if failure is not None and failure.kind in (MESSAGE, CONTENT) and update.surface_id is not None:
            # the message is gone, or Slack will never take this content: the other surfaces still go
            log.error("surface %s (%s) not updated: Slack answered %s; it is left as it is", update.surface_id,
                      update.channel, error)
            with session_scope(host.sessions) as session:
                surfaces.gone(session, update.surface_id, error)
            return False
        _again(host, row, host._backoff([row]), f"refused: {error}" if failure else f"HTTP {status}: {error}")
        return None
    except (URLError, TimeoutError, OSError) as exc:
        _again(host, row, host._backoff([row]), type(exc).__name__)
        return None
    return True


def _record(session: Session, row: Claimed, update: Update, now: datetime) -> None:
    if update.view is not None:
        surfaces.home_shown(session, row.team_id, update.channel, update.digest)
        return
    assert update.surface_id is not None
    if not surfaces.shown(session, update.surface_id, update.rev, update.digest,
                          superseded_at=now if update.superseded else None):
        # a later state was shown first: this older one must not stay, so the refresh goes again
        surfaces.request(session, row.team_id, row.dedupe_key, row.kind, row.recipient, row.assessment_id)


def _again(host: Host, row: Claimed, after: float, error: str, counts: bool = True) -> None:
    with session_scope(host.sessions) as session:
        outbox.retry_later(session, row.id, host.worker_id, after=timedelta(seconds=after), error=error,
                           unknown=False, max_attempts=NEVER_DEAD, counts=counts)
    log.warning("refresh %s (%s) waits %.0fs: %s", row.id, row.dedupe_key, after, error)

