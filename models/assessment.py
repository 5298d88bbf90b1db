"""The assessment aggregate: the review itself, the current mark of each item and the mark history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from models.base import Base, TeamScoped, UTCDateTime, utcnow


class Assessment(TeamScoped, Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_team_system_version", "team_id", "system", "version"),
        Index("ix_assessments_team_status", "team_id", "status"),  # reviews in progress, counted
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(String(MAX_SYSTEM))
    version: Mapped[str] = mapped_column(String(MAX_VERSION))
    cohorts: Mapped[list[str]] = mapped_column(JSON, default=list)
    baseline_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    thread_link: Mapped[str | None] = mapped_column(String(500))
    signoff_channel: Mapped[str | None] = mapped_column(String(32))
    signoff_ts: Mapped[str | None] = mapped_column(String(32))
    # why the review's messages could not be posted, for good (the bot removed, the channel archived): the
    # reconcile stops trying until the review is posted again
    post_error: Mapped[str | None] = mapped_column(String(64))
    # bumped by every change any message of the review shows (marks, waivers, decisions, close, go-live):
    # what the messages were last brought up to, and what they must show next
    state_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    release_channel_id: Mapped[str | None] = mapped_column(String(32))
    section_messages: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    checklist_id: Mapped[str] = mapped_column(String(64))
    checklist_version: Mapped[str] = mapped_column(String(40))
    checklist_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    marks: Mapped[list[ItemMark]] = relationship(
        back_populates="assessment", order_by="ItemMark.id", cascade="all, delete-orphan"
    )


class ItemMark(TeamScoped, Base):
    """The current mark of one checklist item (mark is NULL while unmarked)."""

    __tablename__ = "item_marks"
    __table_args__ = (
        UniqueConstraint("assessment_id", "item_id"),
        # an owner's gaps in due order, read no further than what is shown (and counted the same way)
        Index("ix_item_marks_owner", "team_id", "owner", "due", "assessment_id", "item_id", "mark"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(48))
    mark: Mapped[str | None] = mapped_column(String(8))
    evidence: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(64))
    due: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    marked_by: Mapped[str | None] = mapped_column(String(64))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # the owner snoozed the gap's reminders until this day (never past the due date)
    snoozed_until: Mapped[date | None] = mapped_column(Date)

    assessment: Mapped[Assessment] = relationship(back_populates="marks")


class MarkChange(TeamScoped, Base):
    """Append-only history: every change of a mark, with who, when and why."""

    __tablename__ = "mark_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(48))
    from_mark: Mapped[str | None] = mapped_column(String(8))
    to_mark: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(64))
    due: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # what changed: "mark" (the scorecard), "owner", "due", or "details" (evidence or note only)
    change: Mapped[str] = mapped_column(String(16), default="mark", server_default="mark")
