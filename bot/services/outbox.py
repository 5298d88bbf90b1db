"""The outbox: enqueue what the bot owes someone, claim what is due, record what happened.

Claims commit before any Slack call. PostgreSQL claims with FOR UPDATE SKIP LOCKED, so replicas never
claim the same row; SQLite claims inside its BEGIN IMMEDIATE transaction (one host only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import db_now, db_now_sql, dialect_insert
from models import OutboxMessage
from models.outbox import CANCELLED, DEAD, PENDING, SENDING, SENT, UNKNOWN

CLAIMABLE = (PENDING, UNKNOWN)
# the rows that keep a review's messages and people's App Homes current: owed whatever else is cancelled
REFRESH, HOME_REFRESH = "review_refresh", "home_refresh"
REFRESH_KINDS = (REFRESH, HOME_REFRESH)
OPEN = (PENDING, SENDING, UNKNOWN)


OWED = "readiness_outbox_owed"


def owed(session: Session) -> None:
    """Something is owed now: the request that commits this session asks the deliverer at once (see
    ``bot.context.RequestScope``), rather than leaving it to the next sweep."""
    session.info[OWED] = True


def _owed_again(existing: OutboxMessage, due_at: datetime, payload: dict[str, Any] | None) -> bool:
    """Apply an enqueue to the row its key already has: a pending row moves to the new time, a cancelled one is
    revived (never a sent one). Returns True when the row was revived."""
    if existing.status == PENDING and existing.due_at != due_at:
        existing.due_at = existing.next_attempt_at = due_at
    elif existing.status == CANCELLED:
        # the same reminder is owed again (a gap reopened, handed back): revive it, never a sent one
        existing.status, existing.attempts, existing.last_error = PENDING, 0, None
        existing.due_at = existing.next_attempt_at = due_at
        existing.payload = payload or {}
        return True
    return False


def enqueue(
    session: Session, team_id: str, *, dedupe_key: str, kind: str, recipient: str, due_at: datetime,
    assessment_id: int | None = None, item_id: str | None = None, payload: dict[str, Any] | None = None,
) -> bool:
    """Insert the row unless its key exists. A pending row with the same key moves to the new time.

    Returns True when a row was inserted.
    """
    owed(session)
    existing = session.scalar(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.dedupe_key == dedupe_key)
    )
    if existing is not None:
        return _owed_again(existing, due_at, payload)
    row = OutboxMessage(
        team_id=team_id, dedupe_key=dedupe_key, kind=kind, recipient=recipient, due_at=due_at,
        next_attempt_at=due_at, assessment_id=assessment_id, item_id=item_id, payload=payload or {},
        status=PENDING, attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same row, enqueued at this moment by another replica
        return False
    return True


def enqueue_many(session: Session, team_id: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """``enqueue`` for many rows (each a mapping of ``enqueue``'s keyword arguments), in two statements whatever
    their number: one SELECT of the rows their keys already have, one INSERT of the missing ones.

    The rows found follow ``enqueue``'s rules (pending moves, cancelled is revived, sent is left alone); a key
    another replica inserted meanwhile is skipped (ON CONFLICT DO NOTHING on the key's unique constraint).
    The inserted rows are not in the session's identity map: a later query reads them from the database.
    Returns the number of rows inserted or revived, as the sum of ``enqueue``'s results would be.
    """
    rows = list(rows)
    if not rows:
        return 0
    owed(session)
    keys = list(dict.fromkeys(row["dedupe_key"] for row in rows))
    found = {existing.dedupe_key: existing for existing in session.scalars(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.dedupe_key.in_(keys)))}
    changed = 0
    missing: dict[str, dict[str, Any]] = {}
    for row in rows:
        key, due_at = row["dedupe_key"], row["due_at"]
        if key in found:
            changed += _owed_again(found[key], due_at, row.get("payload"))
        elif key in missing:  # the same key again: the row it is about to insert is pending, so it moves
            missing[key]["due_at"] = missing[key]["next_attempt_at"] = due_at
        else:
            missing[key] = {
                "team_id": team_id, "dedupe_key": key, "kind": row["kind"], "recipient": row["recipient"],
                "due_at": due_at, "next_attempt_at": due_at, "assessment_id": row.get("assessment_id"),
                "item_id": row.get("item_id"), "payload": row.get("payload") or {}, "status": PENDING, "attempts": 0,
            }
    if missing:
        inserted = session.execute(
            dialect_insert(session, OutboxMessage).values(list(missing.values()))
            .on_conflict_do_nothing(index_elements=[OutboxMessage.team_id, OutboxMessage.dedupe_key])
            .returning(OutboxMessage.id)
        )
        changed += len(inserted.all())  # RETURNING names only the rows inserted, not those skipped
    return changed


def cancel_gap(session: Session, team_id: str, assessment_id: int, item_id: str | None = None,
               keep: Iterable[str] = ()) -> int:
    """Cancel the rows of a gap (or of a whole assessment) that are not sent yet, except ``keep``."""
    query = update(OutboxMessage).where(
        OutboxMessage.team_id == team_id,
        OutboxMessage.assessment_id == assessment_id,
        OutboxMessage.status.in_((PENDING, UNKNOWN)),
        OutboxMessage.kind.not_in(REFRESH_KINDS),
    )
    if item_id is not None:
        query = query.where(OutboxMessage.item_id == item_id)
    keep = list(keep)
    if keep:
        query = query.where(OutboxMessage.dedupe_key.not_in(keep))
    result = session.execute(query.values(status=CANCELLED).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_due(
    session: Session, *, owner: str, lease: timedelta, limit: int = 100, kinds: Iterable[str] | None = None,
) -> list[tuple[OutboxMessage, str]]:
    """Claim up to ``limit`` due rows for ``owner`` until the lease ends; commit right after.

    Returns each row with the status it had before the claim (``unknown`` means it may be in Slack already).
    """
    now = db_now(session)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(list(kinds)))
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    before = [row.status for row in rows]
    if rows:
        # one UPDATE for the whole batch (not one per row); the loaded rows are refreshed from it
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(status=SENDING, lease_owner=owner, lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session="fetch")
        )
    return list(zip(rows, before, strict=True))


def _held(session: Session, row_id: int, owner: str) -> Any:
    return update(OutboxMessage).where(
        OutboxMessage.id == row_id, OutboxMessage.lease_owner == owner, OutboxMessage.status == SENDING
    )


def renew(session: Session, row_ids: list[int], owner: str, lease: timedelta) -> set[int]:
    """Extend ``owner``'s claim on the rows it still holds; returns their ids (the others were taken over)."""
    now = db_now(session)
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids), OutboxMessage.lease_owner == owner, OutboxMessage.status == SENDING)
        .values(lease_until=now + lease)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


def mark_sent(session: Session, row_id: int, owner: str, channel: str | None, ts: str | None,
              at: datetime | None = None) -> bool:
    """Record the post (at ``at``, the application's clock, when given), but only while this worker still holds
    the claim."""
    result = session.execute(
        _held(session, row_id, owner).values(status=SENT, sent_channel=channel, sent_ts=ts, lease_until=None,
                                             last_error=None, **({"updated_at": at} if at is not None else {}))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, row_id: int, owner: str) -> str:
    """A refresh done: sent, or pending again when it was asked for while this worker held it."""
    again = OutboxMessage.requeue.is_(True)  # asked for while held: due again at once (SET reads the old row)
    done = session.scalar(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.lease_owner == owner, OutboxMessage.status == SENDING)
        .values(status=case((again, PENDING), else_=SENT), attempts=case((again, 0), else_=OutboxMessage.attempts),
                next_attempt_at=case((again, db_now_sql(session, OutboxMessage.next_attempt_at.type)),
                                     else_=OutboxMessage.next_attempt_at),
                requeue=False, lease_owner=None, lease_until=None, last_error=None)
        .returning(OutboxMessage.status)
        .execution_options(synchronize_session=False))
    return done or ""


def mark_cancelled(session: Session, row_id: int, owner: str, reason: str) -> bool:
    result = session.execute(_held(session, row_id, owner).values(status=CANCELLED, last_error=reason))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def retry_later(session: Session, row_id: int, owner: str, *, after: timedelta, error: str, unknown: bool,
                max_attempts: int, counts: bool = True) -> str:
    """Give the row back: pending (Slack said no, nothing was posted) or unknown (it may have been posted).

    After ``max_attempts`` tries that reached Slack the row is dead; a try that never reached Slack (a
    paused channel, outside working hours, a claim taken over) does not count. Returns the new status
    ('' when this worker no longer held the claim).
    """
    row = session.get(OutboxMessage, row_id)
    if row is None or row.lease_owner != owner or row.status != SENDING:
        return ""
    now = db_now(session)
    attempts = row.attempts if counts else max(0, row.attempts - 1)
    status = DEAD if counts and attempts >= max_attempts else (UNKNOWN if unknown else PENDING)
    result = session.execute(
        _held(session, row_id, owner).values(status=status, next_attempt_at=now + after, last_error=error[:500],
                                             lease_owner=None, lease_until=None, attempts=attempts)
    )
    return status if result.rowcount else ""  # type: ignore[attr-defined]


PERMANENT_PREFIX = "permanent: "


MAY_BE_POSTED = " (may have been posted)"


def give_up(session: Session, row_id: int, owner: str, error: str, *, maybe_posted: bool = False) -> bool:
    """Slack refused the row for a reason no retry can fix: it is dead now (``last_error`` says why).

    ``maybe_posted``: the row's fate was unknown and the channel's history cannot be read to learn it, so it
    may be in Slack already; reviving it then looks in the history again before any post (see ``revive``)."""
    last_error = PERMANENT_PREFIX + error[:400] + (MAY_BE_POSTED if maybe_posted else "")
    result = session.execute(_held(session, row_id, owner).values(
        status=DEAD, last_error=last_error, lease_owner=None, lease_until=None))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def dead_by_error_and_kind(session: Session) -> dict[tuple[str, str], int]:
    """Dead rows counted by the error that ended them and by kind: the one query behind `readiness doctor`'s
    count and the ``readiness_outbox_dead_by_error`` gauge. The error is Slack's code (``is_archived``), or the
    last try's error without its detail for a row that gave up after its attempts."""
    counts: dict[tuple[str, str], int] = {}
    query = (select(OutboxMessage.last_error, OutboxMessage.kind, func.count()).where(OutboxMessage.status == DEAD)
             .group_by(OutboxMessage.last_error, OutboxMessage.kind))
    for error, kind, count in session.execute(query):
        reason = (error or "unknown").removeprefix(PERMANENT_PREFIX).split(" (")[0]
        counts[(reason, kind)] = counts.get((reason, kind), 0) + int(count)
    return counts


def dead_by_error(session: Session) -> dict[str, int]:
    """Dead rows counted by the error that ended them (for `readiness doctor`)."""
    counts: dict[str, int] = {}
    for (reason, _kind), count in dead_by_error_and_kind(session).items():
        counts[reason] = counts.get(reason, 0) + count
    return counts


REVIVED = "revived"  # the payload's count of *Post it again*: each failure after one is told anew


def revivals(payload: dict[str, Any] | None) -> int:
    """How many times a person sent the row again after it died."""
    value = (payload or {}).get(REVIVED)
    return value if isinstance(value, int) and value > 0 else 0


def revive(session: Session, team_id: str, row_id: int) -> OutboxMessage | None:
    """A dead row sent again at the next sweep (after a person fixed what stopped it). Its revival count grows,
    so a new failure is a new notice (``bot.services.notices.failed_key``). A row that may have been posted
    comes back unknown, never pending: it is posted only if the channel's history shows it is not there."""
    row = session.get(OutboxMessage, row_id)
    if row is None or row.team_id != team_id or row.status != DEAD:
        return None
    now = db_now(session)
    # a row that may be in Slack already stays unknown: the next sweep looks in the history before it posts
    maybe_posted = (row.last_error or "").endswith(MAY_BE_POSTED)
    row.status, row.attempts, row.next_attempt_at = UNKNOWN if maybe_posted else PENDING, 0, now
    row.last_error = "revived: looked for in the history first" if maybe_posted else None
    row.payload = {**(row.payload or {}), REVIVED: revivals(row.payload) + 1}
    return row


def reap_expired_leases(session: Session) -> int:
    """A claim whose worker died: the post may or may not have happened, so the row becomes unknown."""
    now = db_now(session)
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now)
        .values(status=UNKNOWN, lease_owner=None, lease_until=None, next_attempt_at=now,
                last_error="lease expired: the worker stopped before recording the result")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def backlog(session: Session) -> dict[str, Any]:
    """For `readiness doctor`: counts by status, the oldest due pending row, dead rows."""
    counts = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    oldest = session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status.in_(CLAIMABLE)))
    return {"counts": counts, "oldest_due": oldest, "now": db_now(session)}


def release(session: Session, owner: str, *, pending_ids: Iterable[int] = ()) -> dict[str, int]:
    """Give back the rows ``owner`` still holds (it is shutting down), due now and without counting the claim.

    Rows in ``pending_ids`` were pending when claimed and are known not to be posted: pending again. Any other
    (it was unknown, or its fate is not known here) becomes unknown, so its next holder looks in the history
    first. Returns the number released by kind."""
    now = db_now(session)
    pending = set(pending_ids)
    held = list(session.execute(select(OutboxMessage.id, OutboxMessage.kind)
                                .where(OutboxMessage.status == SENDING, OutboxMessage.lease_owner == owner)))
    released: dict[str, int] = {}
    for status, ids in ((PENDING, [i for i, _ in held if i in pending]), (UNKNOWN, [i for i, _ in held
                                                                                 if i not in pending])):
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING, OutboxMessage.lease_owner == owner)
                .values(status=status, lease_owner=None, lease_until=None, next_attempt_at=now,
                        attempts=func.greatest(OutboxMessage.attempts - 1, 0)
                        if session.get_bind().dialect.name != "sqlite" else func.max(OutboxMessage.attempts - 1, 0),
                        last_error="released at shutdown")
                .execution_options(synchronize_session=False)
            )
    for _, kind in held:
        released[kind] = released.get(kind, 0) + 1
    return released


def statuses(session: Session, row_ids: list[int]) -> list[tuple[str, str]]:
    """(kind, status) of each row: what a delivery attempt left."""
    return [(k, s) for k, s in session.execute(select(OutboxMessage.kind, OutboxMessage.status)
                                               .where(OutboxMessage.id.in_(row_ids)))]
