"""The go-live aggregate: the monitoring plan recorded at rollout and the first week's check-ins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, UTCDateTime, utcnow


class GoLive(TeamScoped, Base):
    __tablename__ = "golives"
    __table_args__ = (UniqueConstraint("assessment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(32))
    alerts: Mapped[str] = mapped_column(Text)
    cadence: Mapped[str] = mapped_column(String(200))
    escalation_owner: Mapped[str] = mapped_column(String(32))
    watch_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    # watch items that name a metric and a threshold ({"metric", "threshold", "direction"}), checked
    # against evidence pushed during the watch
    watch_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    days: Mapped[int] = mapped_column(Integer, default=7)
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WatchCheckin(TeamScoped, Base):
    """One answer to a day's check-in: who, what, and for an issue, what and where."""

    __tablename__ = "watch_checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    golive_id: Mapped[int] = mapped_column(ForeignKey("golives.id"), index=True)
    day: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(1000))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
