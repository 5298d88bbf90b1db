"""What a person's App Home shows: their open gaps and the reviews in progress, as of now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.marking import earliest_today
from bot.core.review import GapRow, ReviewRow
from bot.services import reviews


def home_data(session: Session, team_id: str, user_id: str, now: datetime) -> tuple[list[GapRow], list[ReviewRow]]:
    gaps = reviews.open_gaps_for(session, team_id, user_id, earliest_today(now))
    rows = reviews.review_rows(session, team_id, active_only=True)
    return gaps, rows
