"""What a mark tells other people: blocker alerts, owner DMs, the result. Outbox rows, same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.marking import DUE_CHANGE
from bot.db import db_now
from bot.services.outbox import enqueue
from models import Approval, Assessment, WorkspaceConfig

if TYPE_CHECKING:
    from bot.services.assessments import MarkOutcome

BLOCKER_ALERT, BLOCKER_CLEARED, OWNER_ASSIGNED, RESULT = "blocker_alert", "blocker_cleared", "owner_assigned", "result"
APPROVALS_VOIDED, SIGNOFF_OUTCOME = "approvals_voided", "signoff_outcome"
DUE_MOVED = "due_moved"
WAIVER_GRANTED, WAIVER_ENDED = "waiver_granted", "waiver_ended"
REVIEW_KINDS = (BLOCKER_ALERT, BLOCKER_CLEARED, OWNER_ASSIGNED, RESULT, APPROVALS_VOIDED, SIGNOFF_OUTCOME,
                WAIVER_GRANTED, WAIVER_ENDED, DUE_MOVED)
# evidence: what a new set suggests, in the review's thread; a watch-list breach, to the release channel
# and the escalation owner
EVIDENCE_SUGGESTIONS, WATCH_BREACH = "evidence_suggestions", "watch_breach"
EVIDENCE_KINDS = (EVIDENCE_SUGGESTIONS, WATCH_BREACH)
# a post Slack refused for good: its notice goes to whoever can fix it
DELIVERY_FAILED = "delivery_failed"


def new_owner(outcome: MarkOutcome) -> str | None:
    current, previous = outcome.current, outcome.previous
    if not current.is_gap or not current.owner:
        return None
    if previous is not None and previous.is_gap and previous.owner == current.owner:
        return None
    return current.owner


def enqueue_mark_events(session: Session, assessment: Assessment, outcome: MarkOutcome, actor: str,
                        requested_by: str | None = None) -> None:
    """Queue what this mark must tell: each row is delivered once, even if this process dies now."""
    if not outcome.changed:
        return
    team, aid, item, rev = assessment.team_id, assessment.id, outcome.item_id, outcome.revision
    now = db_now(session)
    current = outcome.current
    snapshot = {"item": item, "actor": actor, "mark": current.mark.value, "owner": current.owner,
                "due": current.due.isoformat() if current.due else None, "note": current.note}

    def add(key: str, kind: str, recipient: str, payload: dict[str, object]) -> None:
        enqueue(session, team, dedupe_key=key, kind=kind, recipient=recipient, due_at=now,
                assessment_id=aid, item_id=None, payload=payload)

    release = assessment.release_channel_id
    if release and outcome.became_blocker:
        add(f"review:{aid}:{item}:{rev}:blocker", BLOCKER_ALERT, release, snapshot)
    if release and outcome.cleared_blocker:
        add(f"review:{aid}:{item}:{rev}:cleared", BLOCKER_CLEARED, release, snapshot)
    if outcome.change == DUE_CHANGE and assessment.channel_id and assessment.thread_ts:
        was = outcome.previous.due if outcome.previous is not None else None
        add(f"review:{aid}:{item}:{rev}:due", DUE_MOVED, assessment.channel_id,
            {**snapshot, "thread_ts": assessment.thread_ts, "was": was.isoformat() if was else None,
             "requested_by": requested_by})
    owner = new_owner(outcome)
    if owner and owner != actor:  # nobody is told of their own action
        add(f"review:{aid}:{item}:{rev}:owner:{owner}", OWNER_ASSIGNED, owner, snapshot)
    if outcome.voided:
        targets = [(assessment.channel_id, assessment.thread_ts, "thread")] if assessment.thread_ts else []
        if assessment.signoff_channel:
            targets.append((assessment.signoff_channel, None, "card"))
        for channel, thread_ts, where in targets:
            if channel:
                add(f"review:{aid}:voided:{item}:{rev}:{where}", APPROVALS_VOIDED, channel,
                    {**snapshot, "thread_ts": thread_ts, "voided": outcome.voided})
    if outcome.completed and assessment.channel_id and assessment.thread_ts:
        same = release == assessment.channel_id
        add(f"review:{aid}:result:{item}:{rev}:thread", RESULT, assessment.channel_id,
            {"thread_ts": assessment.thread_ts, "broadcast": same})
        if release and not same:
            add(f"review:{aid}:result:{item}:{rev}:channel", RESULT, release, {})


def enqueue_signoff_outcome(session: Session, assessment: Assessment, outcome: str) -> None:
    """Tell the release channel and the thread how the sign-off ended, once per set of decisions."""
    now = db_now(session)
    decided = ",".join(str(i) for i in session.scalars(select(Approval.id).where(
        Approval.assessment_id == assessment.id, Approval.voided_at.is_(None)).order_by(Approval.id)))
    where = [(assessment.signoff_channel or assessment.release_channel_id, None, "channel")]
    if assessment.channel_id and assessment.thread_ts:
        where.append((assessment.channel_id, assessment.thread_ts, "thread"))
    for channel, thread_ts, label in where:
        if channel:
            enqueue(session, assessment.team_id, dedupe_key=f"signoff:{assessment.id}:{outcome}:{label}:{decided}",
                    kind=SIGNOFF_OUTCOME, recipient=channel, due_at=now, assessment_id=assessment.id,
                    payload={"outcome": outcome, "thread_ts": thread_ts})


def enqueue_evidence_suggestions(session: Session, assessment: Assessment, evidence_id: int,
                                 payload: dict[str, object]) -> None:
    """What a new evidence set suggests, posted once in the review's thread (found at delivery)."""
    if not assessment.channel_id:
        return
    enqueue(session, assessment.team_id, dedupe_key=f"evidence:{assessment.id}:{evidence_id}:suggestions",
            kind=EVIDENCE_SUGGESTIONS, recipient=assessment.channel_id, due_at=db_now(session),
            assessment_id=assessment.id, payload=payload)


def failed_key(row_id: int, person: str, revival: int = 0) -> str:
    """The dedupe key of the notice that row ``row_id`` failed, to ``person``: one per failure, so a message that
    fails again after *Post it again* (its ``revival``-th) is told again, never dropped as already told."""
    first = f"failed:{row_id}:{person}"
    return first if revival == 0 else f"{first}:again{revival}"


def enqueue_delivery_failed(session: Session, team_id: str, row_id: int, kind: str, assessment_id: int | None,
                            channel: str, error: str, *, to_admins: bool, revival: int = 0,
                            maybe_posted: bool = False) -> None:
    """Tell the person who can fix it that a message was refused for good: the review's release lead, or the
    workspace's Readiness admins for a problem of the installation (the lead when there are none). ``revival``:
    how many times someone pressed *Post it again* on this row before it failed this time; ``maybe_posted``: its
    answer was lost and the channel's history cannot be read, so it may be in Slack already."""
    lead = session.scalar(select(Assessment.started_by).where(
        Assessment.team_id == team_id, Assessment.id == assessment_id)) if assessment_id is not None else None
    admins: list[str] = []
    if to_admins or lead is None:
        config = session.scalar(select(WorkspaceConfig).where(WorkspaceConfig.team_id == team_id))
        admins = list(config.admins or []) if config is not None else []
    payload: dict[str, object] = {"row": row_id, "kind": kind, "channel": channel, "error": error}
    if maybe_posted:
        payload["maybe_posted"] = True
    for person in dict.fromkeys(admins or ([lead] if lead else [])):
        enqueue(session, team_id, dedupe_key=failed_key(row_id, person, revival), kind=DELIVERY_FAILED,
                recipient=person, due_at=db_now(session), assessment_id=assessment_id, payload=payload)
