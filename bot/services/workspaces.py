"""The workspace a row belongs to: created on first use, installed, uninstalled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services import audit
from models import Assessment, OutboxMessage, Surface, Workspace
from models.outbox import CANCELLED, PENDING, SENDING, UNKNOWN

APP_UNINSTALLED, TOKENS_REVOKED = "app.uninstalled", "tokens.revoked"


def ensure_workspace(session: Session, team_id: str, name: str | None = None) -> Workspace:
    workspace = session.get(Workspace, team_id)
    if workspace is not None:
        return workspace
    try:
        with session.begin_nested():
            workspace = Workspace(team_id=team_id, name=name)
            session.add(workspace)
    except IntegrityError:  # created at the same moment by another request
        workspace = session.get(Workspace, team_id)
        assert workspace is not None
    return workspace


def installed(session: Session, team_id: str, name: str | None, *, installer: str) -> Workspace:
    """An install through "Add to Slack" finished: the workspace is served again (a reinstall clears an
    uninstall, and the reconcile brings its reminders back)."""
    workspace = ensure_workspace(session, team_id, name)
    again = workspace.uninstalled_at is not None
    workspace.uninstalled_at, workspace.uninstall_reason = None, None
    if name:
        workspace.name = name
    audit.record(session, team_id, "app.installed", actor=installer[:64], after={"reinstalled": again})
    return workspace


def uninstalled(session: Session, team_id: str, reason: str, *, now: datetime) -> int:
    """The app was uninstalled, or its bot token revoked: everything still owed to the workspace is cancelled
    at once, with the reason, and nothing more is sent there. Returns how many outbox rows were cancelled."""
    workspace = ensure_workspace(session, team_id)
    workspace.uninstalled_at, workspace.uninstall_reason = now, reason[:40]
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.team_id == team_id, OutboxMessage.status.in_((PENDING, SENDING, UNKNOWN)))
        .values(status=CANCELLED, last_error=f"cancelled: {reason}", lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    cancelled = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(session, team_id, reason, actor="slack", after={"outbox_cancelled": cancelled})
    return cancelled


def uninstalled_of(session: Session, team_ids: Iterable[str]) -> set[str]:
    """Those of these workspaces that uninstalled the app (or whose token was revoked)."""
    wanted = sorted(set(team_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Workspace.team_id).where(Workspace.team_id.in_(wanted),
                                                               Workspace.uninstalled_at.is_not(None))))


def served(session: Session) -> list[str]:
    """Workspaces that have not uninstalled the app."""
    return list(session.scalars(select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None))
                                .order_by(Workspace.team_id)))


def using_channel(session: Session, channel_id: str) -> set[str]:
    """The workspaces whose reviews live in a channel (its review, release or sign-off channel, or a message
    of a review posted there). Channel ids are Slack's, unique across workspaces; a Slack Connect channel is
    in several workspaces, and this says which of them Readiness serves there."""
    a = Assessment
    reviews = select(a.team_id).where((a.channel_id == channel_id) | (a.release_channel_id == channel_id) |
                                      (a.signoff_channel == channel_id))
    shown = select(Surface.team_id).where(Surface.channel_id == channel_id, Surface.assessment_id.is_not(None))
    return set(session.scalars(reviews.union(shown)))
