"""The audit trail: who did what, when, with the state before and after. Append-only and hash-chained.

The application never updates or deletes an audit row: a flush that would, or an UPDATE/DELETE
statement aimed at the table, raises before anything reaches the database (and database triggers refuse
it too). Each workspace's events form a hash chain (``bot.core.audit_chain``); its head is kept in
``audit_heads``, so removing events from the end shows as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from bot.core.limits import MAX_ACTOR, MAX_SYSTEM, MAX_VERSION
from models.base import Base, TeamScoped, UTCDateTime, utcnow

MAX_SUBJECT = MAX_SYSTEM + 1 + MAX_VERSION  # the longest subject: "system version"


class AuditImmutable(RuntimeError):
    """Something tried to change or remove an audit row."""


class AuditEvent(TeamScoped, Base):
    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("team_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    actor: Mapped[str] = mapped_column(String(MAX_ACTOR))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(MAX_SUBJECT))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seq: Mapped[int] = mapped_column(Integer)  # the event's place in its workspace's chain, from 1
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The end of a workspace's chain: the last event's number and hash. Database triggers let it only move
    forward, and be deleted only with its workspace's purge permit (``models.workspace.AuditPurgePermit``)."""

    __tablename__ = "audit_heads"

    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(Session, "before_flush")
def _no_changes_to_audit_rows(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditImmutable("audit rows are append-only: they are never changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_statements_against_audit_rows(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        getattr(m, "class_", None) is AuditEvent for m in state.all_mappers
    ):
        raise AuditImmutable("audit rows are append-only: they are never changed or deleted")
