"""Waivers: the named policy approver lets a blocker pass for a limited time, with a reason.

A waived blocker stops forcing no-go while the waiver holds. When it ends (at its expiry, or early when
its item is re-marked) the blocker is back, the approvals given while it held are voided, and the release
channel is told through the outbox, so the notice is sent once and never lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import db_now
from bot.services import audit, surfaces
from bot.services.assessments import (
    OPEN_STATUSES,
    current_marks,
    get_assessment,
    live_scorecard,
    live_waivers,
)
from bot.services.errors import ServiceError, mention
from bot.services.notices import WAIVER_ENDED, WAIVER_GRANTED
from bot.services.outbox import enqueue
from bot.services.signoff import void_since
from models import Approver, Assessment, Waiver, WorkspaceConfig

POLICY_ROLE = "policy"
DEFAULT_MAX_DAYS = 14
MAX_REASON = 1000


def max_days(session: Session, team_id: str) -> int:
    config = session.scalar(select(WorkspaceConfig).where(WorkspaceConfig.team_id == team_id))
    return config.waiver_max_days if config is not None and config.waiver_max_days else DEFAULT_MAX_DAYS


def expiry_moment(expires_on: date) -> datetime:
    """A waiver holds through its expiry date (UTC) and ends when the next day starts."""
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=UTC)


def policy_approver(session: Session, assessment: Assessment) -> str | None:
    return session.scalar(select(Approver.user_id).where(
        Approver.team_id == assessment.team_id, Approver.assessment_id == assessment.id,
        Approver.role == POLICY_ROLE))


def check_waiver(session: Session, assessment: Assessment, user: str) -> list[str]:
    """The blockers ``user`` may waive on this review now; raises with the reason when none."""
    if assessment.status not in OPEN_STATUSES:
        raise ServiceError(f"Review #{assessment.id} is {assessment.status}: nothing can be waived.")
    approver = policy_approver(session, assessment)
    if approver is None:
        raise ServiceError(f"Review #{assessment.id} has no named {POLICY_ROLE} approver: request sign-off first.")
    if approver != user:
        raise ServiceError("Only ", mention(approver), f", the named {POLICY_ROLE} approver, can waive a blocker.")
    blockers = live_scorecard(session, assessment).blockers
    if not blockers:
        raise ServiceError(f"Review #{assessment.id} has no blocker to waive.")
    return list(blockers)


def grant(session: Session, team_id: str, assessment_id: int, item_id: str, *, user: str, reason: str | None,
          expires_on: date | None, now: datetime) -> Waiver:
    """Waive one blocker until ``expires_on``. Every rule is checked first; a refusal changes nothing."""
    assessment = get_assessment(session, team_id, assessment_id, lock=True)
    blockers = check_waiver(session, assessment, user)
    errors: dict[str, str] = {}
    if item_id not in blockers:
        errors["item"] = f"{item_id} is not an open blocker of review #{assessment.id}."
    elif current_marks(session, assessment)[item_id].owner == user:
        errors["item"] = f"You own {item_id}: its waiver must come from a policy approver who does not."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the rollout may go ahead with this blocker."
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"The reason is limited to {MAX_REASON} characters."
    limit = max_days(session, team_id)
    today = now.astimezone(UTC).date()
    if expires_on is None:
        errors["expires"] = "Pick the day the waiver ends."
    elif expires_on < today:
        errors["expires"] = "The waiver cannot end in the past."
    elif expires_on > today + timedelta(days=limit):
        errors["expires"] = (f"A waiver lasts at most {limit} days: pick {today + timedelta(days=limit)} "
                             "or earlier.")
    if errors:
        raise WaiverRefused(errors)
    assert expires_on is not None
    waiver = Waiver(team_id=team_id, assessment_id=assessment.id, item_id=item_id, granted_by=user, reason=reason,
                    granted_at=now, expires_at=expiry_moment(expires_on))
    session.add(waiver)
    session.flush()
    voided = void_since(session, assessment, f"{item_id} was waived after the decision", user)
    audit.record(session, team_id, "waiver.granted", actor=user, assessment_id=assessment.id, subject=item_id,
                 after={"waiver": waiver.id, "reason": reason, "expires_at": waiver.expires_at.isoformat(),
                        "voided_approvals": voided})
    _notify(session, assessment, waiver, WAIVER_GRANTED, now, voided)
    surfaces.changed(session, assessment)
    return waiver


class WaiverRefused(ServiceError):
    """Field-by-field reasons a waiver was refused (keys: item, reason, expires)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def end_on_remark(session: Session, assessment: Assessment, item_id: str, *, actor: str, now: datetime) -> None:
    """A re-marked item loses its waiver: the waiver covered the mark it was given for. The release
    channel and the thread are told (the mark's own notices say what the new mark is)."""
    for waiver in live_waivers(session, assessment, now):
        if waiver.item_id == item_id:
            _end(session, assessment, waiver, now, "re-marked", actor)
            _notify(session, assessment, waiver, WAIVER_ENDED, now, 0)


def end_on_close(session: Session, assessment: Assessment, *, actor: str, now: datetime) -> None:
    """A closed review is frozen: its waivers end with it, quietly (the close is announced)."""
    for waiver in live_waivers(session, assessment, now):
        _end(session, assessment, waiver, now, "closed", actor)


def _end(session: Session, assessment: Assessment, waiver: Waiver, now: datetime, why: str, actor: str) -> None:
    waiver.ended_at, waiver.end_reason = now, why
    audit.record(session, assessment.team_id, "waiver.ended", actor=actor, assessment_id=assessment.id,
                 subject=waiver.item_id, after={"waiver": waiver.id, "why": why})
    surfaces.changed(session, assessment)


def expire_due(session: Session, now: datetime, assessment_id: int | None = None) -> list[tuple[str, int]]:
    """End every waiver whose time is up: void the approvals that relied on it, tell the release channel.
    Returns the reviews concerned (workspace, id).

    Safe to run on any replica at any time: a row is ended once (locked, then flagged) and its notices
    carry dedupe keys.
    """
    # lapsed waivers first (their index), each checked against its review: never every open review read
    in_open_review = select(Assessment.id).where(Assessment.id == Waiver.assessment_id,
                                                 Assessment.status != "closed").exists()
    query = select(Waiver).where(Waiver.ended_at.is_(None), Waiver.expires_at <= now, in_open_review)
    if assessment_id is not None:
        query = query.where(Waiver.assessment_id == assessment_id)
    ended: list[tuple[str, int]] = []
    for waiver in session.scalars(query.order_by(Waiver.id).with_for_update(skip_locked=True, of=Waiver)).all():
        assessment = session.get(Assessment, waiver.assessment_id)
        if assessment is None:
            continue
        waiver.ended_at, waiver.end_reason = waiver.expires_at, "expired"
        voided = void_since(session, assessment, f"the waiver of {waiver.item_id} expired", "readiness",
                            since=waiver.granted_at)
        audit.record(session, waiver.team_id, "waiver.expired", actor="readiness", assessment_id=assessment.id,
                     subject=waiver.item_id, before={"waiver": waiver.id, "expires_at": waiver.expires_at.isoformat()},
                     after={"voided_approvals": voided,
                            "verdict": live_scorecard(session, assessment).verdict.value})
        _notify(session, assessment, waiver, WAIVER_ENDED, now, voided)
        ended.append((assessment.team_id, assessment.id))
    return sorted(set(ended))


def _notify(session: Session, assessment: Assessment, waiver: Waiver, kind: str, now: datetime,
            voided: int) -> None:
    """The release channel (under the sign-off card when there is one) and the review's thread."""
    payload = {"waiver": waiver.id, "item": waiver.item_id, "voided": voided}
    targets = []
    release = assessment.signoff_channel or assessment.release_channel_id
    if release:
        thread = assessment.signoff_ts if assessment.signoff_channel == release else None
        targets.append((release, thread, "channel"))
    if assessment.channel_id and assessment.thread_ts and assessment.channel_id != release:
        targets.append((assessment.channel_id, assessment.thread_ts, "thread"))
    for channel, thread_ts, where in targets:
        enqueue(session, assessment.team_id, dedupe_key=f"waiver:{waiver.id}:{kind}:{where}", kind=kind,
                recipient=channel, due_at=db_now(session), assessment_id=assessment.id,
                payload={**payload, "thread_ts": thread_ts, "broadcast": bool(thread_ts) and where == "channel"})
