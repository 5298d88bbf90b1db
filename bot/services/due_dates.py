"""A gap owner proposes a new due date; the review's release lead accepts or refuses it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.checklist import Mark
from bot.core.marking import MAX_DUE_DAYS
from bot.core.reminder_plan import ReminderPolicy
from bot.core.review import Proposal
from bot.services import audit, surfaces
from bot.services.assessments import MarkOutcome, MarkRequest, checklist_of, get_assessment, item_row
from bot.services.errors import ServiceError, mention
from bot.services.marks import record_mark
from bot.services.reminders import is_open_gap
from models import Assessment, DueProposal, ItemMark
from models.proposal import ACCEPTED, PENDING, REFUSED, STALE


def _gap(session: Session, team_id: str, assessment_id: int, item_id: str) -> tuple[Assessment, ItemMark]:
    assessment = get_assessment(session, team_id, assessment_id)
    row = item_row(session, team_id, assessment_id, item_id)
    if row is None or not is_open_gap(assessment, row):
        raise ServiceError(f"{item_id} is no longer an open gap of review #{assessment_id}; nothing to move.")
    return assessment, row


def propose(session: Session, team_id: str, assessment_id: int, item_id: str, *, proposer: str,
            new_due: date, today: date, reason: str | None = None) -> Proposal:
    """Check and store a proposal: it waits on the release lead's App Home (and in their DM) until decided."""
    assessment, row = _gap(session, team_id, assessment_id, item_id)
    if row.owner != proposer:
        raise ServiceError(f"Only the owner of {item_id}, ", mention(row.owner), ", can propose a new due date.")
    assert row.due is not None
    if new_due < today:
        raise ServiceError(f"The date {new_due.isoformat()} is in the past.")
    if (new_due - today).days > MAX_DUE_DAYS:
        raise ServiceError(f"The date {new_due.isoformat()} is more than {MAX_DUE_DAYS // 365} years away.")
    if new_due == row.due:
        raise ServiceError(f"{item_id} is already due on {new_due.isoformat()}.")
    checklist = checklist_of(session, assessment)
    session.add(DueProposal(team_id=team_id, assessment_id=assessment_id, item_id=item_id, proposer=proposer,
                            lead=assessment.started_by, was=row.due, due=new_due, reason=reason))
    audit.record(session, team_id, "due.proposed", actor=proposer, assessment_id=assessment_id, subject=item_id,
                 before={"due": row.due.isoformat()}, after={"due": new_due.isoformat(), "reason": reason})
    surfaces.homes_changed(session, team_id, [assessment.started_by])
    return Proposal(assessment_id, item_id, row.owner, row.due, new_due, assessment.started_by,
                    f"{assessment.system} {assessment.version}", checklist.item(item_id).title)


def waiting_for(session: Session, team_id: str, lead: str, limit: int) -> tuple[list[DueProposal], int]:
    """The proposals a release lead has to decide (at most ``limit``, oldest first), and how many there are."""
    where = (DueProposal.team_id == team_id, DueProposal.lead == lead, DueProposal.status == PENDING)
    rows = list(session.scalars(select(DueProposal).where(*where).order_by(DueProposal.id).limit(limit)))
    if len(rows) < limit:  # all of them are here: nothing more to count
        return rows, len(rows)
    total = session.scalar(select(func.count()).select_from(DueProposal).where(*where)) or 0
    return rows, int(total)


def decide(session: Session, team_id: str, assessment_id: int, item_id: str, *, was: date, new_due: date,
           proposer: str, actor: str, accept: bool, today: date, now: datetime,
           policy: ReminderPolicy) -> MarkOutcome | None:
    """Apply or refuse a proposal. Only the release lead decides, and only while nothing moved meanwhile."""
    assessment, row = _gap(session, team_id, assessment_id, item_id)
    if actor != assessment.started_by:
        raise ServiceError("Only the release lead of this review, ", mention(assessment.started_by), ", can decide.")
    if row.owner != proposer or row.due != was:
        raise ServiceError(f"{item_id} changed since the proposal (owner or due date); nothing was changed.")
    for waiting in session.scalars(select(DueProposal).where(
            DueProposal.team_id == team_id, DueProposal.assessment_id == assessment_id,
            DueProposal.item_id == item_id, DueProposal.status == PENDING)):
        chosen = waiting.was == was and waiting.due == new_due
        waiting.status = (ACCEPTED if accept else REFUSED) if chosen else STALE  # one date stands
        waiting.decided_at = now
    surfaces.homes_changed(session, team_id, [actor])
    audit.record(session, team_id, "due.accepted" if accept else "due.refused", actor=actor,
                 assessment_id=assessment_id, subject=item_id, before={"due": was.isoformat(), "owner": proposer},
                 after={"due": (new_due if accept else was).isoformat(), "proposed": new_due.isoformat()})
    if not accept:
        return None
    assert row.mark is not None
    request = MarkRequest(item_id=item_id, mark=Mark(row.mark), evidence=row.evidence, owner=row.owner,
                          due=new_due, note=row.note, requested_by=proposer,
                          reason=f"due date moved from {was.isoformat()} to {new_due.isoformat()} at the owner's request")
    return record_mark(session, team_id, assessment_id, request, actor=actor, today=today, now=now, policy=policy)
