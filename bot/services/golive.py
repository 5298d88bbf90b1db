"""Go-live: record the rollout and its monitoring plan, then watch the first week day by day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reminder_plan import ReminderPolicy, end_of_working_day, zone
from bot.services import audit
from bot.services.assessments import get_assessment
from bot.services.errors import ServiceError
from bot.services.outbox import enqueue
from bot.services.reminders import timezone_of
from models import GoLive, WatchCheckin

WATCH_DAYS = 7
CHECKIN, NUDGE, SUMMARY, ISSUE = "watch_checkin", "watch_nudge", "watch_summary", "watch_issue"
WATCH_KINDS = (CHECKIN, NUDGE, SUMMARY, ISSUE)
CLEAR, ISSUE_FOUND = "clear", "issue"


@dataclass(frozen=True)
class MonitoringPlan:
    alerts: str
    cadence: str
    escalation_owner: str
    watch_items: list[str] = field(default_factory=list)

    def errors(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not self.alerts.strip():
            problems["alerts"] = "Name the alerts that matter during the first week."
        if not self.cadence.strip():
            problems["cadence"] = "Say how often the rollout is reviewed."
        if not self.escalation_owner:
            problems["escalation_owner"] = "Pick the person who owns escalations."
        if not self.watch_items:
            problems["watch_items"] = "List at least one thing to watch, one per line."
        elif len(self.watch_items) > 20:
            problems["watch_items"] = "Keep the watch list to 20 lines."
        return problems


def checkin_time(golive: GoLive, day: int, tz: str | None, policy: ReminderPolicy) -> datetime:
    """Day ``day`` (1..7) of the watch starts at the window's start, owner-local, every calendar day."""
    local_start = golive.started_at.astimezone(zone(tz)).date() + timedelta(days=day)
    moment = datetime.combine(local_start, policy.window_start, tzinfo=zone(tz))
    return moment.astimezone(golive.started_at.tzinfo)


def record_golive(session: Session, team_id: str, assessment_id: int, *, actor: str, plan: MonitoringPlan,
                  now: datetime, policy: ReminderPolicy) -> GoLive:
    problems = plan.errors()
    if problems:
        raise ServiceError(" ".join(problems.values()))
    assessment = get_assessment(session, team_id, assessment_id)
    if assessment.status == "closed":
        raise ServiceError(f"Review #{assessment_id} is closed.")
    if session.scalar(select(GoLive.id).where(GoLive.team_id == team_id, GoLive.assessment_id == assessment_id)):
        raise ServiceError(f"The go-live of review #{assessment_id} is already recorded.")
    if not assessment.release_channel_id:
        raise ServiceError(f"Review #{assessment_id} has no release channel to watch in.")
    golive = GoLive(team_id=team_id, assessment_id=assessment_id, started_at=now, started_by=actor,
                    alerts=plan.alerts.strip(), cadence=plan.cadence.strip(), escalation_owner=plan.escalation_owner,
                    watch_items=plan.watch_items, days=WATCH_DAYS, channel_id=assessment.release_channel_id)
    session.add(golive)
    before = assessment.status
    assessment.status = "live"
    session.flush()
    plan_watch(session, golive, policy)
    audit.record(session, team_id, "golive.recorded", actor=actor, assessment_id=assessment_id,
                 before={"status": before},
                 after={"status": "live", "alerts": golive.alerts, "cadence": golive.cadence,
                        "escalation_owner": golive.escalation_owner, "watch_items": golive.watch_items})
    return golive


def plan_watch(session: Session, golive: GoLive, policy: ReminderPolicy) -> None:
    """The week's outbox rows: a check-in each day, a nudge at the end of the owner's day, a summary."""
    tz = timezone_of(session, golive.team_id, golive.escalation_owner)
    base = {"golive": golive.id}
    for day in range(1, golive.days + 1):
        at = checkin_time(golive, day, tz, policy)
        local_day = at.astimezone(zone(tz)).date()
        enqueue(session, golive.team_id, dedupe_key=f"watch:{golive.id}:checkin:{day}", kind=CHECKIN,
                recipient=golive.channel_id, due_at=at, assessment_id=golive.assessment_id,
                payload={**base, "day": day})
        enqueue(session, golive.team_id, dedupe_key=f"watch:{golive.id}:nudge:{day}", kind=NUDGE,
                recipient=golive.escalation_owner, due_at=end_of_working_day(local_day, tz, policy),
                assessment_id=golive.assessment_id, payload={**base, "day": day})
    last = checkin_time(golive, golive.days, tz, policy).astimezone(zone(tz)).date()
    enqueue(session, golive.team_id, dedupe_key=f"watch:{golive.id}:summary", kind=SUMMARY,
            recipient=golive.channel_id, due_at=end_of_working_day(last, tz, policy) + timedelta(minutes=1),
            assessment_id=golive.assessment_id, payload=base)


def golive_of(session: Session, team_id: str, golive_id: int) -> GoLive:
    golive = session.scalar(select(GoLive).where(GoLive.team_id == team_id, GoLive.id == golive_id))
    if golive is None:
        raise ServiceError(f"There is no go-live #{golive_id} in this workspace.")
    return golive


def answers(session: Session, golive: GoLive, day: int | None = None) -> list[WatchCheckin]:
    query = select(WatchCheckin).where(WatchCheckin.team_id == golive.team_id, WatchCheckin.golive_id == golive.id)
    if day is not None:
        query = query.where(WatchCheckin.day == day)
    return list(session.scalars(query.order_by(WatchCheckin.day, WatchCheckin.id)))


def answer_checkin(session: Session, team_id: str, golive_id: int, day: int, *, user: str, answer: str,
                   now: datetime, description: str | None = None, link: str | None = None) -> WatchCheckin | None:
    """Record an answer. "All clear" twice by the same person on the same day is one answer."""
    golive = golive_of(session, team_id, golive_id)
    if not 1 <= day <= golive.days:
        raise ServiceError(f"Day {day} is not part of this watch.")
    if answer == ISSUE_FOUND and not (description or "").strip():
        raise ServiceError("Describe the issue.")
    if answer == CLEAR and any(a.user_id == user and a.answer == CLEAR for a in answers(session, golive, day)):
        return None
    checkin = WatchCheckin(team_id=team_id, golive_id=golive.id, day=day, user_id=user, answer=answer,
                           description=(description or "").strip() or None, link=(link or "").strip() or None,
                           answered_at=now)
    session.add(checkin)
    session.flush()
    if answer == ISSUE_FOUND:
        enqueue(session, team_id, dedupe_key=f"watch:{golive.id}:issue:{checkin.id}", kind=ISSUE,
                recipient=golive.channel_id, due_at=now, assessment_id=golive.assessment_id,
                payload={"golive": golive.id, "day": day, "checkin": checkin.id})
    return checkin



def set_thread(session: Session, team_id: str, golive_id: int, thread_ts: str) -> None:
    golive_of(session, team_id, golive_id).thread_ts = thread_ts


def latest_in_channel(session: Session, team_id: str, channel_id: str) -> int | None:
    from models import Assessment

    return session.scalar(
        select(Assessment.id)
        .where(Assessment.team_id == team_id, Assessment.channel_id == channel_id, Assessment.status != "closed")
        .order_by(Assessment.id.desc())
        .limit(1)
    )
