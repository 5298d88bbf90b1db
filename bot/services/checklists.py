"""Checklist snapshots: store the checklist an assessment uses, and load it back by content hash."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.checklist import Checklist, parse_checklist
from bot.services.errors import NotFound
from models import ChecklistSnapshot

# Snapshots never change (the key is their content hash), so parsed ones are kept.
_parsed: dict[tuple[str, str], Checklist] = {}


def _find(session: Session, team_id: str, content_hash: str) -> ChecklistSnapshot | None:
    return session.scalar(
        select(ChecklistSnapshot).where(
            ChecklistSnapshot.team_id == team_id, ChecklistSnapshot.content_hash == content_hash
        )
    )


def store_snapshot(session: Session, team_id: str, checklist: Checklist) -> ChecklistSnapshot:
    existing = _find(session, team_id, checklist.content_hash)
    if existing is not None:
        return existing
    snapshot = ChecklistSnapshot(
        team_id=team_id,
        checklist_id=checklist.id,
        version=checklist.version,
        content_hash=checklist.content_hash,
        body=checklist.model_dump(mode="json"),
    )
    try:
        with session.begin_nested():
            session.add(snapshot)
    except IntegrityError:  # stored at the same moment by another request
        found = _find(session, team_id, checklist.content_hash)
        assert found is not None
        return found
    _parsed.setdefault((team_id, checklist.content_hash), checklist)
    return snapshot


def checklist_by_hash(session: Session, team_id: str, content_hash: str) -> Checklist:
    cached = _parsed.get((team_id, content_hash))
    if cached is not None:
        return cached
    snapshot = _find(session, team_id, content_hash)
    if snapshot is None:
        raise NotFound(f"checklist {content_hash[:12]} is not stored for this workspace")
    checklist = parse_checklist(snapshot.body, f"snapshot {content_hash[:12]}")
    _parsed[(team_id, content_hash)] = checklist
    return checklist
