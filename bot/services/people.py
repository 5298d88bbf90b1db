"""What the bot remembers of people, per workspace: their time zone and their names, from Slack's users.info.

The reconcile fetches the people that open reviews name (owners, the release lead, approvers, whoever marked,
decided, waived, answered a check-in or added a trace) when users.info has not answered for them yet (no row,
or a row made for another reason), an hour after a look-up failed, and once a week to follow changes (a new
display name, a move abroad).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from bot.core.slack_ids import is_user_id
from models import (
    Approval,
    Approver,
    Assessment,
    GoLive,
    ItemMark,
    MarkChange,
    Person,
    TraceExample,
    Waiver,
    WatchCheckin,
)

REFRESH_AFTER = timedelta(days=7)  # a profile this old is fetched again
RETRY_AFTER = timedelta(hours=1)  # a failed look-up is tried again after this
OPEN_REVIEWS = ("open", "complete", "live")
DISPLAY_MAX, REAL_MAX = 80, 160


@dataclass(frozen=True)
class Profile:
    """What users.info says of a person, in the shape Slack documents: ``user.tz``,
    ``user.profile.display_name`` and ``user.profile.real_name`` (``user.real_name`` as a fallback)."""

    tz: str | None = None
    display_name: str | None = None
    real_name: str | None = None

    @classmethod
    def from_user(cls, user: Mapping[str, Any]) -> Profile:
        profile = user.get("profile") or {}

        def text(value: Any, limit: int) -> str | None:
            shown = " ".join(str(value or "").split())
            return shown[:limit] or None

        return cls(tz=str(user.get("tz") or "") or None,
                   display_name=text(profile.get("display_name"), DISPLAY_MAX),
                   real_name=text(profile.get("real_name") or user.get("real_name"), REAL_MAX))


def timezone_of(session: Session, team_id: str, user_id: str) -> str | None:
    person = session.get(Person, (team_id, user_id))
    return person.tz if person is not None else None


def remember_timezone(session: Session, team_id: str, user_id: str, tz: str | None, now: datetime) -> None:
    person = session.get(Person, (team_id, user_id))
    if person is None:
        session.add(Person(team_id=team_id, user_id=user_id, tz=tz, fetched_at=now))
    else:
        person.tz, person.fetched_at = tz, now


def remember(session: Session, team_id: str, user_id: str, profile: Profile | None, now: datetime) -> None:
    """Keep what users.info answered. ``None`` (the look-up failed): what was known is kept (someone new has
    no time zone, so UTC is used, and no name), and the look-up is tried again after :data:`RETRY_AFTER`."""
    person = session.get(Person, (team_id, user_id))
    if person is None:
        person = Person(team_id=team_id, user_id=user_id, tz=None)
        session.add(person)
    person.fetched_at = now
    if profile is None:
        person.lookup_failed_at = now
        return
    person.tz, person.display_name, person.real_name = profile.tz, profile.display_name, profile.real_name
    person.profile_at, person.lookup_failed_at = now, None


def shown_name(person: Person) -> str | None:
    """How Slack shows a person: the display name, else the real name; None when neither is known."""
    return person.display_name or person.real_name


def names(session: Session, team_id: str, user_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Each known person's shown name by user id (people without a known name are left out)."""
    query = select(Person).where(Person.team_id == team_id,
                                 or_(Person.display_name.is_not(None), Person.real_name.is_not(None)))
    if user_ids is not None:
        wanted = sorted({u for u in user_ids if u})
        if not wanted:
            return {}
        query = query.where(Person.user_id.in_(wanted))
    return {p.user_id: name for p in session.scalars(query) if (name := shown_name(p))}


def _named_in_open_reviews() -> list[tuple[Any, Any, Any]]:
    """(team column, user column, the column that leads to the review) of every place a review names a person."""
    return [  # owners first: their time zone times their reminders
        (ItemMark.team_id, ItemMark.owner, ItemMark.assessment_id),
        (GoLive.team_id, GoLive.escalation_owner, GoLive.assessment_id),
        (Assessment.team_id, Assessment.started_by, Assessment.id),
        (Approver.team_id, Approver.user_id, Approver.assessment_id),
        (ItemMark.team_id, ItemMark.marked_by, ItemMark.assessment_id),
        (Approval.team_id, Approval.user_id, Approval.assessment_id),
        (Waiver.team_id, Waiver.granted_by, Waiver.assessment_id),
        (TraceExample.team_id, TraceExample.added_by, TraceExample.assessment_id),
        (MarkChange.team_id, MarkChange.changed_by, MarkChange.assessment_id),
        (GoLive.team_id, GoLive.started_by, GoLive.assessment_id),
        (WatchCheckin.team_id, WatchCheckin.user_id, WatchCheckin.golive_id),
    ]


def _due(team: Any, user: Any, via: Any, now: datetime, limit: int) -> Select[Any]:
    """The people one column names in open reviews whose profile is missing, failed a while ago, or is old."""
    query = select(team, user).distinct()
    if via is WatchCheckin.golive_id:
        query = query.join(GoLive, GoLive.id == via).join(Assessment, Assessment.id == GoLive.assessment_id)
    elif via is not Assessment.id:
        query = query.join(Assessment, Assessment.id == via)
    failed_a_while_ago = or_(Person.lookup_failed_at.is_(None), Person.lookup_failed_at <= now - RETRY_AFTER)
    never_or_old = or_(Person.profile_at.is_(None), Person.profile_at <= now - REFRESH_AFTER)
    stale = or_(Person.user_id.is_(None), and_(never_or_old, failed_a_while_ago))
    return (query.outerjoin(Person, (Person.team_id == team) & (Person.user_id == user))
            .where(user.is_not(None), Assessment.status.in_(OPEN_REVIEWS), stale)
            .limit(limit))


def people_to_fetch(session: Session, now: datetime, limit: int = 50) -> list[tuple[str, str]]:
    """(team, user) of people open reviews name whose profile is missing, failed an hour ago, or is a week old.
    Free-text names (an owner typed in an assessment file) are not Slack users and are never looked up."""
    found: list[tuple[str, str]] = []
    for team, user, via in _named_in_open_reviews():
        for team_id, user_id in session.execute(_due(team, user, via, now, limit)):
            if is_user_id(user_id) and (team_id, user_id) not in found:
                found.append((team_id, user_id))
            if len(found) >= limit:
                return found
    return found


def names_in_review(session: Session, assessment: Assessment) -> dict[str, str]:
    """The shown names of everyone one review names (see :func:`names`)."""
    named: set[str] = set()
    for team, user, via in _named_in_open_reviews():
        query = select(user).distinct().where(team == assessment.team_id, user.is_not(None))
        if via is WatchCheckin.golive_id:
            query = query.join(GoLive, GoLive.id == via).where(GoLive.assessment_id == assessment.id)
        else:
            query = query.where(via == assessment.id)
        named.update(session.scalars(query))
    return names(session, assessment.team_id, named)
