"""Sign-off: named approvers per role decide, bound to the scorecard they saw; any later mark voids them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import words
from bot.core.advice import signoff_outcome
from bot.core.checklist import Verdict
from bot.core.scoring import MarkEntry, Scorecard, score
from bot.db import clock_now
from bot.services import audit, surfaces
from bot.services.assessments import (
    checklist_of,
    current_marks,
    get_assessment,
    live_scorecard,
    waived_items,
)
from bot.services.config import get as config_of
from bot.services.errors import ServiceError, mention
from bot.services.workspaces import ensure_workspace
from models import Approval, Approver, Assessment, Waiver, WorkspaceConfig
from models.signoff import DEFAULT_ROLES

APPROVE, STAGED, REJECT = "approve", "staged", "reject"
DECISIONS = (APPROVE, STAGED, REJECT)
WORDS = {d: words.in_sentence(words.DECISION[d]) for d in (APPROVE, STAGED, REJECT)}  # "approved for a staged rollout"
ALLOWED: dict[Verdict, tuple[str, ...]] = {
    Verdict.GO: (APPROVE, STAGED, REJECT),
    Verdict.NARROW: (STAGED, REJECT),
    Verdict.HOLD: (REJECT,),
    Verdict.NO_GO: (REJECT,),
    Verdict.INCOMPLETE: (REJECT,),
}
WHY_NOT = {
    Verdict.NARROW: "the verdict is narrow: only a staged rollout can be approved",
    Verdict.HOLD: "the verdict is hold: controls must be added first, so only Reject is possible",
    Verdict.NO_GO: "the verdict is no-go: only Reject is possible",
    Verdict.INCOMPLETE: "the review is not complete: only Reject is possible",
}


@dataclass(frozen=True)
class RoleState:
    role: str
    approver: str | None
    decision: str | None = None
    reason: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    voided: Voided | None = None  # the role's last decision, when it was voided and none followed


@dataclass(frozen=True)
class Voided:
    decision: str
    by: str
    at: datetime
    why: str


@dataclass(frozen=True)
class SignoffState:
    assessment_id: int
    card: Scorecard
    roles: list[RoleState] = field(default_factory=list)
    requested: bool = False  # approvers are named

    @property
    def live_decisions(self) -> int:
        return sum(1 for r in self.roles if r.decision)

    @property
    def complete(self) -> bool:
        return bool(self.roles) and all(r.decision for r in self.roles)

    @property
    def outcome(self) -> str | None:
        """approved, approved-staged or rejected, once every role has decided."""
        return signoff_outcome([r.decision for r in self.roles])


def marks_hash(marks: dict[str, MarkEntry], waived: Collection[str] = ()) -> str:
    """What an approval saw: the scorecard's inputs, each item's mark and the blockers waived at the time. A new
    owner, due date, note or evidence text changes no score, band, verdict or blocker, so it voids nothing."""
    body: dict[str, Any] = {"marks": {k: v.mark.value for k, v in sorted(marks.items())}, "waived": sorted(waived)}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def roles_of(session: Session, team_id: str) -> list[str]:
    config = session.scalar(select(WorkspaceConfig).where(WorkspaceConfig.team_id == team_id))
    return list(config.roles) if config is not None and config.roles else list(DEFAULT_ROLES)


def check_namer(session: Session, assessment: Assessment, user: str) -> None:
    """Only the release lead, or the workspace's Readiness admin group, names (or changes) the approvers:
    whoever names them decides who may approve and who may waive."""
    if user != assessment.started_by and user not in config_of(session, assessment.team_id).admins:
        raise ServiceError(f"Only the release lead of review #{assessment.id}, ", mention(assessment.started_by),
                           ", or a Readiness admin can name its approvers.")


def name_approvers(session: Session, team_id: str, assessment_id: int, approvers: dict[str, str], *,
                   actor: str) -> None:
    """Name one approver per role. A changed approver voids that role's decision."""
    ensure_workspace(session, team_id)
    assessment = get_assessment(session, team_id, assessment_id, lock=True)
    check_namer(session, assessment, actor)
    roles = roles_of(session, team_id)
    missing = [r for r in roles if not approvers.get(r)]
    if missing:
        raise ServiceError(f"Name an approver for {', '.join(missing)}.")
    existing = {a.role: a for a in session.scalars(select(Approver).where(Approver.assessment_id == assessment.id))}
    for role in roles:
        user = approvers[role]
        row = existing.get(role)
        if row is None:
            session.add(Approver(team_id=team_id, assessment_id=assessment.id, role=role, user_id=user))
        elif row.user_id != user:
            _void(session, assessment, f"the {role} approver changed", actor, roles=[role])
            row.user_id = user
    audit.record(session, team_id, "signoff.approvers", actor=actor, assessment_id=assessment.id,
                 after={r: approvers[r] for r in roles})
    surfaces.changed(session, assessment)


def proposed_approvers(session: Session, team_id: str, assessment_id: int) -> dict[str, str]:
    """Who the approvers form proposes: this review's approvers when named, else the last ones named for the
    same system (the baseline first), else the last ones named in the workspace."""
    named = {a.role: a.user_id for a in session.scalars(select(Approver).where(
        Approver.team_id == team_id, Approver.assessment_id == assessment_id))}
    if named:
        return named
    assessment = get_assessment(session, team_id, assessment_id)
    earlier = select(Approver.assessment_id).join(Assessment, Assessment.id == Approver.assessment_id).where(
        Approver.team_id == team_id, Assessment.team_id == team_id, Approver.assessment_id != assessment_id)
    last = assessment.baseline_id or session.scalar(earlier.where(
        Assessment.system == assessment.system).order_by(Approver.assessment_id.desc()).limit(1)) or \
        session.scalar(earlier.order_by(Approver.assessment_id.desc()).limit(1))
    if last is None:
        return {}
    return {a.role: a.user_id for a in session.scalars(select(Approver).where(
        Approver.team_id == team_id, Approver.assessment_id == last))}


def state(session: Session, team_id: str, assessment_id: int, *, assessment: Assessment | None = None,
          card: Scorecard | None = None, roles: list[str] | None = None) -> SignoffState:
    """Each role's decision as it stands. A caller that has just read the review passes what it read (the
    assessment row, the live scorecard, the workspace's roles), so they are not read again."""
    if assessment is None or assessment.id != assessment_id or assessment.team_id != team_id:
        assessment = get_assessment(session, team_id, assessment_id)
    card = live_scorecard(session, assessment) if card is None else card
    approvers = {a.role: a.user_id for a in session.scalars(select(Approver).where(Approver.assessment_id == assessment_id))}
    approvals = list(session.scalars(select(Approval).where(Approval.assessment_id == assessment_id)
                                     .order_by(Approval.id)))
    live = {a.role: a for a in _still_standing(session, assessment_id, [a for a in approvals if a.voided_at is None],
                                               clock_now(session))}
    last = {a.role: a for a in approvals}  # the latest per role wins
    roles_list = roles_of(session, team_id) if roles is None else roles
    out = []
    for role in roles_list:
        decision = live.get(role)
        if decision is not None:
            out.append(RoleState(role, approvers.get(role), decision.decision, decision.reason,
                                 decision.decided_at, decision.user_id))
            continue
        previous = last.get(role)
        voided = None
        if previous is not None and previous.voided_at is not None and previous.void_reason != "decided again":
            voided = Voided(previous.decision, previous.user_id, previous.voided_at, previous.void_reason or "")
        out.append(RoleState(role, approvers.get(role), voided=voided))
    return SignoffState(assessment_id, card, out, requested=bool(approvers))


def _live(session: Session, assessment_id: int, now: datetime | None = None) -> list[Approval]:
    """Decisions not voided. With ``now``: also not relying on a waiver that has run out but whose end
    the scheduler has not processed yet (it will void them; until then they count as void already)."""
    approvals = list(session.scalars(select(Approval).where(
        Approval.assessment_id == assessment_id, Approval.voided_at.is_(None)).order_by(Approval.id)))
    return _still_standing(session, assessment_id, approvals, now)


def _still_standing(session: Session, assessment_id: int, approvals: list[Approval],
                    now: datetime | None) -> list[Approval]:
    """Of decisions not voided, those not relying on a waiver that has run out by ``now`` (all, without it)."""
    if now is None or not approvals:
        return approvals
    lapsed = list(session.scalars(select(Waiver.granted_at).where(
        Waiver.assessment_id == assessment_id, Waiver.ended_at.is_(None), Waiver.expires_at <= now)))
    return [a for a in approvals if not any(a.decided_at >= granted for granted in lapsed)]


def decide(session: Session, team_id: str, assessment_id: int, *, role: str, user: str, decision: str,
           reason: str | None, now: datetime, dry_run: bool = False) -> SignoffState:
    """Record one role's decision, after every rule: right person, no open blocker of theirs, the verdict."""
    assessment = get_assessment(session, team_id, assessment_id, lock=True)
    if decision not in DECISIONS:
        raise ServiceError(f"{decision!r} is not a decision.")
    approver = session.scalar(select(Approver).where(Approver.assessment_id == assessment.id, Approver.role == role))
    if approver is None:
        raise ServiceError(f"No {role} approver is named for review #{assessment_id}.")
    if approver.user_id != user:
        raise ServiceError("Only ", mention(approver.user_id), f", the named {role} approver, can decide for {role}.")
    marks = current_marks(session, assessment)
    waived = waived_items(session, assessment)
    card = score(checklist_of(session, assessment), marks, waived=waived)
    if decision != REJECT:
        owned = [i for i in (*card.blockers, *card.waived_blockers) if marks[i].owner == user]
        if owned:
            raise ServiceError(f"You own the open blocker(s) {', '.join(owned)}, so you cannot approve this review.")
        if decision not in ALLOWED[card.verdict]:
            raise ServiceError(f"You cannot {'approve' if decision == APPROVE else 'approve a staged rollout'}: "
                               f"{WHY_NOT[card.verdict]}.")
    if dry_run:  # the checks only: the reason is asked for next
        return state(session, team_id, assessment.id)
    if decision in (STAGED, REJECT) and not (reason or "").strip():
        raise ServiceError("Say why: a staged approval or a rejection needs a reason.")
    for old in _live(session, assessment.id):
        if old.role == role:
            old.voided_at, old.void_reason = now, "decided again"
    session.add(Approval(team_id=team_id, assessment_id=assessment.id, role=role, user_id=user, decision=decision,
                         reason=(reason or "").strip() or None, scorecard_hash=marks_hash(marks, waived), decided_at=now))
    audit.record(session, team_id, "approval.given", actor=user, assessment_id=assessment.id, subject=role,
                 after={"decision": decision, "reason": reason, "verdict": card.verdict.value, "score": card.score,
                        "scorecard_hash": marks_hash(marks, waived)})
    session.flush()
    surfaces.changed(session, assessment)
    return state(session, team_id, assessment.id)


def _void(session: Session, assessment: Assessment, reason: str, actor: str, roles: list[str] | None = None,
          since: datetime | None = None, only: set[int] | None = None) -> int:
    """Void live decisions (of ``roles``; given at or after ``since``; of ids ``only``). Returns how many."""
    voided = 0
    now = clock_now(session)
    for approval in _live(session, assessment.id):
        if roles is not None and approval.role not in roles:
            continue
        if only is not None and approval.id not in only:
            continue
        if since is not None and approval.decided_at < since:
            continue
        approval.voided_at, approval.void_reason = now, reason
        audit.record(session, assessment.team_id, "approval.voided", actor=actor, assessment_id=assessment.id,
                     subject=approval.role, before={"decision": approval.decision, "user": approval.user_id},
                     after={"reason": reason})
        voided += 1
    if voided:
        surfaces.changed(session, assessment)
    return voided


def void_since(session: Session, assessment: Assessment, reason: str, actor: str,
               since: datetime | None = None) -> int:
    """Void the live decisions (given at or after ``since``): the scorecard they saw has changed."""
    return _void(session, assessment, reason, actor, since=since)


def void_after_mark(session: Session, assessment: Assessment, item_id: str, actor: str, *,
                    marks: dict[str, MarkEntry] | None = None, waived: Collection[str] | None = None) -> int:
    """A change of the scorecard voids the decisions that saw another one (a decision is bound to the marks
    and waivers it saw); a new owner, due date, note or evidence text voids nothing. ``marks`` and ``waived``:
    the review's current marks and live waivers, when the caller has them (read again otherwise)."""
    marks = current_marks(session, assessment) if marks is None else marks
    now_hash = marks_hash(marks, waived_items(session, assessment) if waived is None else waived)
    stale = [a for a in _live(session, assessment.id) if a.scorecard_hash != now_hash]
    if not stale:
        return 0
    return _void(session, assessment, f"{item_id} was re-marked after the decision", actor,
                 only={a.id for a in stale})


def record_card(session: Session, team_id: str, assessment_id: int, channel: str, ts: str) -> None:
    assessment = get_assessment(session, team_id, assessment_id)
    assessment.signoff_channel, assessment.signoff_ts = channel, ts
