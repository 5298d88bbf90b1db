"""What the bot remembers of people (their time zone, from Slack), per workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import Person


def timezone_of(session: Session, team_id: str, user_id: str) -> str | None:
    person = session.get(Person, (team_id, user_id))
    return person.tz if person is not None else None


def remember_timezone(session: Session, team_id: str, user_id: str, tz: str | None, now: datetime) -> None:
    person = session.get(Person, (team_id, user_id))
    if person is None:
        session.add(Person(team_id=team_id, user_id=user_id, tz=tz, fetched_at=now))
    else:
        person.tz, person.fetched_at = tz, now
