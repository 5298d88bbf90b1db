"""The workspace aggregate: one row per Slack team that installed the bot, and what is left of a purged one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Workspace(Base):
    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when Slack says the app was uninstalled or its bot token revoked; cleared by a new install.
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uninstall_reason: Mapped[str | None] = mapped_column(String(40))


class WorkspaceTombstone(Base):
    """What a purge leaves: who deleted which workspace's data, when, how many rows, and the export's hash.

    Not the purged workspace's row (that is gone), so ``team_id`` refers to nothing; never deleted itself.
    """

    __tablename__ = "workspace_tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    purged_by: Mapped[str] = mapped_column(String(120))
    rows: Mapped[dict[str, Any]] = mapped_column(JSON)  # table -> rows deleted
    total_rows: Mapped[int] = mapped_column(Integer)
    audit_rows: Mapped[int] = mapped_column(Integer)
    audit_head: Mapped[str | None] = mapped_column(String(64))  # the chain's last hash before the purge
    export_sha256: Mapped[str] = mapped_column(String(64))


class AuditPurgePermit(Base):
    """A purge permit: the audit triggers let a DELETE of a workspace's audit rows (and of its chain's head)
    through only while a row here names the workspace.

    Written and removed inside the purge's own transaction, so none is ever committed. On PostgreSQL a trigger
    stamps the row with the transaction and the role that wrote it, and it counts only in that transaction,
    written by the tables' owner (through ``audit_grant_purge_permit``), with ``readiness.purge_team`` set too.
    """

    __tablename__ = "audit_purge_permits"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    txn: Mapped[int | None] = mapped_column(BigInteger)  # PostgreSQL: the transaction that wrote it
    granted_by: Mapped[str | None] = mapped_column(String(64))  # PostgreSQL: the role that wrote it
