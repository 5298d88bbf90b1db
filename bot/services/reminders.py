"""Gap reminders: derive what the outbox should hold for each open gap, in the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.checklist import Mark
from bot.core.reminder_plan import (
    GapRef,
    PlannedReminder,
    ReminderKind,
    ReminderPolicy,
    next_working_start,
    plan_gap,
)
from bot.services import audit
from bot.services.assessments import get_assessment, item_row
from bot.services.errors import ServiceError, mention
from bot.services.golive import plan_watch
from bot.services.outbox import cancel_gap, enqueue_many
from bot.services.people import timezone_of
from models import Assessment, GoLive, ItemMark

OPEN_ASSESSMENTS = ("open", "complete", "live")
GAP_MARKS = (Mark.PARTIAL.value, Mark.YES.value)
DM_KINDS = (ReminderKind.DUE_SOON.value, ReminderKind.DUE_TODAY.value, ReminderKind.OVERDUE.value)
ESCALATION_THREAD = "escalation_thread"
ESCALATION_CHANNEL = "escalation_channel"


def is_open_gap(assessment: Assessment, row: ItemMark) -> bool:
    return (
        assessment.status in OPEN_ASSESSMENTS
        and row.mark in GAP_MARKS
        and bool(row.owner)
        and row.due is not None
    )


def _rows_for(assessment: Assessment, planned: PlannedReminder) -> list[tuple[str, str, str]]:
    """(dedupe key, kind, recipient) of the outbox rows one planned reminder becomes."""
    if planned.kind is ReminderKind.ESCALATION:
        rows = []
        if assessment.channel_id and assessment.thread_ts:
            rows.append((planned.dedupe_key + "#thread", ESCALATION_THREAD, assessment.channel_id))
        if assessment.release_channel_id:
            rows.append((planned.dedupe_key + "#channel", ESCALATION_CHANNEL, assessment.release_channel_id))
        return rows
    return [(planned.dedupe_key, planned.kind.value, planned.owner)]


def replan_gap(session: Session, assessment: Assessment, row: ItemMark, now: datetime,
               policy: ReminderPolicy) -> int:
    """Make the outbox match the gap: insert what is missing, cancel what no longer applies.

    A closed gap, a new owner or a new due date cancels the old rows (their keys no longer match).
    Returns the number of rows inserted.
    """
    team_id = assessment.team_id
    if not is_open_gap(assessment, row):
        cancel_gap(session, team_id, assessment.id, row.item_id)
        return 0
    assert row.owner is not None and row.due is not None
    gap = GapRef(assessment_id=assessment.id, item_id=row.item_id, owner=row.owner, due=row.due)
    tz = timezone_of(session, team_id, row.owner)
    planned = plan_gap(gap, tz, now, policy)
    keep: list[str] = []
    rows: list[dict[str, object]] = []
    for reminder in planned:
        # a reminder whose time has just passed still goes out, but at the next working moment, not now
        send_at = reminder.send_at if reminder.send_at >= now else next_working_start(now, tz, policy)
        for key, kind, recipient in _rows_for(assessment, reminder):
            keep.append(key)
            rows.append(dict(
                dedupe_key=key, kind=kind, recipient=recipient, due_at=send_at, assessment_id=assessment.id,
                item_id=row.item_id,
                payload={"owner": row.owner, "due": row.due.isoformat(), "day": reminder.day.isoformat(),
                         "reminder": reminder.kind.value},
            ))
    # the gap's rows in a few statements whatever their number (not a SELECT and an INSERT each)
    inserted = enqueue_many(session, team_id, rows)
    # Rows of this gap planned earlier but not in today's plan (past the horizon's start, another
    # owner or date) stay only if they are the same key; everything else not yet sent is cancelled.
    cancel_gap(session, team_id, assessment.id, row.item_id, keep=keep or ["-"])
    return inserted


def cancel_assessment(session: Session, assessment: Assessment) -> int:
    return cancel_gap(session, assessment.team_id, assessment.id)


def reconcile(session: Session, now: datetime, policy: ReminderPolicy, team_id: str | None = None) -> int:
    """Re-derive every open gap's reminders and insert what is missing. Idempotent."""
    query = (
        select(Assessment, ItemMark)
        .join(ItemMark, ItemMark.assessment_id == Assessment.id)
        .where(Assessment.status.in_(OPEN_ASSESSMENTS), ItemMark.mark.in_(GAP_MARKS))
    )
    if team_id is not None:
        query = query.where(Assessment.team_id == team_id)
    inserted = 0
    for assessment, row in session.execute(query):
        inserted += replan_gap(session, assessment, row, now, policy)
    watches = select(GoLive).join(Assessment, Assessment.id == GoLive.assessment_id).where(Assessment.status == "live")
    if team_id is not None:
        watches = watches.where(GoLive.team_id == team_id)
    for golive in session.scalars(watches):
        plan_watch(session, golive, policy)  # pending rows move to the owner's time zone once it is known
    return inserted


SNOOZE_DAYS = (1, 3, 7)


def snooze(session: Session, team_id: str, assessment_id: int, item_id: str, *, user: str, days: int,
           today: date) -> date:
    """The owner asks for quiet: no reminder about the gap before the returned day (at most ``days`` ahead, and
    never past the due date). Audited."""
    assessment = get_assessment(session, team_id, assessment_id)
    row = item_row(session, team_id, assessment_id, item_id)
    if row is None or not is_open_gap(assessment, row) or row.due is None:
        raise ServiceError(f"{item_id} is no longer an open gap of review #{assessment_id}.")
    if row.owner != user:
        raise ServiceError(f"Only the owner of {item_id}, ", mention(row.owner or ""), ", can snooze its reminders.")
    if days not in SNOOZE_DAYS:
        raise ServiceError("Snooze for 1, 3 or 7 days.")
    if row.due <= today:
        raise ServiceError(f"{item_id} is due {'today' if row.due == today else 'already'}: close it or propose a "
                           "new due date instead.")
    until = min(today + timedelta(days=days), row.due)
    row.snoozed_until = until
    audit.record(session, team_id, "gap.snoozed", actor=user, assessment_id=assessment_id, subject=item_id,
                 after={"until": until.isoformat(), "days": days})
    return until
