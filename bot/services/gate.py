"""The release gate for pipelines: may this system's version widen? Verdict allowed and sign-off complete."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.checklist import Verdict
from bot.db import clock_now
from bot.services import audit, signoff, waivers
from bot.services.assessments import find_latest, live_waivers
from bot.services.errors import ServiceError
from models import Assessment


@dataclass
class GateResult:
    passed: bool
    system: str
    version: str
    reasons: list[str] = field(default_factory=list)
    assessment_id: int | None = None
    verdict: str | None = None
    score: int | None = None
    max_score: int | None = None
    band: str | None = None
    blockers: list[str] = field(default_factory=list)
    waivers: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    signoff: str | None = None
    packet_link: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def workspace_of(session: Session, system: str, team_id: str | None) -> str:
    """The workspace whose review of ``system`` the gate reads; ambiguous names need --team."""
    if team_id:
        return team_id
    teams = sorted(set(session.scalars(select(Assessment.team_id).where(Assessment.system == system))))
    if not teams:
        raise ServiceError(f"no review of {system} in any workspace")
    if len(teams) > 1:
        raise ServiceError(f"{system} is reviewed in several workspaces ({', '.join(teams)}): pass --team")
    return teams[0]


def evaluate(session: Session, team_id: str, system: str, version: str, allowed: Collection[Verdict], *,
             actor: str) -> GateResult:
    result = GateResult(passed=False, system=system, version=version)
    assessment = find_latest(session, team_id, system, version)
    if assessment is None:
        result.reasons.append(f"no review of {system} {version} in this workspace")
        return result
    waivers.expire_due(session, clock_now(session), assessment.id)  # a lapsed waiver counts as ended now
    st = signoff.state(session, team_id, assessment.id)
    card = st.card
    result.assessment_id, result.verdict, result.score = assessment.id, card.verdict.value, card.score
    result.max_score, result.band, result.blockers = card.max_score, card.band, list(card.blockers)
    result.approvals = [{"role": r.role, "approver": r.approver, "decision": r.decision, "reason": r.reason}
                        for r in st.roles]
    result.waivers = [{"item": w.item_id, "granted_by": w.granted_by, "reason": w.reason,
                       "expires_at": w.expires_at.isoformat()} for w in live_waivers(session, assessment)]
    result.signoff = st.outcome
    if card.verdict not in allowed:
        result.reasons.append(f"verdict {card.verdict.value} is not allowed "
                              f"(allowed: {', '.join(sorted(v.value for v in allowed))})")
    if card.blockers:
        result.reasons.append("blockers: " + ", ".join(card.blockers))
    waiting = [r.role for r in st.roles if not r.decision]
    if waiting:
        result.reasons.append("sign-off incomplete: waiting for " + ", ".join(waiting))
    if st.outcome == "rejected":
        rejected = [f"{r.role} ({r.reason})" for r in st.roles if r.decision == signoff.REJECT]
        result.reasons.append("sign-off rejected by " + ", ".join(rejected))
    result.passed = not result.reasons
    audit.record(session, team_id, "gate.queried", actor=actor, assessment_id=assessment.id,
                 after={"version": version, "passed": result.passed, "verdict": card.verdict.value,
                        "allowed": sorted(v.value for v in allowed)})
    return result
