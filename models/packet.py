"""The rollout packet's inputs entered in Slack (trace examples, the rollout plan) and each packet produced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, UTCDateTime, utcnow

TRACE_KINDS = ("good", "bad", "escalation")


class TraceExample(TeamScoped, Base):
    """A link to one traced request: a good path, a bad path or an escalation path."""

    __tablename__ = "trace_examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RolloutPlan(TeamScoped, Base):
    """The staged rollout path and the rollback steps of a review, as its release lead wrote them."""

    __tablename__ = "rollout_plans"
    __table_args__ = (UniqueConstraint("assessment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    staged_rollout: Mapped[str] = mapped_column(Text)
    rollback: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PacketRecord(TeamScoped, Base):
    """One generated packet, kept as rendered: what a signed link shows is what was generated."""

    __tablename__ = "packets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    generated_by: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
