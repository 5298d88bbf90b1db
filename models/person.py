"""People the bot writes to: their Slack time zone, cached from users.info."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Person(Base):
    __tablename__ = "people"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # their App Home is kept current
