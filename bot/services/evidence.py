"""Evidence from the eval pipeline, stored per workspace, judged against the release policy.

Which sets are compared, for a system's version V:
- the candidate is the set stored last for V (each push is a whole set; a newer one replaces it);
- the baseline is, first found: the version given explicitly (``--baseline``); else the version of the
  review's baseline (when the review of V names one; no evidence for it means no baseline); else the
  highest earlier version of the same system that has evidence (numbers inside versions compare as
  numbers, so 2.10 comes after 2.9).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.checklist import Checklist, Mark
from bot.db import clock_now
from bot.evidence import Cell, CohortScorecard, EvidenceSet, JudgeError, MetricSpec, Outcome, grid_svg, judge
from bot.evidence.judge import fmt
from bot.packet.model import CohortEvidence, CohortRow
from bot.services import audit, policies
from bot.services.assessments import ensure_workspace, find_latest
from bot.services.errors import ServiceError
from models import Assessment, EvidenceRecord, MarkSuggestion

log = logging.getLogger(__name__)

MAX_REASONS = 12  # gate reasons listed one by one; the rest are counted (the JSON has them all)
OUTCOME_WORDS = {Outcome.PASS: "pass", Outcome.REGRESSION: "regression", Outcome.FAIL: "fail",
                 Outcome.NOT_ENOUGH: "not enough evidence"}


@dataclass(frozen=True)
class Ref:
    """A stored evidence set without its rows."""

    id: int
    system: str
    version: str
    content_hash: str
    row_count: int
    pushed_by: str


@dataclass(frozen=True)
class Judged:
    scorecard: CohortScorecard
    candidate: Ref
    baseline: Ref | None
    baseline_note: str
    policy_source: str

    def summary(self) -> dict[str, Any]:
        """The scorecard's machine-readable summary, with where the inputs came from."""
        return {**self.scorecard.summary(), "evidence_id": self.candidate.id,
                "baseline_evidence_id": self.baseline.id if self.baseline else None,
                "baseline_note": self.baseline_note, "policy_source": self.policy_source}


# -- caches: sets and scorecards are immutable, keyed by content hashes -----------------------------

class _Lru(dict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size, self.order, self.lock = size, OrderedDict[Any, None](), threading.Lock()

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self:
                self.order.move_to_end(key)
                return self[key]
        value = make()
        with self.lock:
            self[key] = value
            self.order[key] = None
            while len(self.order) > self.size:
                oldest, _ = self.order.popitem(last=False)
                self.pop(oldest, None)
        return value


_sets = _Lru(16)
_scorecards = _Lru(64)


# -- reading stored sets ----------------------------------------------------------------------------


def _refs(session: Session, team_id: str, system: str, version: str | None = None) -> list[Ref]:
    query = select(EvidenceRecord.id, EvidenceRecord.system, EvidenceRecord.version, EvidenceRecord.content_hash,
                   EvidenceRecord.row_count, EvidenceRecord.pushed_by).where(
        EvidenceRecord.team_id == team_id, EvidenceRecord.system == system)
    if version is not None:
        query = query.where(EvidenceRecord.version == version)
    return [Ref(*row) for row in session.execute(query.order_by(EvidenceRecord.id.desc()))]


def latest(session: Session, team_id: str, system: str, version: str) -> Ref | None:
    """The current set of a version: the one stored last."""
    found = _refs(session, team_id, system, version)
    return found[0] if found else None


def load_set(session: Session, ref: Ref) -> EvidenceSet:
    def read() -> EvidenceSet:
        record = session.get(EvidenceRecord, ref.id)
        assert record is not None
        return EvidenceSet.model_validate(record.body)

    result: EvidenceSet = _sets.get_or(ref.content_hash, read)
    return result


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Natural order of versions: digit runs compare as numbers (2.9 < 2.10)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", version) if p)


def _baseline(session: Session, team_id: str, system: str, version: str, given: str | None,
              assessment: Assessment | None) -> tuple[Ref | None, str]:
    if given:
        ref = latest(session, team_id, system, given)
        if ref is None:
            raise ServiceError(f"no evidence is stored for the baseline {system} {given}")
        return ref, f"Baseline {given} (as asked)"
    if assessment is not None and assessment.baseline_id is not None:
        base = session.get(Assessment, assessment.baseline_id)
        if base is not None and base.team_id == team_id:
            ref = latest(session, team_id, system, base.version)
            if ref is None:
                return None, f"No baseline: the review's baseline {base.version} has no evidence"
            return ref, f"Baseline {base.version} (the review's baseline, #{base.id})"
    key = version_key(version)
    earlier = [r for r in _refs(session, team_id, system) if version_key(r.version) < key]
    if not earlier:
        return None, f"No baseline: no version of {system} before {version} has evidence"
    best = max(version_key(r.version) for r in earlier)
    ref = next(r for r in earlier if version_key(r.version) == best)  # newest set of that version
    return ref, f"Baseline {ref.version} (the latest earlier version with evidence)"


def judged(session: Session, team_id: str, system: str, version: str, *, baseline: str | None = None,
           assessment: Assessment | None = None, policy_path: Path | None = None) -> Judged | None:
    """The cohort scorecard of a version, or None while no evidence is stored for it.

    Raises ServiceError when no policy applies or the inputs cannot be judged together.
    """
    candidate = latest(session, team_id, system, version)
    if candidate is None:
        return None
    if assessment is None:
        assessment = find_latest(session, team_id, system, version)
    base, note = _baseline(session, team_id, system, version, baseline, assessment)
    chosen = policies.policy_for(session, team_id, system, policy_path)
    policy = chosen.policy

    def run() -> CohortScorecard:
        try:
            return judge(policy, load_set(session, candidate), load_set(session, base) if base else None)
        except JudgeError as exc:
            raise ServiceError(f"the evidence of {system} {version} cannot be judged: {exc}") from None

    key = (candidate.content_hash, base.content_hash if base else "", policy.content_hash)
    scorecard: CohortScorecard = _scorecards.get_or(key, run)
    return Judged(scorecard, candidate, base, note, chosen.source)


# -- pushing ---------------------------------------------------------------------------------------


@dataclass
class PushResult:
    evidence_id: int
    system: str
    version: str
    content_hash: str
    rows: int
    duplicate: bool
    current: bool = True
    assessment_id: int | None = None
    suggestions: int = 0
    breaches: int = 0
    scorecard: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def push(session: Session, team_id: str, evidence: EvidenceSet, *, actor: str,
         policy_path: Path | None = None) -> PushResult:
    """Store a validated set once per content; a new set for a reviewed version queues suggestions in the
    review's thread, and one for a version under its first-week watch is checked against the watch list.
    Everything is queued in this transaction: a set pushed twice posts nothing new."""
    from bot.services import golive

    ensure_workspace(session, team_id)
    found = _find(session, team_id, evidence.content_hash)
    if found is not None:
        return _duplicate(session, team_id, found)
    record = EvidenceRecord(team_id=team_id, system=evidence.system, version=evidence.version,
                            content_hash=evidence.content_hash, body=evidence.model_dump(mode="json"),
                            row_count=len(evidence.rows), pushed_by=actor, pushed_at=clock_now(session))
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the same set, stored at this moment by another request
        found = _find(session, team_id, evidence.content_hash)
        assert found is not None
        return _duplicate(session, team_id, found)
    _sets.get_or(evidence.content_hash, lambda: evidence)
    result = PushResult(record.id, evidence.system, evidence.version, evidence.content_hash, len(evidence.rows),
                        duplicate=False)
    review = find_latest(session, team_id, evidence.system, evidence.version)
    result.assessment_id = review.id if review is not None else None
    try:
        scored = judged(session, team_id, evidence.system, evidence.version, assessment=review,
                        policy_path=policy_path)
    except ServiceError as exc:
        scored = None
        result.notes.append(str(exc))
    if scored is not None:
        result.scorecard = scored.summary()
        if review is not None and review.status in SUGGEST_STATUSES:
            result.suggestions = offer(session, review, record.id, scored)
    result.breaches = golive.check_evidence(session, team_id, evidence, record.id, clock_now(session))
    audit.record(session, team_id, "evidence.pushed", actor=actor, assessment_id=result.assessment_id,
                 subject=f"{evidence.system} {evidence.version}",
                 after={"evidence_id": record.id, "hash": evidence.content_hash, "rows": len(evidence.rows),
                        "suggestions": result.suggestions, "breaches": result.breaches})
    return result


def _find(session: Session, team_id: str, content_hash: str) -> Ref | None:
    row = session.execute(select(EvidenceRecord.id, EvidenceRecord.system, EvidenceRecord.version,
                                 EvidenceRecord.content_hash, EvidenceRecord.row_count, EvidenceRecord.pushed_by)
                          .where(EvidenceRecord.team_id == team_id, EvidenceRecord.content_hash == content_hash)
                          ).one_or_none()
    return Ref(*row) if row is not None else None


def _duplicate(session: Session, team_id: str, found: Ref) -> PushResult:
    current = latest(session, team_id, found.system, found.version)
    result = PushResult(found.id, found.system, found.version, found.content_hash, found.row_count,
                        duplicate=True, current=current is not None and current.id == found.id)
    result.notes.append(f"the same set is already stored as #{found.id}; nothing was added or posted")
    if not result.current and current is not None:
        result.notes.append(f"the current set of {found.system} {found.version} is #{current.id}")
    return result


# -- what other features read: the gate, the packet, the review's item lines ------------------------


def gate_check(session: Session, assessment: Assessment,
               policy_path: Path | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """(the cohort result for the gate's JSON, reasons the gate fails); (None, []) without evidence.

    The gate fails on a failure or regression in any cohort, on a cohort with too little evidence
    (never a pass), on a baseline cohort missing from the candidate, and on evidence no policy can judge.
    """
    try:
        scored = judged(session, assessment.team_id, assessment.system, assessment.version,
                        assessment=assessment, policy_path=policy_path)
    except ServiceError as exc:
        return {"error": str(exc)}, [f"cohort evidence cannot be judged: {exc}"]
    if scored is None:
        return None, []
    card = scored.scorecard
    reasons = [f"cohort {c.cohort}, {c.metric}: {OUTCOME_WORDS[c.outcome]} ({c.rule})" for c in card.failures()]
    reasons += [f"cohort {c.cohort}, {c.metric}: not enough evidence ({c.rule})"
                for c in card.with_outcome(Outcome.NOT_ENOUGH)]
    gap = f"in the baseline {card.baseline_version}" if card.baseline_version else "named by the policy"
    reasons += [f"cohort {c}: no evidence in this version's set ({gap})" for c in card.missing_cohorts]
    if len(reasons) > MAX_REASONS:
        reasons = reasons[:MAX_REASONS] + [f"... and {len(reasons) - MAX_REASONS} more cohort problem(s): "
                                           "see `readiness evidence show`"]
    return scored.summary(), reasons


def _spec(cell: Cell) -> MetricSpec:
    return MetricSpec(unit=cell.unit, direction=cell.direction, kind=cell.kind)


def cell_texts(cell: Cell) -> dict[str, str]:
    """A cell's numbers as text: baseline, candidate (with n), delta with its interval."""
    spec = _spec(cell)
    baseline = f"{fmt(cell.baseline, spec)} (n={cell.baseline_n})" if cell.baseline is not None else "none"
    delta = ""
    if cell.delta is not None:
        delta = ("+" if cell.delta >= 0 else "-") + fmt(abs(cell.delta), spec)
    if cell.interval is not None:
        low, high = (fmt(v, spec) for v in cell.interval)
        delta += f" [{low}, {high}]" if cell.interval_of == "difference" else f" (candidate [{low}, {high}])"
    return {"baseline": baseline, "candidate": f"{fmt(cell.candidate, spec)} (n={cell.n})",
            "delta": delta.strip() or "-"}


_ORDER = {Outcome.FAIL: 0, Outcome.REGRESSION: 1, Outcome.NOT_ENOUGH: 2, Outcome.PASS: 3}


def rows_of(card: CohortScorecard) -> list[CohortRow]:
    """Every judged cell (failures first), then the cohorts missing from the candidate."""
    rows = [CohortRow(cohort=c.cohort, metric=c.metric, outcome=OUTCOME_WORDS[c.outcome], rule=c.rule,
                      **cell_texts(c))
            for c in sorted(card.cells, key=lambda c: (_ORDER[c.outcome], c.cohort, c.metric))]
    rows += [CohortRow(cohort=c, metric="(all)", baseline="measured", candidate="missing", delta="-",
                       outcome="gap", rule="present in the baseline or named by the policy, missing here")
             for c in card.missing_cohorts]
    return rows


def contradicted_items(session: Session, assessment: Assessment, marks: dict[str, Mark | None],
                       scored: Judged | None = None) -> tuple[str, ...]:
    """Items marked No while one of their metrics fails or regresses in some cohort."""
    from bot.evidence import contradictions
    from bot.services.assessments import checklist_of

    if scored is None or Mark.NO not in marks.values():
        return ()
    return tuple(contradictions(checklist_of(session, assessment), scored.scorecard, marks))


def contradicted(session: Session, assessment: Assessment, marks: dict[str, Mark | None]) -> frozenset[str]:
    """For the review's item lines. Evidence that cannot be judged flags nothing here (the gate says why)."""
    if Mark.NO not in marks.values() or latest(session, assessment.team_id, assessment.system,
                                                assessment.version) is None:
        return frozenset()
    try:
        scored = judged(session, assessment.team_id, assessment.system, assessment.version, assessment=assessment)
    except ServiceError as exc:
        log.info("no contradiction check for review #%s: %s", assessment.id, exc)
        return frozenset()
    return frozenset(contradicted_items(session, assessment, marks, scored))


def cohort_section(session: Session, assessment: Assessment) -> CohortEvidence | None:
    """The packet's cohort evidence for this review (None while no evidence is stored, or none can be judged)."""
    from bot.services.assessments import current_marks

    try:
        scored = judged(session, assessment.team_id, assessment.system, assessment.version, assessment=assessment)
    except ServiceError as exc:
        log.info("no cohort evidence in the packet of review #%s: %s", assessment.id, exc)
        return None
    if scored is None:
        return None
    marks: dict[str, Mark | None] = {k: e.mark for k, e in current_marks(session, assessment).items()}
    return CohortEvidence(svg=grid_svg(scored.scorecard), rows=tuple(rows_of(scored.scorecard)),
                          contradicted=contradicted_items(session, assessment, marks, scored))


# -- suggested marks: offered in the thread, applied or dismissed by a person, never silently -------

SUGGEST_STATUSES = ("open", "complete")  # reviews still being marked; after go-live the watch list takes over
OPEN, APPLIED, DISMISSED, SUPERSEDED = "open", "applied", "dismissed", "superseded"
MAX_DECISION_REASON = 500
MAX_LISTED = 20


def offer(session: Session, review: Assessment, evidence_id: int, scored: Judged) -> int:
    """Store what the numbers suggest per item (older open suggestions are superseded) and queue the thread
    message. Returns how many suggestions carry a mark."""
    from bot.evidence import contradictions, suggest
    from bot.services.assessments import checklist_of, current_marks, get_assessment
    from bot.services.notices import enqueue_evidence_suggestions

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
    from bot.services.assessments import OPEN_STATUSES, get_assessment

    found = get_suggestion(session, team_id, suggestion_id)
    if found.status != OPEN:
        who = f" by <@{found.decided_by}>" if found.decided_by else ""
        raise ServiceError(f"This suggestion for {found.item_id} was already {found.status}{who}; nothing changed.")
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
    from bot.services.assessments import checklist_of
    from bot.services.notices import EVIDENCE_SUGGESTIONS
    from models import OutboxMessage

    review = session.get(Assessment, assessment_id)
    if review is None or review.team_id != team_id:
        return None
    payload = session.scalar(select(OutboxMessage.payload).where(
        OutboxMessage.team_id == team_id, OutboxMessage.kind == EVIDENCE_SUGGESTIONS,
        OutboxMessage.dedupe_key == f"evidence:{assessment_id}:{evidence_id}:suggestions"))
    return SuggestionView(f"{review.system} {review.version}", checklist_of(session, review), dict(payload or {}),
                          suggestions_of(session, team_id, assessment_id, evidence_id), evidence_id)
