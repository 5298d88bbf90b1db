"""The messages that show a review, kept current through the outbox.

Every change a message of a review shows (a mark, a waiver granted or ended, a decision, a close, a go-live)
calls ``changed``: the review's state revision goes up and one refresh row per review is owed (and one per
App Home of the people concerned). The row is coalesced: changes while it waits are covered by it, since it
draws what is current when it runs; a change while a worker holds it sends it again once that worker is
done. A claimed row belongs to one worker at a time, so a message is never updated by two at once, and an
older state never overwrites a newer one (a surface refuses to go back to an older revision).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.orm import Session

from bot.db import db_now, dialect_insert
from bot.services import outbox
from bot.services.outbox import HOME_REFRESH, REFRESH, REFRESH_KINDS, enqueue
from models import Approver, Assessment, ItemMark, OutboxMessage, Person, Surface
from models.outbox import CANCELLED, DEAD, PENDING, SENDING, SENT
from models.surface import HOME

__all__ = ["HOME_REFRESH", "REFRESH", "REFRESH_KINDS", "changed", "gone", "home_of", "of_review", "register",
           "home_shown", "owe_refresh", "request", "shown"]
HOME_WATCHED = timedelta(days=14)  # how long an opened App Home of someone concerned is kept current
HOME_OPEN = timedelta(minutes=30)  # anyone's App Home opened this recently is taken to be open still
MAX_HOMES = 200


def changed(session: Session, assessment: Assessment, *, owners: set[str] | None = None) -> None:
    """The review changed: its messages and the App Homes of its people are owed an update. ``owners``: the
    review's gap owners as they are now, when the caller has just read them (read here otherwise)."""
    assessment.state_rev = (assessment.state_rev or 0) + 1
    now = db_now(session)
    owe_refresh(session, assessment.team_id, assessment.id, now=now)
    for user in _home_watchers(session, assessment, owners, now=now):
        request(session, assessment.team_id, f"home:{user}", HOME_REFRESH, user, None, now=now)


def homes_changed(session: Session, team_id: str, users: list[str]) -> None:
    """What the App Homes of these people show changed (a proposal waits for them, a check-in is posted): those
    who opened their Home recently are kept current."""
    now = db_now(session)
    found = session.scalars(select(Person.user_id).where(
        Person.team_id == team_id, Person.user_id.in_([u for u in users if u]), Person.home_opened_at.is_not(None),
        Person.home_opened_at > now - HOME_WATCHED))
    for user in found:
        request(session, team_id, f"home:{user}", HOME_REFRESH, user, None)


def owe_refresh(session: Session, team_id: str, assessment_id: int, *, now: datetime | None = None) -> None:
    """One refresh of the review's surfaces is owed (coalesced with any already waiting)."""
    request(session, team_id, f"refresh:{assessment_id}", REFRESH, "-", assessment_id, now=now)


def request(session: Session, team_id: str, key: str, kind: str, recipient: str, assessment_id: int | None, *,
            now: datetime | None = None) -> None:
    """Owe one refresh: a waiting row covers it; a row a worker holds is sent again after; a done one revives.
    ``now``: the database's time, when the caller has just read it."""
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.team_id == team_id,
                                                     OutboxMessage.dedupe_key == key).with_for_update())
    now = now or db_now(session)
    if row is None:
        enqueue(session, team_id, dedupe_key=key, kind=kind, recipient=recipient, due_at=now,
                assessment_id=assessment_id)
    elif row.status == PENDING:
        # the waiting row covers this change, but a sweep claiming right now may have passed it by (on
        # PostgreSQL a claim skips the row this transaction holds): this request asks for a sweep too
        outbox.owed(session)
    elif row.status == SENDING:
        row.requeue = True
        outbox.owed(session)
    elif row.status in (SENT, CANCELLED, DEAD):
        row.status, row.attempts, row.last_error, row.requeue = PENDING, 0, None, False
        row.due_at = row.next_attempt_at = now
        outbox.owed(session)


def home_opened(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    """The person opened their App Home: it is kept current from now on."""
    person = session.get(Person, (team_id, user_id))
    if person is None:
        session.add(Person(team_id=team_id, user_id=user_id, tz=None, fetched_at=now, home_opened_at=now))
    else:
        person.home_opened_at = now


def _home_watchers(session: Session, assessment: Assessment, owners: set[str] | None = None, *,
                   now: datetime | None = None) -> list[str]:
    """People whose App Home shows this review: its lead, gap owners and approvers who opened their Home, and
    anyone who opened theirs in the last half hour (the review list shows every review in progress)."""
    now = now or db_now(session)
    concerned = {assessment.started_by}
    concerned |= set(session.scalars(select(ItemMark.owner).where(
        ItemMark.team_id == assessment.team_id, ItemMark.assessment_id == assessment.id,
        ItemMark.owner.is_not(None)))) if owners is None else owners
    approvers = select(Approver.user_id).where(Approver.team_id == assessment.team_id,
                                               Approver.assessment_id == assessment.id)
    watching = Person.user_id.in_([u for u in concerned if u]) | Person.user_id.in_(approvers)
    found = session.scalars(select(Person.user_id).where(
        Person.team_id == assessment.team_id, Person.home_opened_at.is_not(None),
        or_(Person.home_opened_at > now - HOME_OPEN, watching & (Person.home_opened_at > now - HOME_WATCHED)))
        .order_by(Person.home_opened_at.desc()).limit(MAX_HOMES))
    return list(found)


def register(session: Session, team_id: str, assessment_id: int | None, role: str, key: str, channel_id: str,
             ts: str, *, rev: int, shown_hash: str | None = None, asserts: dict[str, Any] | None = None,
             payload: dict[str, Any] | None = None) -> Surface:
    """Remember a message (or a Home) that shows a review, as posted at revision ``rev``."""
    surface = session.scalar(select(Surface).where(Surface.team_id == team_id, Surface.channel_id == channel_id,
                                                   Surface.ts == ts))
    if surface is None:
        surface = Surface(team_id=team_id, assessment_id=assessment_id, role=role, key=key, channel_id=channel_id,
                          ts=ts, shown_rev=rev, shown_hash=shown_hash, asserts=asserts, payload=payload or {})
        session.add(surface)
        session.flush()
    return surface


def of_review(session: Session, team_id: str, assessment_id: int) -> list[Surface]:
    return list(session.scalars(select(Surface).where(
        Surface.team_id == team_id, Surface.assessment_id == assessment_id, Surface.gone.is_(None))
        .order_by(Surface.id)))


def home_of(session: Session, team_id: str, user_id: str) -> Surface | None:
    return session.scalar(select(Surface).where(Surface.team_id == team_id, Surface.channel_id == user_id,
                                                Surface.role == HOME))


def shown(session: Session, surface_id: int, rev: int, shown_hash: str, *, superseded_at: datetime | None = None
          ) -> bool:
    """Record what a surface now shows; refused (False) when it already shows a later revision."""
    values: dict[str, Any] = {"shown_rev": rev, "shown_hash": shown_hash}
    if superseded_at is not None:  # the first time it was superseded stays
        values["superseded_at"] = func.coalesce(Surface.superseded_at, literal(superseded_at, Surface.superseded_at.type))
    recorded = session.execute(update(Surface).where(Surface.id == surface_id, Surface.shown_rev <= rev)
                               .values(**values).execution_options(synchronize_session=False))
    return bool(recorded.rowcount)  # type: ignore[attr-defined]


def gone(session: Session, surface_id: int, error: str) -> None:
    """The message can no longer be edited (deleted, its channel archived): it is left alone from now on."""
    surface = session.get(Surface, surface_id)
    if surface is not None:
        surface.gone = error[:64]


def home_shown(session: Session, team_id: str, user_id: str, shown_hash: str) -> None:
    """A person's App Home was published with ``shown_hash``: the next refresh skips it if nothing changed.
    One statement, whether it is the person's first: the Home's row is keyed by the person (its channel)."""
    home = dialect_insert(session, Surface).values(team_id=team_id, assessment_id=None, role=HOME, key="home",
                                                   channel_id=user_id, ts=HOME, shown_rev=0, shown_hash=shown_hash,
                                                   payload={})
    session.execute(home.on_conflict_do_update(index_elements=[Surface.team_id, Surface.channel_id, Surface.ts],
                                               set_={"shown_hash": home.excluded.shown_hash}))
