"""Sign-off: each workspace's roles, the named approver per role of an assessment, and their decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, UTCDateTime, utcnow

DEFAULT_ROLES = ["quality", "policy", "operations"]


class WorkspaceConfig(TeamScoped, Base):
    __tablename__ = "workspace_configs"
    __table_args__ = (UniqueConstraint("team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_ROLES))
    admins: Mapped[list[str]] = mapped_column(JSON, default=list)
    waiver_max_days: Mapped[int] = mapped_column(Integer, default=14)
    release_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    join_channels: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # go-live may be recorded before the sign-off is approved (an admin's choice, audited)
    golive_without_signoff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Approver(TeamScoped, Base):
    __tablename__ = "approvers"
    __table_args__ = (UniqueConstraint("assessment_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(32))


class Approval(TeamScoped, Base):
    """A decision for one role, bound to the scorecard it saw; voided when the marks change."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    scorecard_hash: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    void_reason: Mapped[str | None] = mapped_column(Text)


class Waiver(TeamScoped, Base):
    """A blocker waived by the policy approver until ``expires_at``. It ends when it expires, or early
    when its item is re-marked; approvals given while it held are voided when it ends."""

    __tablename__ = "waivers"
    __table_args__ = (Index("ix_waivers_open", "expires_at", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(48))
    granted_by: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(40))  # expired | re-marked


class ApiToken(TeamScoped, Base):
    """A workspace's token for pipelines (the gate API). Only its hash is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
