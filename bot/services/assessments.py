"""Assessment use cases: start a review, apply a mark, close a review, read the scorecard.

These change the review itself and return what happened; ``bot.services.marks`` is the one place that
fans the consequences out (reminders, waivers, sign-off, suggestions, notices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.checklist import Checklist, Mark
from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from bot.core.marking import (
    DETAILS_CHANGE,
    DUE_CHANGE,
    MARK_CHANGE,
    MAX_REASON,
    OWNER_CHANGE,
    change_kind,
    validate_mark,
)
from bot.core.scoring import MarkEntry, Scorecard, score
from bot.db import clock_now
from bot.services import audit
from bot.services.checklists import checklist_by_hash, store_snapshot
from bot.services.errors import AssessmentClosed, MarkRejected, NotFound, ServiceError, mention
from bot.services.outbox import cancel_gap
from bot.services.workspaces import ensure_workspace
from models import Assessment, ItemMark, MarkChange, Waiver, utcnow

OPEN_STATUSES = ("open", "complete", "live")


# the audit action of each kind of change: the history says what it was, not "re-marked" for a new date
AUDIT_ACTION = {MARK_CHANGE: "mark.changed", OWNER_CHANGE: "owner.changed", DUE_CHANGE: "due.moved",
                DETAILS_CHANGE: "mark.details_changed"}

@dataclass(frozen=True)
class StartRequest:
    team_id: str
    system: str
    version: str
    started_by: str
    cohorts: list[str] = field(default_factory=list)
    channel_id: str | None = None
    release_channel_id: str | None = None
    baseline_id: int | None = None


@dataclass(frozen=True)
class MarkRequest:
    item_id: str
    mark: Mark
    evidence: str | None = None
    owner: str | None = None
    due: date | None = None
    note: str | None = None
    reason: str | None = None
    requested_by: str | None = None  # whose request the change follows (an owner's proposed due date)
    note_required: bool = False  # a Yes must say what is missing (the Slack forms ask for it)


@dataclass(frozen=True)
class MarkOutcome:
    assessment_id: int
    changed: bool
    item_id: str
    previous: MarkEntry | None
    current: MarkEntry
    before: Scorecard
    after: Scorecard
    revision: int
    voided: int = 0
    change: str = MARK_CHANGE  # what changed: the mark, or only the owner, the due date or the details

    @property
    def became_blocker(self) -> bool:
        return self.item_id in self.after.blockers and self.item_id not in self.before.blockers

    @property
    def cleared_blocker(self) -> bool:
        return self.item_id in self.before.blockers and self.item_id not in self.after.blockers

    @property
    def completed(self) -> bool:
        return bool(self.before.unmarked) and not self.after.unmarked


@dataclass(frozen=True)
class Applied:
    """What ``apply_mark`` did, with the rows its consequences need."""

    outcome: MarkOutcome
    assessment: Assessment
    row: ItemMark
    waiver_ended: bool = False  # the item was waived: the waiver covered the mark it was given for
    marks: dict[str, MarkEntry] = field(default_factory=dict)  # every current mark of the review, this one too
    waived: frozenset[str] = frozenset()  # the items whose waivers hold once the mark's consequences are done


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def start_assessment(session: Session, checklist: Checklist, request: StartRequest) -> Assessment:
    system, version = _clean(request.system), _clean(request.version)
    if not system or not version:
        raise ServiceError("An assessment needs a system name and a candidate version.")
    if len(system) > MAX_SYSTEM or len(version) > MAX_VERSION:
        raise ServiceError(f"System names are limited to {MAX_SYSTEM} characters and versions to {MAX_VERSION}.")
    ensure_workspace(session, request.team_id)
    if request.baseline_id is not None:
        baseline = get_assessment(session, request.team_id, request.baseline_id)
        if baseline.system != system:
            raise ServiceError(
                f"The baseline #{baseline.id} is a review of {baseline.system}, not of {system}."
            )
    store_snapshot(session, request.team_id, checklist)
    assessment = Assessment(
        team_id=request.team_id,
        system=system,
        version=version,
        cohorts=[c for c in (_clean(c) for c in request.cohorts) if c],
        baseline_id=request.baseline_id,
        channel_id=request.channel_id,
        release_channel_id=request.release_channel_id,
        section_messages={},
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        checklist_hash=checklist.content_hash,
        status="open",
        started_by=request.started_by,
    )
    assessment.marks = [ItemMark(team_id=request.team_id, item_id=item_id) for item_id in checklist.item_ids]
    session.add(assessment)
    session.flush()
    audit.record(session, request.team_id, "review.started", actor=request.started_by, assessment_id=assessment.id,
                 after={"system": system, "version": version, "checklist": checklist.version,
                        "checklist_hash": checklist.content_hash, "baseline_id": request.baseline_id,
                        "release_channel": request.release_channel_id})
    return assessment


def get_assessment(session: Session, team_id: str, assessment_id: int, *, lock: bool = False) -> Assessment:
    """The workspace's assessment; ``lock`` holds its row until the transaction ends (marks queue on it).

    The lock is PostgreSQL's FOR NO KEY UPDATE: writers of one review still queue on it, but it leaves alone
    the KEY SHARE locks that rows pointing at the review (marks, outbox, audit, surfaces) take as their foreign
    keys are checked. A plain FOR UPDATE waits for those and deadlocks a mark against a refresh in flight."""
    query = select(Assessment).where(Assessment.team_id == team_id, Assessment.id == assessment_id)
    assessment = session.scalar(query.with_for_update(key_share=True) if lock else query)
    if assessment is None:
        raise NotFound(f"There is no assessment #{assessment_id} in this workspace.")
    return assessment


def find_latest(session: Session, team_id: str, system: str, version: str | None = None) -> Assessment | None:
    query = select(Assessment).where(Assessment.team_id == team_id, Assessment.system == system)
    if version is not None:
        query = query.where(Assessment.version == version)
    return session.scalar(query.order_by(Assessment.created_at.desc(), Assessment.id.desc()).limit(1))


def item_row(session: Session, team_id: str, assessment_id: int, item_id: str) -> ItemMark | None:
    """The current mark row of one item of one assessment, in one workspace."""
    return session.scalar(select(ItemMark).where(
        ItemMark.team_id == team_id, ItemMark.assessment_id == assessment_id, ItemMark.item_id == item_id))


def checklist_of(session: Session, assessment: Assessment) -> Checklist:
    return checklist_by_hash(session, assessment.team_id, assessment.checklist_hash)


def entry_of(row: ItemMark) -> MarkEntry | None:
    if row.mark is None:
        return None
    return MarkEntry(mark=Mark(row.mark), evidence=row.evidence, owner=row.owner, due=row.due, note=row.note)


def current_marks(session: Session, assessment: Assessment) -> dict[str, MarkEntry]:
    rows = session.scalars(
        select(ItemMark).where(ItemMark.team_id == assessment.team_id, ItemMark.assessment_id == assessment.id)
    )
    return {row.item_id: entry for row in rows if (entry := entry_of(row)) is not None}


def live_waivers(session: Session, assessment: Assessment, now: datetime | None = None) -> list[Waiver]:
    """The waivers of this review that hold now (by the application's clock)."""
    now = now or clock_now(session)
    return list(session.scalars(select(Waiver).where(
        Waiver.team_id == assessment.team_id, Waiver.assessment_id == assessment.id,
        Waiver.ended_at.is_(None), Waiver.expires_at > now).order_by(Waiver.id)))


def waived_items(session: Session, assessment: Assessment, now: datetime | None = None) -> set[str]:
    return {w.item_id for w in live_waivers(session, assessment, now)}


def live_scorecard(session: Session, assessment: Assessment, marks: dict[str, MarkEntry] | None = None) -> Scorecard:
    """The scorecard as it stands now: current marks, live waivers."""
    marks = current_marks(session, assessment) if marks is None else marks
    return score(checklist_of(session, assessment), marks, waived=waived_items(session, assessment))


def scorecard(session: Session, team_id: str, assessment_id: int) -> Scorecard:
    return live_scorecard(session, get_assessment(session, team_id, assessment_id))


def apply_mark(
    session: Session,
    team_id: str,
    assessment_id: int,
    request: MarkRequest,
    *,
    actor: str,
    today: date,
    now: datetime | None = None,
) -> Applied:
    """Validate and apply one mark to the review. A rejected mark raises and changes nothing.

    The item's row is locked for the rest of the transaction, so two people marking the same item
    at once are serialised: both changes land in the history and the later one is current.
    """
    now = now or utcnow()
    # Marks of one assessment are serialised on its row, so the last of two simultaneous marks sees the
    # other one (and completes the review) and the scorecard before/after each mark is exact.
    assessment = get_assessment(session, team_id, assessment_id, lock=True)
    if assessment.status not in OPEN_STATUSES:
        raise AssessmentClosed(f"Assessment #{assessment.id} is {assessment.status}; its marks can no longer change.")
    checklist = checklist_of(session, assessment)
    errors = validate_mark(
        checklist,
        request.item_id,
        request.mark,
        evidence=request.evidence,
        owner=request.owner,
        due=request.due,
        note=request.note,
        today=today,
        note_required=request.note_required,
    )
    if request.reason and len(request.reason) > MAX_REASON:
        errors["reason"] = f"The reason is limited to {MAX_REASON} characters."
    if errors:
        raise MarkRejected(errors)

    row = session.scalar(
        select(ItemMark)
        .where(
            ItemMark.team_id == team_id,
            ItemMark.assessment_id == assessment.id,
            ItemMark.item_id == request.item_id,
        )
        .with_for_update()
    )
    if row is None:  # a checklist item added after the assessment started cannot happen: snapshots are fixed
        raise NotFound(f"{request.item_id} is not part of assessment #{assessment.id}.")

    marks = current_marks(session, assessment)
    waived = waived_items(session, assessment)
    before = score(checklist, marks, waived=waived)
    previous = marks.get(request.item_id)
    is_gap = request.mark is not Mark.NO
    current = MarkEntry(
        mark=request.mark,
        evidence=_clean(request.evidence),
        owner=_clean(request.owner) if is_gap else None,
        due=request.due if is_gap else None,
        note=_clean(request.note),
    )
    if previous == current:
        unchanged = MarkOutcome(assessment.id, False, request.item_id, previous, current, before, before, row.revision)
        return Applied(unchanged, assessment, row, marks=marks, waived=frozenset(waived))

    change = change_kind(previous, current)
    row.mark = current.mark.value
    row.evidence, row.owner, row.due, row.note = current.evidence, current.owner, current.due, current.note
    row.marked_by, row.marked_at = actor, now
    row.snoozed_until = None  # a snooze was for the gap as it was
    row.revision += 1
    session.add(
        MarkChange(
            team_id=team_id,
            assessment_id=assessment.id,
            item_id=request.item_id,
            from_mark=previous.mark.value if previous else None,
            to_mark=current.mark.value,
            evidence=current.evidence,
            owner=current.owner,
            due=current.due,
            note=current.note,
            reason=_clean(request.reason),
            changed_by=actor,
            changed_at=now,
            revision=row.revision,
            change=change,
        )
    )
    marks[request.item_id] = current
    # a waiver covers the mark it was given for, not a new one (a new owner or due date keeps it)
    waiver_ended = request.item_id in waived and change == MARK_CHANGE
    after = score(checklist, marks, waived=waived - {request.item_id} if waiver_ended else waived)
    if not after.unmarked and assessment.status == "open":
        assessment.status = "complete"
    elif after.unmarked and assessment.status == "complete":
        assessment.status = "open"
    assessment.updated_at = now
    session.flush()
    outcome = MarkOutcome(assessment.id, True, request.item_id, previous, current, before, after, row.revision,
                          change=change)
    audit.record(session, team_id, AUDIT_ACTION[change], actor=actor, assessment_id=assessment.id, subject=request.item_id,
                 before=audit.mark_state(previous),
                 after={**(audit.mark_state(current) or {}), "reason": _clean(request.reason), "revision": row.revision,
                        "verdict": after.verdict.value, "score": after.score, "change": change})
    return Applied(outcome, assessment, row, waiver_ended, marks=marks,
                   waived=frozenset(waived - {request.item_id} if waiver_ended else waived))


def history(session: Session, team_id: str, assessment_id: int) -> list[MarkChange]:
    get_assessment(session, team_id, assessment_id)
    return list(
        session.scalars(
            select(MarkChange)
            .where(MarkChange.team_id == team_id, MarkChange.assessment_id == assessment_id)
            .order_by(MarkChange.id)
        )
    )


def close_assessment(session: Session, team_id: str, assessment_id: int, *, actor: str, now: datetime) -> Assessment:
    """Close a review: its marks freeze and every reminder it still owes is cancelled."""
    assessment = get_assessment(session, team_id, assessment_id)
    if actor != assessment.started_by:
        raise ServiceError(f"Only the release lead of review #{assessment_id}, ", mention(assessment.started_by),
                           ", can close it.")
    if assessment.status == "closed":
        raise ServiceError(f"Review #{assessment_id} is already closed.")
    before = assessment.status
    assessment.status = "closed"
    assessment.updated_at = now
    cancel_gap(session, team_id, assessment.id)
    audit.record(session, team_id, "review.closed", actor=actor, assessment_id=assessment.id,
                 before={"status": before}, after={"status": "closed"})
    return assessment
