"""Marks suggested by pushed evidence: offered in the review's thread, applied or dismissed by a person,
never silently. (Split from ``bot.services.evidence``, which re-exports these names.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.checklist import Checklist, Mark
from bot.core.evidence import contradictions, suggest
from bot.db import clock_now
from bot.services import audit
from bot.services.assessments import OPEN_STATUSES, checklist_of, current_marks, get_assessment
from bot.services.errors import ServiceError, mention
from bot.services.notices import EVIDENCE_SUGGESTIONS, enqueue_evidence_suggestions
from models import Assessment, MarkSuggestion, OutboxMessage

if TYPE_CHECKING:
    from bot.services.evidence import Judged

SUGGEST_STATUSES = ("open", "complete")  # reviews still being marked; after go-live the watch list takes over
OPEN, APPLIED, DISMISSED, SUPERSEDED = "open", "applied", "dismissed", "superseded"
MAX_DECISION_REASON = 500
MAX_LISTED = 20


def offer(session: Session, review: Assessment, evidence_id: int, scored: Judged) -> int:
    """Store what the numbers suggest per item (older open suggestions are superseded) and queue the thread
    message. Returns how many suggestions carry a mark."""
    get_assessment(session, review.team_id, review.id, lock=True)  # two pushes at once: one after the other
    checklist = checklist_of(session, review)
    marks: dict[str, Mark | None] = {k: e.mark for k, e in current_marks(session, review).items()}
    found = suggest(checklist, scored.scorecard, marks)
    now = clock_now(session)
    session.execute(update(MarkSuggestion).where(
        MarkSuggestion.team_id == review.team_id, MarkSuggestion.assessment_id == review.id,
        MarkSuggestion.status == OPEN).values(
        status=SUPERSEDED, decided_at=now, decision_reason=f"newer evidence #{evidence_id}"))
    for item in found:
        session.add(MarkSuggestion(team_id=review.team_id, assessment_id=review.id, item_id=item.item_id,
                                   evidence_id=evidence_id, mark=item.mark.value if item.mark else None,
                                   reason=item.reason, status=OPEN, created_at=now))
    session.flush()
    card = scored.scorecard
    enqueue_evidence_suggestions(session, review, evidence_id, {
        "evidence": evidence_id, "pushed_by": scored.candidate.pushed_by, "counts": card.counts(),
        "baseline": scored.baseline_note, "policy": scored.policy_source, "hash": card.candidate_hash,
        "missing": list(card.missing_cohorts[:MAX_LISTED]), "missing_count": len(card.missing_cohorts),
        "missing_metrics": [f"{k.cohort}: {k.metric}" for k in card.missing_metrics[:MAX_LISTED]],
        "missing_metrics_count": len(card.missing_metrics),
        "contradicted": contradictions(checklist, card, marks)})
    return sum(1 for item in found if item.mark is not None)


def suggestions_of(session: Session, team_id: str, assessment_id: int, evidence_id: int) -> list[MarkSuggestion]:
    return list(session.scalars(select(MarkSuggestion).where(
        MarkSuggestion.team_id == team_id, MarkSuggestion.assessment_id == assessment_id,
        MarkSuggestion.evidence_id == evidence_id).order_by(MarkSuggestion.id)))


def get_suggestion(session: Session, team_id: str, suggestion_id: int) -> MarkSuggestion:
    found = session.scalar(select(MarkSuggestion).where(MarkSuggestion.team_id == team_id,
                                                        MarkSuggestion.id == suggestion_id))
    if found is None:
        raise ServiceError(f"There is no suggestion #{suggestion_id} in this workspace.")
    return found


def open_suggestion(session: Session, team_id: str, suggestion_id: int) -> MarkSuggestion:
    """A suggestion a person may still apply or dismiss; otherwise says what became of it."""
    found = get_suggestion(session, team_id, suggestion_id)
    if found.status != OPEN:
        who = (" by ", mention(found.decided_by)) if found.decided_by else ()
        raise ServiceError(f"This suggestion for {found.item_id} was already {found.status}", *who,
                           "; nothing changed.")
    if found.mark is None:
        raise ServiceError(f"There is no mark to apply for {found.item_id}: the evidence is too thin.")
    review = get_assessment(session, team_id, found.assessment_id)
    if review.status not in OPEN_STATUSES:
        raise ServiceError(f"Review #{review.id} is {review.status}; its marks can no longer change.")
    return found


def dismiss(session: Session, team_id: str, suggestion_id: int, *, actor: str, reason: str | None) -> MarkSuggestion:
    text = (reason or "").strip()
    if not text:
        raise ServiceError("Say why the suggestion does not apply.")
    if len(text) > MAX_DECISION_REASON:
        raise ServiceError(f"Keep the reason under {MAX_DECISION_REASON} characters.")
    found = get_suggestion(session, team_id, suggestion_id)
    if found.status != OPEN:
        raise ServiceError(f"This suggestion for {found.item_id} was already {found.status}; nothing changed.")
    found.status, found.decided_by, found.decision_reason = DISMISSED, actor, text
    found.decided_at = clock_now(session)
    audit.record(session, team_id, "suggestion.dismissed", actor=actor, assessment_id=found.assessment_id,
                 subject=found.item_id, before={"status": OPEN},
                 after={"status": DISMISSED, "suggestion": found.id, "mark": found.mark, "reason": text})
    return found


def settle_on_mark(session: Session, assessment: Assessment, item_id: str, mark: Mark, actor: str) -> int:
    """A mark that matches an open suggestion applies it (in the mark's own transaction). Returns how many."""
    rows = list(session.scalars(select(MarkSuggestion).where(
        MarkSuggestion.team_id == assessment.team_id, MarkSuggestion.assessment_id == assessment.id,
        MarkSuggestion.item_id == item_id, MarkSuggestion.status == OPEN, MarkSuggestion.mark == mark.value)))
    now = clock_now(session)
    for row in rows:
        row.status, row.decided_by, row.decided_at = APPLIED, actor, now
        row.decision_reason = f"marked {mark.value}"
        audit.record(session, assessment.team_id, "suggestion.applied", actor=actor, assessment_id=assessment.id,
                     subject=item_id, before={"status": OPEN},
                     after={"status": APPLIED, "suggestion": row.id, "mark": mark.value, "evidence": row.evidence_id})
    return len(rows)


@dataclass(frozen=True)
class SuggestionView:
    """What the thread message of one evidence set shows, as it is now."""

    label: str
    checklist: Checklist
    payload: dict[str, Any]
    rows: list[MarkSuggestion]
    evidence_id: int


def suggestion_view(session: Session, team_id: str, assessment_id: int, evidence_id: int) -> SuggestionView | None:
    review = session.get(Assessment, assessment_id)
    if review is None or review.team_id != team_id:
        return None
    payload = session.scalar(select(OutboxMessage.payload).where(
        OutboxMessage.team_id == team_id, OutboxMessage.kind == EVIDENCE_SUGGESTIONS,
        OutboxMessage.dedupe_key == f"evidence:{assessment_id}:{evidence_id}:suggestions"))
    return SuggestionView(f"{review.system} {review.version}", checklist_of(session, review), dict(payload or {}),
                          suggestions_of(session, team_id, assessment_id, evidence_id), evidence_id)
