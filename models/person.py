"""People the bot writes to and names: their Slack time zone and names, cached from users.info."""

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
    # users.info's profile.display_name and real_name (None until fetched, or when Slack has none)
    display_name: Mapped[str | None] = mapped_column(String(80))
    real_name: Mapped[str | None] = mapped_column(String(160))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # when users.info last answered for them (None: never, e.g. a row made when they opened the App Home), and
    # when it last failed to (None since it last answered)
    profile_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lookup_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # their App Home is kept current
