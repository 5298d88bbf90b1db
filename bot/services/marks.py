"""Recording a mark and closing a review, with everything that follows from them, in one transaction.

``bot.services.assessments`` changes the review and says what happened; this module is the one place that
fans the consequences out, so they flow one way: the gap's reminders, the waiver a re-mark ends, the
decisions a changed scorecard voids, the evidence suggestion a mark settles, and the notices people are owed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.core.reminder_plan import ReminderPolicy
from bot.services import assessments, notices, reminders, signoff, suggestions, surfaces, waivers
from bot.services.assessments import MarkOutcome, MarkRequest
from models import Assessment, utcnow


def record_mark(
    session: Session,
    team_id: str,
    assessment_id: int,
    request: MarkRequest,
    *,
    actor: str,
    today: date,
    now: datetime | None = None,
    policy: ReminderPolicy | None = None,
) -> MarkOutcome:
    """Validate and record one mark, then everything it causes. A rejected mark raises and changes nothing."""
    now = now or utcnow()
    applied = assessments.apply_mark(session, team_id, assessment_id, request, actor=actor, today=today, now=now)
    outcome, assessment, row = applied.outcome, applied.assessment, applied.row
    if not outcome.changed:
        return outcome
    if applied.waiver_ended:
        waivers.end_on_remark(session, assessment, request.item_id, actor=actor, now=now)
    # The gap's reminders change in this same transaction: a closed gap stops them, a new owner or
    # due date replaces them.
    reminders.replan_gap(session, assessment, row, now, policy or ReminderPolicy())
    # the marks and waivers as they stand now were read (and updated) by apply_mark: not read again
    outcome = replace(outcome, voided=signoff.void_after_mark(session, assessment, request.item_id, actor,
                                                              marks=applied.marks, waived=applied.waived))
    suggestions.settle_on_mark(session, assessment, outcome.item_id, outcome.current.mark, actor)
    notices.enqueue_mark_events(session, assessment, outcome, actor, requested_by=request.requested_by)
    surfaces.changed(session, assessment, owners={e.owner for e in applied.marks.values() if e.owner})
    return outcome


def close_review(session: Session, team_id: str, assessment_id: int, *, actor: str, now: datetime) -> Assessment:
    """Close a review: its marks freeze, every reminder it still owes is cancelled and its waivers end quietly."""
    assessment = assessments.close_assessment(session, team_id, assessment_id, actor=actor, now=now)
    waivers.end_on_close(session, assessment, actor=actor, now=now)
    surfaces.changed(session, assessment)
    return assessment
