"""The audit trail: record events in the caller's transaction, and export them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.scoring import MarkEntry
from models import AuditEvent

FIELDS = ("id", "at", "team_id", "assessment_id", "actor", "action", "subject", "before", "after")


def record(session: Session, team_id: str, action: str, *, actor: str, assessment_id: int | None = None,
           subject: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(team_id=team_id, assessment_id=assessment_id, actor=actor, action=action,
                           subject=subject, before=before, after=after))


def mark_state(entry: MarkEntry | None) -> dict[str, Any] | None:
    return None if entry is None else entry.model_dump(mode="json")


def events(session: Session, assessment_id: int) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.assessment_id == assessment_id).order_by(AuditEvent.id)))


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id, "at": event.at.isoformat(), "team_id": event.team_id, "assessment_id": event.assessment_id,
        "actor": event.actor, "action": event.action, "subject": event.subject,
        "before": event.before, "after": event.after,
    }


def export(rows: Iterable[AuditEvent], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(_row(e), sort_keys=True) + "\n" for e in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for event in rows:
        row = _row(event)
        row["before"] = json.dumps(row["before"], sort_keys=True) if row["before"] is not None else ""
        row["after"] = json.dumps(row["after"], sort_keys=True) if row["after"] is not None else ""
        writer.writerow(row)
    return out.getvalue()
