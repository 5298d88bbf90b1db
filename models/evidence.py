"""Evidence from the eval pipeline: pushed sets of cohort metrics, release policies, and the marks they suggest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from models.base import Base, TeamScoped, UTCDateTime, utcnow


class EvidenceRecord(TeamScoped, Base):
    """One pushed evidence set (all its rows, validated); the same set pushed twice is stored once."""

    __tablename__ = "evidence_sets"
    __table_args__ = (
        UniqueConstraint("team_id", "content_hash"),
        Index("ix_evidence_sets_system_version", "team_id", "system", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(String(MAX_SYSTEM))
    version: Mapped[str] = mapped_column(String(MAX_VERSION))
    content_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    row_count: Mapped[int] = mapped_column(Integer)
    pushed_by: Mapped[str] = mapped_column(String(120))
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PolicyRecord(TeamScoped, Base):
    """A release policy of a workspace: for one system, or the workspace default (system NULL)."""

    __tablename__ = "release_policies"
    __table_args__ = (UniqueConstraint("team_id", "content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str | None] = mapped_column(String(MAX_SYSTEM))
    policy_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    stored_by: Mapped[str] = mapped_column(String(120))
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MarkSuggestion(TeamScoped, Base):
    """What the numbers suggest for one item of a review; applied or dismissed by a person, never silently."""

    __tablename__ = "mark_suggestions"
    __table_args__ = (UniqueConstraint("assessment_id", "item_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(48))
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_sets.id"))
    mark: Mapped[str | None] = mapped_column(String(12))  # None: not enough evidence to suggest a mark
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | applied | dismissed | superseded
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
