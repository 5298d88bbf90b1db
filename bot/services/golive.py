"""Go-live: record the rollout and its monitoring plan, then watch the first week day by day."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.evidence import Breach, Direction, EvidenceSet, Kind, WatchRule, lookup, watch_breaches
from bot.core.reminder_plan import ReminderPolicy, end_of_working_day, zone
from bot.db import db_now
from bot.services import audit, config, signoff, surfaces
from bot.services.assessments import get_assessment
from bot.services.errors import ServiceError
from bot.services.notices import WATCH_BREACH
from bot.services.outbox import enqueue
from bot.services.people import timezone_of
from models import Assessment, GoLive, OutboxMessage, WatchCheckin

WATCH_DAYS = 7
CHECKIN, NUDGE, SUMMARY, ISSUE = "watch_checkin", "watch_nudge", "watch_summary", "watch_issue"
WATCH_KINDS = (CHECKIN, NUDGE, SUMMARY, ISSUE)
BREACH = WATCH_BREACH  # evidence during the watch crossed a watch-list threshold (composed on its own)
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
        else:
            bad = watch_rules(self.watch_items)[1]
            if bad:
                problems["watch_items"] = " ".join(bad)
        return problems


# -- watch-list lines that name a metric and a threshold ------------------------------------------

_RULE = re.compile(r"^(?P<metric>\S+)\s*(?P<op>>=|<=|≥|≤)\s*(?P<value>[0-9]*\.?[0-9]+)\s*(?P<unit>%|ms|s)?$")


def watch_rule(line: str) -> WatchRule | None:
    """``task_success_rate >= 0.90`` or ``latency_p95_end_to_end <= 2500``: a rule; other lines: None.

    A line whose first word is followed by ``>=`` or ``<=`` must be a rule; ValueError says what is wrong.
    Rates take a fraction or a percentage (90%); latencies take ms (the default) or s.
    """
    text = line.strip()
    if not re.match(r"^\S+\s*(>=|<=|≥|≤)", text):
        return None
    found = _RULE.match(text)
    if found is None:
        raise ValueError(f"“{text}”: write a metric, >= or <=, and a number, e.g. task_success_rate >= 0.90.")
    metric, op, unit = found["metric"], found["op"], found["unit"]
    spec = lookup(metric)
    if spec is None:
        raise ValueError(f"“{text}”: {metric} is not a known metric (check the spelling).")
    direction = Direction.HIGHER if op in (">=", "≥") else Direction.LOWER
    if direction is not spec.direction:
        better = ">=" if spec.direction is Direction.HIGHER else "<="
        raise ValueError(f"“{text}”: {spec.direction.value} is better for {metric}, so write "
                         f"{metric} {better} {found['value']}{unit or ''}.")
    value = float(found["value"])
    if spec.kind is Kind.RATE:
        value = value / 100 if unit == "%" else value
        if unit in ("ms", "s") or not 0 <= value <= 1:
            raise ValueError(f"“{text}”: {metric} is a rate: give a fraction from 0 to 1, or a percentage.")
    elif spec.kind is Kind.LATENCY:
        if unit == "%":
            raise ValueError(f"“{text}”: {metric} is a latency: give milliseconds (or seconds with s).")
        value = value * 1000 if unit == "s" else value
    return WatchRule(metric=metric, threshold=value, direction=direction)


def watch_rules(items: list[str]) -> tuple[list[WatchRule], list[str]]:
    """The rules among the watch-list lines, and what is wrong with the lines that fail to be one."""
    rules: list[WatchRule] = []
    problems: list[str] = []
    for line in items:
        try:
            rule = watch_rule(line)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if rule is not None:
            rules.append(rule)
    return rules, problems


def rule_text(rule: dict[str, Any]) -> str:
    op = ">=" if rule.get("direction") == Direction.HIGHER.value else "<="
    return f"{rule.get('metric')} {op} {float(rule.get('threshold', 0)):g}"


def checkin_time(golive: GoLive, day: int, tz: str | None, policy: ReminderPolicy) -> datetime:
    """Day ``day`` (1..7) of the watch is the ``day``-th working day after the go-live, at the window's start,
    escalation-owner-local: nobody is asked on a day off, and the nudge waits for a working day too."""
    local_day = golive.started_at.astimezone(zone(tz)).date()
    counted = 0
    while counted < day:
        local_day += timedelta(days=1)
        counted += local_day.weekday() in policy.working_days
    moment = datetime.combine(local_day, policy.window_start, tzinfo=zone(tz))
    return moment.astimezone(golive.started_at.tzinfo)


def golive_refusal(session: Session, team_id: str, assessment_id: int, outcome: str | None = None) -> str | None:
    """Why the go-live cannot be recorded: it already is, or the sign-off is not approved and the workspace
    does not allow going live before it. None when it can."""
    if session.scalar(select(GoLive.id).where(GoLive.team_id == team_id, GoLive.assessment_id == assessment_id)):
        return f"The go-live of review #{assessment_id} is already recorded."
    if outcome is None:
        outcome = signoff.state(session, team_id, assessment_id).outcome
    if outcome in ("approved", "approved-staged") or config.get(session, team_id).golive_without_signoff:
        return None
    said = "was rejected" if outcome == "rejected" else "is not approved yet"
    return (f"The sign-off of review #{assessment_id} {said}, so its go-live cannot be recorded. "
            "(A workspace admin can allow go-live before sign-off in `/readiness config`.)")


def record_golive(session: Session, team_id: str, assessment_id: int, *, actor: str, plan: MonitoringPlan,
                  now: datetime, policy: ReminderPolicy) -> GoLive:
    problems = plan.errors()
    if problems:
        raise ServiceError(" ".join(problems.values()))
    assessment = get_assessment(session, team_id, assessment_id)
    if assessment.status == "closed":
        raise ServiceError(f"Review #{assessment_id} is closed.")
    if not assessment.release_channel_id:
        raise ServiceError(f"Review #{assessment_id} has no release channel to watch in.")
    outcome = signoff.state(session, team_id, assessment_id).outcome
    refused = golive_refusal(session, team_id, assessment_id, outcome)
    if refused:
        raise ServiceError(refused)
    golive = GoLive(team_id=team_id, assessment_id=assessment_id, started_at=now, started_by=actor,
                    alerts=plan.alerts.strip(), cadence=plan.cadence.strip(), escalation_owner=plan.escalation_owner,
                    watch_items=plan.watch_items, days=WATCH_DAYS, channel_id=assessment.release_channel_id,
                    watch_rules=[r.model_dump(mode="json") for r in watch_rules(plan.watch_items)[0]])
    session.add(golive)
    before = assessment.status
    assessment.status = "live"
    session.flush()
    plan_watch(session, golive, policy)
    audit.record(session, team_id, "golive.recorded", actor=actor, assessment_id=assessment_id,
                 before={"status": before},
                 after={"status": "live", "alerts": golive.alerts, "cadence": golive.cadence,
                        "escalation_owner": golive.escalation_owner, "watch_items": golive.watch_items,
                        "watch_rules": golive.watch_rules, "signoff": outcome})
    surfaces.changed(session, assessment)
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
    return session.scalar(
        select(Assessment.id)
        .where(Assessment.team_id == team_id, Assessment.channel_id == channel_id, Assessment.status != "closed")
        .order_by(Assessment.id.desc())
        .limit(1)
    )


# -- evidence pushed during the watch ---------------------------------------------------------------

MAX_BREACHES = 40  # listed in one alert; the rest are counted


def breach_key(breach: Breach) -> str:
    raw = f"{breach.cohort}|{breach.metric}|{breach.threshold!r}|{breach.direction.value}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def watched_golive(session: Session, team_id: str, system: str, version: str, now: datetime) -> GoLive | None:
    """The go-live of this version whose watch runs now, if it has metric rules and its review is not closed."""
    golive = session.scalar(
        select(GoLive).join(Assessment, Assessment.id == GoLive.assessment_id)
        .where(GoLive.team_id == team_id, Assessment.team_id == team_id, Assessment.system == system,
               Assessment.version == version, Assessment.status != "closed")
        .order_by(GoLive.id.desc()).limit(1).with_for_update(of=GoLive))  # alerts of one watch, one at a time
    if golive is None or not golive.watch_rules:
        return None
    if not golive.started_at <= now < golive.started_at + timedelta(days=golive.days):
        return None
    return golive


def _alerted(session: Session, golive: GoLive) -> set[str]:
    payloads = session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.team_id == golive.team_id, OutboxMessage.kind == BREACH,
        OutboxMessage.dedupe_key.like(f"breach:{golive.id}:%")))
    return {key for payload in payloads for key in (payload or {}).get("keys", [])}


def check_evidence(session: Session, team_id: str, evidence: EvidenceSet, evidence_id: int, now: datetime) -> int:
    """Check a set pushed during the watch against the metric rules; queue an alert of the breaches not
    alerted before, to the release channel and the escalation owner. Returns how many are new."""
    golive = watched_golive(session, team_id, evidence.system, evidence.version, now)
    if golive is None:
        return 0
    rules = [WatchRule.model_validate(r) for r in golive.watch_rules]
    seen = _alerted(session, golive)
    new = [b for b in watch_breaches(rules, evidence) if breach_key(b) not in seen]
    if not new:
        return 0
    payload = {"golive": golive.id, "evidence": evidence_id, "keys": [breach_key(b) for b in new],
               "count": len(new), "breaches": [b.model_dump(mode="json") for b in new[:MAX_BREACHES]]}
    for recipient in dict.fromkeys((golive.channel_id, golive.escalation_owner)):
        enqueue(session, team_id, dedupe_key=f"breach:{golive.id}:{evidence_id}:{recipient}", kind=BREACH,
                recipient=recipient, due_at=db_now(session), assessment_id=golive.assessment_id, payload=payload)
    audit.record(session, team_id, "watch.breach", actor="evidence", assessment_id=golive.assessment_id,
                 subject=f"{evidence.system} {evidence.version}",
                 after={"evidence_id": evidence_id, "breaches": len(new)})
    return len(new)

