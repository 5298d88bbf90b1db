"""The Slack messages and views that show a review, each kept current or marked superseded.

``role`` says which: the parent message, a section message, the result, the sign-off card and its outcome
(kept current), or a moment (a blocker alert, a cleared notice, a void notice, a waiver notice, a new
owner's message), which stays as posted until what it ``asserts`` stops being true, then says so. An App
Home is a surface of the workspace, not of one review (``assessment_id`` is NULL, ``channel_id`` the user).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, UTCDateTime, utcnow

PARENT, SECTION, RESULT, CARD, OUTCOME, MOMENT, HOME = "parent", "section", "result", "card", "outcome", "moment", "home"
CURRENT_ROLES = (PARENT, SECTION, RESULT, CARD, OUTCOME)


class Surface(TeamScoped, Base):
    __tablename__ = "surfaces"
    __table_args__ = (Index("ix_surfaces_team_channel_ts", "team_id", "channel_id", "ts", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))  # a section part, a moment's kind and item, "thread"/"channel"
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))  # "home" for an App Home
    shown_rev: Mapped[int] = mapped_column(Integer, default=0)
    shown_hash: Mapped[str | None] = mapped_column(String(64))
    asserts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what a moment was about (its outbox row)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gone: Mapped[str | None] = mapped_column(String(64))  # Slack's error when the message can no longer be edited
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
