"""The workspace a row belongs to: created on first use."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Workspace


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
