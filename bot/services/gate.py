"""The release gate for pipelines: may this system's version widen? Verdict allowed, sign-off complete, and
no policy failure in the cohort evidence (when evidence is stored)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.checklist import Verdict
from bot.db import clock_now
from bot.services import audit, evidence, signoff, waivers
from bot.services.assessments import find_latest, live_waivers
from bot.services.errors import ServiceError
from bot.services.packets import packet_link
from bot.settings import Settings
from models import Assessment, PacketRecord


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
    # the cohort scorecard of the version's evidence (None while none is stored): counts, failures,
    # cohorts with too little evidence, cohorts missing, the policy and baseline it was judged with
    cohort: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _packet_link(session: Session, assessment: Assessment, settings: Settings | None) -> str | None:
    """A fresh signed link to the review's latest packet, when one was generated and links can be signed."""
    if settings is None:
        return None
    record = session.scalar(select(PacketRecord).where(PacketRecord.team_id == assessment.team_id,
                                                       PacketRecord.assessment_id == assessment.id)
                            .order_by(PacketRecord.id.desc()).limit(1))
    if record is None:
        return None
    try:
        return packet_link(settings, record, clock_now(session))
    except ServiceError:  # no key to sign links with (PACKET_LINK_SECRET / SLACK_SIGNING_SECRET unset)
        return None


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
             actor: str, policy_path: Path | None = None, settings: Settings | None = None) -> GateResult:
    """``settings``: the POLICY_PATH fallback and the signing key of the packet link (none without them)."""
    if settings is not None and policy_path is None:
        policy_path = settings.policy_path
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
    result.cohort, cohort_reasons = evidence.gate_check(session, assessment, policy_path)
    result.reasons.extend(cohort_reasons)
    result.passed = not result.reasons
    result.packet_link = _packet_link(session, assessment, settings)
    audit.record(session, team_id, "gate.queried", actor=actor, assessment_id=assessment.id,
                 after={"version": version, "passed": result.passed, "verdict": card.verdict.value,
                        "allowed": sorted(v.value for v in allowed),
                        "cohort_problems": len(cohort_reasons)})
    return result
