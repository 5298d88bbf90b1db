"""Workspace API tokens for pipelines: shown once at creation, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import audit
from bot.services.errors import ServiceError
from bot.services.workspaces import ensure_workspace
from models import ApiToken

PREFIX = "rdy_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, team_id: str, name: str, *, actor: str) -> str:
    name = name.strip()
    if not name or len(name) > 80:
        raise ServiceError("A token needs a name of at most 80 characters.")
    ensure_workspace(session, team_id)
    live = session.scalar(select(ApiToken).where(ApiToken.team_id == team_id, ApiToken.name == name,
                                                 ApiToken.revoked_at.is_(None)))
    if live is not None:
        raise ServiceError(f"A live token named {name!r} exists; revoke it first.")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(team_id=team_id, name=name, token_hash=_hash(token), created_by=actor))
    audit.record(session, team_id, "token.created", actor=actor, subject=name)
    return token


def revoke(session: Session, team_id: str, name: str, *, actor: str, now: datetime) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.team_id == team_id, ApiToken.name == name,
                                                ApiToken.revoked_at.is_(None)))
    if row is None:
        raise ServiceError(f"No live token named {name!r} in workspace {team_id}.")
    row.revoked_at = now
    audit.record(session, team_id, "token.revoked", actor=actor, subject=name)


def authenticate(session: Session, token: str | None) -> tuple[str, str] | None:
    """(workspace, token name) for a live token, else None. Compared by hash, in constant time."""
    if not token or not token.startswith(PREFIX):
        return None
    digest = _hash(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row.team_id, row.name
