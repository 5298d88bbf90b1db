"""Evidence from the eval pipeline, stored per workspace, judged against the release policy.

Which sets are compared, for a system's version V:
- the candidate is the set pushed last for V (each push is a whole set; a newer one replaces it, and
  pushing an earlier set again makes it the current one again);
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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import desc, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.checklist import Mark
from bot.core.evidence import (
    Cell,
    CohortScorecard,
    EvidenceSet,
    JudgeError,
    MetricSpec,
    Outcome,
    ReleasePolicy,
    WatchRule,
    contradictions,
    grid_svg,
    judge,
)
from bot.core.evidence.judge import MissingCell, fmt
from bot.core.evidence.policy import DEFAULT_MIN_SAMPLE
from bot.core.evidence.suggest import Skipped, watch_check
from bot.core.packet.model import CohortEvidence, CohortRow
from bot.db import clock_now
from bot.services import audit, golive, policies, surfaces
from bot.services.assessments import checklist_of, current_marks, find_latest
from bot.services.errors import ServiceError
from bot.services.suggestions import (  # noqa: F401 - the suggestion lifecycle, re-exported for its callers
    APPLIED,
    DISMISSED,
    MAX_DECISION_REASON,
    MAX_LISTED,
    OPEN,
    SUGGEST_STATUSES,
    SUPERSEDED,
    SuggestionView,
    dismiss,
    get_suggestion,
    offer,
    open_suggestion,
    settle_on_mark,
    suggestion_view,
    suggestions_of,
)
from bot.services.workspaces import ensure_workspace
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
    newest_first = query.order_by(desc(EvidenceRecord.pushed_at), desc(EvidenceRecord.id))
    return [Ref(*row) for row in session.execute(newest_first)]


def latest(session: Session, team_id: str, system: str, version: str) -> Ref | None:
    """The current set of a version: the one pushed last (a set pushed again counts as pushed then)."""
    found = _refs(session, team_id, system, version)
    return found[0] if found else None


def _push_time(session: Session, team_id: str, system: str, version: str) -> datetime:
    """Now, but after every earlier push of the version (a stopped or shared clock keeps the order)."""
    now = clock_now(session)
    last = session.scalar(select(EvidenceRecord.pushed_at).where(
        EvidenceRecord.team_id == team_id, EvidenceRecord.system == system, EvidenceRecord.version == version)
        .order_by(desc(EvidenceRecord.pushed_at)).limit(1))
    return now if last is None or last < now else last + timedelta(microseconds=1)


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
    watch_skipped: list[dict[str, Any]] = field(default_factory=list)  # watched rows with too little data
    scorecard: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def push(session: Session, team_id: str, evidence: EvidenceSet, *, actor: str,
         policy_path: Path | None = None) -> PushResult:
    """Store a validated set once per content; a new set for a reviewed version queues suggestions in the
    review's thread, and one for a version under its first-week watch is checked against the watch list.
    Everything is queued in this transaction: a set pushed twice posts nothing new (an earlier set pushed
    again becomes the current one again). Evidence no policy can judge is stored, and the notes say why."""
    ensure_workspace(session, team_id)
    found = _find(session, team_id, evidence.content_hash)
    if found is not None:
        return _duplicate(session, team_id, found, actor, policy_path)
    record = EvidenceRecord(team_id=team_id, system=evidence.system, version=evidence.version,
                            content_hash=evidence.content_hash, body=evidence.model_dump(mode="json"),
                            row_count=len(evidence.rows), pushed_by=actor,
                            pushed_at=_push_time(session, team_id, evidence.system, evidence.version))
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the same set, stored at this moment by another request
        found = _find(session, team_id, evidence.content_hash)
        assert found is not None
        return _duplicate(session, team_id, found, actor, policy_path)
    _sets.get_or(evidence.content_hash, lambda: evidence)
    result = PushResult(record.id, evidence.system, evidence.version, evidence.content_hash, len(evidence.rows),
                        duplicate=False)
    review = find_latest(session, team_id, evidence.system, evidence.version)
    result.assessment_id = review.id if review is not None else None
    if review is not None:
        surfaces.changed(session, review)  # its item lines flag a No that the new numbers contradict
    try:
        scored = judged(session, team_id, evidence.system, evidence.version, assessment=review,
                        policy_path=policy_path)
    except ServiceError as exc:
        scored = None
        result.notes.append(f"stored as #{record.id} but not judged: {exc}")
    if scored is not None:
        result.scorecard = scored.summary()
        if review is not None and review.status in SUGGEST_STATUSES:
            result.suggestions = offer(session, review, record.id, scored)
    result.breaches, skipped = _check_watch(session, team_id, evidence, record.id, policy_path)
    if skipped:
        result.watch_skipped = [k.model_dump() for k in skipped]
        shown = "; ".join(k.text for k in skipped[:MAX_LISTED])
        more = f" and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
        result.notes.append(f"watch list: {len(skipped)} row(s) not checked, too little data: {shown}{more}")
    audit.record(session, team_id, "evidence.pushed", actor=actor, assessment_id=result.assessment_id,
                 subject=f"{evidence.system} {evidence.version}",
                 after={"evidence_id": record.id, "hash": evidence.content_hash, "rows": len(evidence.rows),
                        "suggestions": result.suggestions, "breaches": result.breaches,
                        "watch_skipped": len(skipped)})
    return result


def _check_watch(session: Session, team_id: str, evidence: EvidenceSet, evidence_id: int,
                 policy_path: Path | None) -> tuple[int, tuple[Skipped, ...]]:
    """Check a set against a running first-week watch, leaving out the watched rows whose sample is below
    the policy's min_sample (the shipped default when no policy applies). (new breaches, rows skipped)."""
    now = clock_now(session)
    watch = golive.watched_golive(session, team_id, evidence.system, evidence.version, now)
    if watch is None:
        return 0, ()
    try:
        sample: ReleasePolicy | int = policies.policy_for(session, team_id, evidence.system, policy_path).policy
    except ServiceError:
        sample = DEFAULT_MIN_SAMPLE
    skipped = watch_check([WatchRule.model_validate(r) for r in watch.watch_rules], evidence, sample).skipped
    thin = {(k.cohort, k.metric) for k in skipped}
    if thin:
        evidence = EvidenceSet(system=evidence.system, version=evidence.version, metrics=evidence.metrics,
                               rows=tuple(r for r in evidence.rows if (r.cohort, r.metric) not in thin))
    return golive.check_evidence(session, team_id, evidence, evidence_id, now), skipped


def _find(session: Session, team_id: str, content_hash: str) -> Ref | None:
    row = session.execute(select(EvidenceRecord.id, EvidenceRecord.system, EvidenceRecord.version,
                                 EvidenceRecord.content_hash, EvidenceRecord.row_count, EvidenceRecord.pushed_by)
                          .where(EvidenceRecord.team_id == team_id, EvidenceRecord.content_hash == content_hash)
                          ).one_or_none()
    return Ref(*row) if row is not None else None


def _duplicate(session: Session, team_id: str, found: Ref, actor: str, policy_path: Path | None) -> PushResult:
    """A set stored before: pushed again, it is the current set of its version again (nothing is posted)."""
    current = latest(session, team_id, found.system, found.version)
    label = f"{found.system} {found.version}"
    result = PushResult(found.id, found.system, found.version, found.content_hash, found.row_count,
                        duplicate=True, current=True)
    if current is None or current.id == found.id:
        result.notes.append(f"the same set is already stored as #{found.id}; nothing was added or posted")
        return result
    record = session.get(EvidenceRecord, found.id)
    assert record is not None
    record.pushed_at = _push_time(session, team_id, found.system, found.version)
    review = find_latest(session, team_id, found.system, found.version)
    result.assessment_id = review.id if review is not None else None
    if review is not None:  # suggestions from the replaced set no longer match the current numbers
        session.execute(update(MarkSuggestion).where(
            MarkSuggestion.team_id == team_id, MarkSuggestion.assessment_id == review.id,
            MarkSuggestion.status == OPEN, MarkSuggestion.evidence_id != found.id).values(
            status=SUPERSEDED, decided_at=clock_now(session), decision_reason=f"evidence #{found.id} pushed again"))
        surfaces.changed(session, review)
    session.flush()
    audit.record(session, team_id, "evidence.repushed", actor=actor, assessment_id=result.assessment_id,
                 subject=label, before={"current": current.id},
                 after={"current": found.id, "hash": found.content_hash})
    result.notes.append(f"the same set is already stored as #{found.id}; it is the current set of {label} again "
                        f"(replacing #{current.id}); nothing new was posted, `/readiness evidence` shows it")
    try:
        scored = judged(session, team_id, found.system, found.version, assessment=review, policy_path=policy_path)
        result.scorecard = scored.summary() if scored is not None else None
    except ServiceError as exc:
        result.notes.append(f"not judged: {exc}")
    return result


# -- what other features read: the gate, the packet, the review's item lines ------------------------


def gate_check(session: Session, assessment: Assessment,
               policy_path: Path | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """(the cohort result for the gate's JSON, reasons the gate fails); (None, []) without evidence.

    The gate fails on a failure or regression in any cohort, on a cohort with too little evidence
    (never a pass), on a baseline cohort or a judged metric of a cohort missing from the candidate, and on
    evidence no policy can judge.
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
    reasons += [f"cohort {k.cohort}, {k.metric}: no evidence in this version's set ({_expected_by(card, k)})"
                for k in card.missing_metrics]
    if len(reasons) > MAX_REASONS:
        reasons = reasons[:MAX_REASONS] + [f"... and {len(reasons) - MAX_REASONS} more cohort problem(s): "
                                           "see `readiness evidence show`"]
    return scored.summary(), reasons


def _expected_by(card: CohortScorecard, key: MissingCell) -> str:
    return f"in the baseline {card.baseline_version}" if key.expected_by == "baseline" else "named by the policy"


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
    """Every judged cell (failures first), then the cohorts and the metrics missing from the candidate."""
    rows = [CohortRow(cohort=c.cohort, metric=c.metric, outcome=OUTCOME_WORDS[c.outcome], rule=c.rule,
                      **cell_texts(c))
            for c in sorted(card.cells, key=lambda c: (_ORDER[c.outcome], c.cohort, c.metric))]
    rows += [CohortRow(cohort=c, metric="(all)", baseline="measured", candidate="missing", delta="-",
                       outcome="gap", rule="present in the baseline or named by the policy, missing here")
             for c in card.missing_cohorts]
    rows += [CohortRow(cohort=k.cohort, metric=k.metric, baseline="measured" if k.expected_by == "baseline"
                       else "-", candidate="missing", delta="-", outcome="gap",
                       rule=f"{_expected_by(card, k)}, missing here") for k in card.missing_metrics]
    return rows


def contradicted_items(session: Session, assessment: Assessment, marks: dict[str, Mark | None],
                       scored: Judged | None = None) -> tuple[str, ...]:
    """Items marked No while one of their metrics fails or regresses in some cohort."""
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
    """The packet's cohort evidence for this review (None while no evidence is stored); evidence that cannot
    be judged is a one-row note saying why."""
    try:
        scored = judged(session, assessment.team_id, assessment.system, assessment.version, assessment=assessment)
    except ServiceError as exc:
        log.info("cohort evidence of review #%s cannot be judged: %s", assessment.id, exc)
        return CohortEvidence(rows=(CohortRow(cohort="(all)", metric="(all)", baseline="-", candidate="stored",
                                              delta="-", outcome="cannot be judged", rule=str(exc)),))
    if scored is None:
        return None
    marks: dict[str, Mark | None] = {k: e.mark for k, e in current_marks(session, assessment).items()}
    return CohortEvidence(svg=grid_svg(scored.scorecard), rows=tuple(rows_of(scored.scorecard)),
                          contradicted=contradicted_items(session, assessment, marks, scored))
