"""All of one workspace's data: exported as JSONL, and purged (the one sanctioned deletion of audit rows).

The export is every row of every table that belongs to the workspace (reviews, marks and their history,
sign-off, waivers, evidence, policies, packets, go-live, the outbox, the audit trail and its head, the
installation without its tokens), parents before children, one JSON object a line, after a header line.

A purge runs in one transaction: lock the workspace, export it (the caller keeps the file), take the purge
permit the audit triggers accept for that workspace alone, delete every row child-first, and record a
tombstone in its own table: who, when, how many rows per table, the audit chain's last hash, and the
export's sha256. Either all of it commits or none of it does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.orm import Session

from bot.core.limits import MAX_ACTOR
from bot.db import clock_now
from bot.services import audit
from bot.services.errors import ServiceError
from models import AuditHead, AuditPurgePermit, Base, Workspace, WorkspaceTombstone
from models.installation import TOKEN_COLUMNS

# Not the workspace's data: what a purge leaves, its permit, and install states that name no workspace.
NOT_EXPORTED = {"workspace_tombstones", "audit_purge_permits", "slack_oauth_states"}
# Credentials are never written out: Slack tokens, and the hashes of the workspace's API tokens.
SECRET = {"slack_installations": set(TOKEN_COLUMNS), "slack_bots": set(TOKEN_COLUMNS), "api_tokens": {"token_hash"}}
FORMAT = "readiness-workspace-export/1"


def workspace_tables() -> list[Table]:
    """The tables holding a workspace's rows, parents before children."""
    return [t for t in Base.metadata.sorted_tables if "team_id" in t.c and t.name not in NOT_EXPORTED]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def export_lines(session: Session, team_id: str) -> Iterator[str]:
    yield json.dumps({"format": FORMAT, "team_id": team_id, "exported_at": clock_now(session).isoformat()},
                     sort_keys=True) + "\n"
    for table in workspace_tables():
        hidden = SECRET.get(table.name, set())
        order = [c for c in table.primary_key.columns] or list(table.c)
        query = select(table).where(table.c.team_id == team_id).order_by(*order)
        for row in session.execute(query).mappings():
            fields = {k: _plain(v) for k, v in row.items() if k not in hidden}
            yield json.dumps({"table": table.name, "row": fields}, sort_keys=True, default=str) + "\n"


@dataclass(frozen=True)
class Exported:
    sha256: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def export(session: Session, team_id: str, out: IO[str]) -> Exported:
    """Write the workspace's data to ``out``; returns the sha256 of what was written and the rows per table."""
    digest, rows = hashlib.sha256(), {}
    for line in export_lines(session, team_id):
        out.write(line)
        digest.update(line.encode("utf-8"))
        table = json.loads(line).get("table")
        if table:
            rows[table] = rows.get(table, 0) + 1
    return Exported(digest.hexdigest(), rows)


def record_export(session: Session, team_id: str, exported: Exported, actor: str) -> None:
    audit.record(session, team_id, "workspace.exported", actor=actor[:MAX_ACTOR],
                 after={"sha256": exported.sha256, "rows": exported.total})


def _permit(session: Session, team_id: str) -> None:
    """The one narrow way past the audit triggers' DELETE refusal, for this workspace and this transaction."""
    if session.get_bind().dialect.name == "sqlite":
        session.add(AuditPurgePermit(team_id=team_id))
        session.flush()
    else:  # only the tables' owner may: the function's EXECUTE is revoked from everyone else
        session.execute(text("SELECT audit_grant_purge_permit(:team)"), {"team": team_id})


def _end_permit(session: Session, team_id: str) -> None:
    session.execute(delete(AuditPurgePermit.__table__).where(AuditPurgePermit.__table__.c.team_id == team_id))
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT set_config('readiness.purge_team', '', true)"))


def purge(session: Session, team_id: str, *, confirm: str, actor: str, out: IO[str]) -> WorkspaceTombstone:
    """Delete every row of the workspace, after writing its export to ``out``; returns the tombstone."""
    if confirm != team_id:
        raise ServiceError(f"--confirm must repeat the workspace id ({team_id}) to purge it")
    lock = select(Workspace).where(Workspace.team_id == team_id)
    if session.get_bind().dialect.name != "sqlite":
        lock = lock.with_for_update()  # no new row of the workspace can be written meanwhile
    if session.scalar(lock) is None:
        raise ServiceError(f"there is no workspace {team_id}")
    head = session.scalar(select(AuditHead.row_hash).where(AuditHead.team_id == team_id))
    exported = export(session, team_id, out)
    out.flush()
    _permit(session, team_id)
    deleted: dict[str, int] = {}
    for table in reversed(workspace_tables()):
        result = session.execute(delete(table).where(table.c.team_id == team_id))
        if result.rowcount:  # type: ignore[attr-defined]
            deleted[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
    _end_permit(session, team_id)
    if deleted != exported.rows:  # the lock held: what was exported is exactly what was deleted
        raise ServiceError(f"the purge of {team_id} found other rows than it exported; nothing was deleted")
    tombstone = WorkspaceTombstone(team_id=team_id, purged_by=actor[:MAX_ACTOR], rows=deleted, total_rows=exported.total,
                                   audit_rows=deleted.get("audit_events", 0), audit_head=head,
                                   export_sha256=exported.sha256, purged_at=clock_now(session))
    session.add(tombstone)
    session.flush()
    return tombstone


def remaining_rows(session: Session, team_id: str) -> int:
    """How many rows of the workspace are left (0 after a purge)."""
    return sum(int(session.scalar(select(func.count()).select_from(t).where(t.c.team_id == team_id)) or 0)
               for t in workspace_tables())
