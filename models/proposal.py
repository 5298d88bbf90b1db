"""A gap owner's proposed due date, waiting for the review's release lead (shown on the lead's App Home)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, UTCDateTime, utcnow

PENDING, ACCEPTED, REFUSED, STALE = "pending", "accepted", "refused", "stale"


class DueProposal(TeamScoped, Base):
    __tablename__ = "due_proposals"
    __table_args__ = (Index("ix_due_proposals_team_lead_status", "team_id", "lead", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    proposer: Mapped[str] = mapped_column(String(32))
    lead: Mapped[str] = mapped_column(String(32))
    was: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
