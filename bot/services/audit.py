"""The audit trail: record events in the caller's transaction, chain them, export and verify them.

``record`` keeps the event with the session; when the transaction commits, its events are chained to their
workspace's chain (``bot.core.audit_chain``) and written. The chain's head is locked only then, as the
transaction's last lock, so writers of one workspace queue on it briefly and never deadlock on it. (A
transaction that reads the audit table before it ends gets its events chained at that read instead.)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from bot.core.audit_chain import GENESIS, ChainedEvent, ChainReport, event_hash, verify_chain
from bot.core.scoring import MarkEntry
from models import Assessment, AuditEvent, AuditHead, utcnow

FIELDS = ("id", "at", "team_id", "assessment_id", "actor", "action", "subject", "before", "after", "seq",
          "prev_hash", "row_hash")
PENDING = "audit_pending"
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def record(session: Session, team_id: str, action: str, *, actor: str, assessment_id: int | None = None,
           subject: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> None:
    """Keep an event for this transaction: it is written, chained, when the transaction commits."""
    session.info.setdefault(PENDING, []).append(dict(
        team_id=team_id, assessment_id=assessment_id, actor=actor, action=action, subject=subject,
        before=_as_stored(before), after=_as_stored(after), at=utcnow()))


def _as_stored(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The value exactly as the JSON column gives it back, so the hash written is the hash read."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def _head(session: Session, team_id: str) -> AuditHead:
    """The workspace's chain head, locked for this transaction (created at the first event)."""
    query = select(AuditHead).where(AuditHead.team_id == team_id).with_for_update()
    head = session.scalar(query)
    if head is None:
        try:
            with session.begin_nested():
                session.add(AuditHead(team_id=team_id, seq=0, row_hash=GENESIS))
        except IntegrityError:  # another transaction made it first
            pass
        head = session.scalar(query.execution_options(populate_existing=True))
    assert head is not None
    return head


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    for team_id in sorted({e["team_id"] for e in pending}):  # heads locked in one order: no deadlock between them
        head = _head(session, team_id)
        for fields in (e for e in pending if e["team_id"] == team_id):
            chained = ChainedEvent(seq=head.seq + 1, prev_hash=head.row_hash, **fields)
            row_hash = event_hash(chained)
            session.add(AuditEvent(seq=chained.seq, prev_hash=chained.prev_hash, row_hash=row_hash, **fields))
            head.seq, head.row_hash = chained.seq, row_hash
    session.flush()


@event.listens_for(Session, "do_orm_execute")
def _chain_before_reading(state: ORMExecuteState) -> None:
    """A read of the audit table in the middle of a transaction sees the transaction's own events: they are
    chained (and the head locked) at that moment rather than at commit."""
    if state.is_select and state.session.info.get(PENDING) and any(
            getattr(m, "class_", None) is AuditEvent for m in state.all_mappers):
        _chain_pending(state.session)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: what it did not commit is gone
        session.info.pop(PENDING, None)


def mark_state(entry: MarkEntry | None) -> dict[str, Any] | None:
    return None if entry is None else entry.model_dump(mode="json")


def events(session: Session, assessment_id: int) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.assessment_id == assessment_id).order_by(AuditEvent.id)))


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id, "at": event.at.isoformat(), "team_id": event.team_id, "assessment_id": event.assessment_id,
        "actor": event.actor, "action": event.action, "subject": event.subject,
        "before": event.before, "after": event.after, "seq": event.seq, "prev_hash": event.prev_hash,
        "row_hash": event.row_hash,
    }


def neutralise(cell: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def export(rows: Iterable[AuditEvent], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(_row(e), sort_keys=True) + "\n" for e in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for event_ in rows:
        row = _row(event_)
        row["before"] = json.dumps(row["before"], sort_keys=True) if row["before"] is not None else ""
        row["after"] = json.dumps(row["after"], sort_keys=True) if row["after"] is not None else ""
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    return out.getvalue()


def _chained(session: Session, team_id: str) -> Iterator[ChainedEvent]:
    query = (select(AuditEvent).where(AuditEvent.team_id == team_id).order_by(AuditEvent.seq)
             .execution_options(yield_per=1000))
    for row in session.scalars(query):
        yield ChainedEvent(team_id=row.team_id, seq=row.seq, at=row.at, assessment_id=row.assessment_id,
                           actor=row.actor, action=row.action, subject=row.subject, before=row.before,
                           after=row.after, prev_hash=row.prev_hash, row_hash=row.row_hash)


def verify(session: Session, team_id: str | None = None) -> list[ChainReport]:
    """Every workspace's chain (or one), checked event by event and against its head. A workspace counts when
    it has events, a head or reviews: one whose trail was deleted whole still has its reviews."""
    heads = {h.team_id: h for h in session.scalars(select(AuditHead))}
    per_team = select(Assessment.team_id, func.count()).group_by(Assessment.team_id)
    reviews: dict[str, int] = {team: int(n) for team, n in session.execute(per_team)}
    teams = set(heads) | set(session.scalars(select(AuditEvent.team_id).distinct())) | set(reviews)
    if team_id is not None:
        teams = {team_id}
    reports = []
    for team in sorted(teams):
        head = heads.get(team)
        reports.append(verify_chain(team, _chained(session, team), head.seq if head else None,
                                    head.row_hash if head else None, reviews=reviews.get(team, 0)))
    return reports
