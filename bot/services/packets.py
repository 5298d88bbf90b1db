"""The minimum rollout packet: its inputs entered in Slack (trace examples, the rollout plan), the packet
built from the database or from an assessment file, each generated packet stored, and its signed link."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.assessment_file import AssessmentFile
from bot.core.checklist import Checklist, Mark
from bot.core.marking import DUE_CHANGE, OWNER_CHANGE, change_kind
from bot.core.packet import render_html, render_markdown, sign_packet_link
from bot.core.packet.assemble import Side, assemble, trace
from bot.core.packet.model import (
    ApproverEntry,
    Checkin,
    CheckinDay,
    Decision,
    DecisionEvent,
    DecisionKind,
    History,
    MarkChangeEvent,
    MonitoringPlan,
    Packet,
    PersonRef,
    TraceExample,
    Waiver,
    person,
)
from bot.core.packet.render import safe_href
from bot.core.scoring import MarkEntry
from bot.services import audit, evidence, people, signoff
from bot.services.assessments import (
    checklist_of,
    current_marks,
    get_assessment,
    live_waivers,
    waived_items,
)
from bot.services.errors import ServiceError, mention
from bot.services.golive import CHECKIN as WATCH_CHECKIN
from bot.settings import Settings
from models import (
    Approval,
    Approver,
    Assessment,
    GoLive,
    MarkChange,
    OutboxMessage,
    PacketRecord,
    RolloutPlan,
    WatchCheckin,
)
from models import TraceExample as TraceRow
from models import Waiver as WaiverRow
from models.outbox import CANCELLED, SENT
from models.packet import TRACE_KINDS

MAX_DESCRIPTION = 300
MAX_PLAN_TEXT = 3000
MAX_TRACES = 30
LINK_KEY_LABEL = b"readiness packet links"
Names = Mapping[str, str] | None


class InputRefused(ServiceError):
    """Field-by-field reasons an input was refused (keys name the fields)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


# Trace examples and the rollout plan ---------------------------------------------------------------


def trace_errors(kind: str | None, url: str | None, description: str | None) -> dict[str, str]:
    """What is wrong with a trace example (keys: kind, url, description); empty when it is fine."""
    errors: dict[str, str] = {}
    if kind not in TRACE_KINDS:
        errors["kind"] = "Pick the kind of path: good, bad or escalation."
    if not url:
        errors["url"] = "Paste the link to the trace."
    elif len(url) > 2000 or safe_href(url) is None:
        errors["url"] = "Use an http or https link (at most 2,000 characters, no spaces)."
    text = (description or "").strip()
    if not text:
        errors["description"] = "Say in a few words what the trace shows."
    elif len(text) > MAX_DESCRIPTION:
        errors["description"] = f"Keep the description under {MAX_DESCRIPTION} characters."
    return errors


def _open_for_input(session: Session, team_id: str, assessment_id: int) -> Assessment:
    assessment = get_assessment(session, team_id, assessment_id, lock=True)
    if assessment.status == "closed":
        raise ServiceError(f"Review #{assessment_id} is closed: its packet inputs are frozen.")
    return assessment


def add_trace(session: Session, team_id: str, assessment_id: int, *, kind: str, url: str, description: str,
              actor: str, now: datetime) -> TraceRow:
    errors = trace_errors(kind, url, description)
    if errors:
        raise InputRefused(errors)
    assessment = _open_for_input(session, team_id, assessment_id)
    count = len(traces_of(session, assessment))
    if count >= MAX_TRACES:
        raise ServiceError(f"Review #{assessment_id} already has {MAX_TRACES} trace examples.")
    row = TraceRow(team_id=team_id, assessment_id=assessment.id, kind=kind, url=url.strip(),
                   description=description.strip(), added_by=actor, added_at=now)
    session.add(row)
    session.flush()
    audit.record(session, team_id, "trace.added", actor=actor, assessment_id=assessment.id, subject=kind,
                 after={"trace": row.id, "kind": kind, "url": row.url, "description": row.description})
    return row


def traces_of(session: Session, assessment: Assessment) -> list[TraceRow]:
    return list(session.scalars(select(TraceRow).where(
        TraceRow.team_id == assessment.team_id, TraceRow.assessment_id == assessment.id).order_by(TraceRow.id)))


def plan_of(session: Session, assessment: Assessment) -> RolloutPlan | None:
    return session.scalar(select(RolloutPlan).where(
        RolloutPlan.team_id == assessment.team_id, RolloutPlan.assessment_id == assessment.id))


def planners(session: Session, assessment: Assessment) -> set[str]:
    """Who may write the rollout plan: the review's release lead and its named approvers."""
    named = session.scalars(select(Approver.user_id).where(
        Approver.team_id == assessment.team_id, Approver.assessment_id == assessment.id))
    return {assessment.started_by, *named}


def check_planner(session: Session, assessment: Assessment, user: str) -> None:
    if user not in planners(session, assessment):
        raise ServiceError(f"Only the release lead of review #{assessment.id}, ", mention(assessment.started_by),
                           ", or one of its named approvers can write the rollout plan.")


def plan_errors(staged_rollout: str | None, rollback: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, value, missing in (("staged_rollout", staged_rollout, "Describe the stages of the rollout."),
                                ("rollback", rollback, "List the steps to roll back.")):
        text = (value or "").strip()
        if not text:
            errors[key] = missing
        elif len(text) > MAX_PLAN_TEXT:
            errors[key] = f"Keep this under {MAX_PLAN_TEXT:,} characters."
    return errors


def save_plan(session: Session, team_id: str, assessment_id: int, *, staged_rollout: str, rollback: str,
              actor: str, now: datetime) -> RolloutPlan:
    """Write (or rewrite) the review's staged rollout path and rollback steps."""
    errors = plan_errors(staged_rollout, rollback)
    if errors:
        raise InputRefused(errors)
    assessment = _open_for_input(session, team_id, assessment_id)  # locked: one writer at a time
    check_planner(session, assessment, actor)
    plan = plan_of(session, assessment)
    before = None if plan is None else {"staged_rollout": plan.staged_rollout, "rollback": plan.rollback}
    if plan is None:
        plan = RolloutPlan(team_id=team_id, assessment_id=assessment.id, staged_rollout="", rollback="",
                           updated_by=actor)
        session.add(plan)
    plan.staged_rollout, plan.rollback = staged_rollout.strip(), rollback.strip()
    plan.updated_by, plan.updated_at = actor, now
    session.flush()
    audit.record(session, team_id, "rollout.planned", actor=actor, assessment_id=assessment.id, before=before,
                 after={"staged_rollout": plan.staged_rollout, "rollback": plan.rollback})
    return plan


# The packet from the database --------------------------------------------------------------------


def _side(session: Session, assessment: Assessment, now: datetime) -> Side:
    return Side(checklist_of(session, assessment), current_marks(session, assessment), assessment.version,
                frozenset(waived_items(session, assessment, now)))


def _baseline(session: Session, assessment: Assessment, now: datetime) -> Side | None:
    if assessment.baseline_id is None:
        return None
    baseline = session.get(Assessment, assessment.baseline_id)
    if baseline is None or baseline.team_id != assessment.team_id:
        return None
    return _side(session, baseline, now)


def _waivers(session: Session, assessment: Assessment, now: datetime, names: Names) -> dict[str, Waiver]:
    return {
        w.item_id: Waiver(item_id=w.item_id, granted_by=person(w.granted_by, names), expires_at=w.expires_at,
                          reason=w.reason, granted_at=w.granted_at)
        for w in live_waivers(session, assessment, now)
    }


def _approvers(session: Session, assessment: Assessment, names: Names) -> tuple[ApproverEntry, ...]:
    """The named approvers and their live decisions; nothing until sign-off has been requested."""
    state = signoff.state(session, assessment.team_id, assessment.id)
    if not any(r.approver for r in state.roles):
        return ()
    return tuple(
        ApproverEntry(role=r.role, approver=person(r.approver, names) if r.approver else None,
                      decision=Decision(r.decision) if r.decision else None, reason=r.reason,
                      decided_at=r.decided_at)
        for r in state.roles
    )


def _schedule(session: Session, golive: GoLive, now: datetime) -> tuple[CheckinDay, ...]:
    """Each day's check-in question as the outbox holds it: asked once posted or due (cancelled ones never were)."""
    rows = session.scalars(select(OutboxMessage).where(
        OutboxMessage.team_id == golive.team_id, OutboxMessage.assessment_id == golive.assessment_id,
        OutboxMessage.kind == WATCH_CHECKIN, OutboxMessage.status != CANCELLED))
    days = {}
    for row in rows:
        payload = row.payload or {}
        day = payload.get("day")
        if payload.get("golive") == golive.id and isinstance(day, int) and day >= 1:
            days[day] = CheckinDay(day=day, due_at=row.due_at, asked=row.status == SENT or row.due_at <= now)
    return tuple(days[d] for d in sorted(days))


def _monitoring(session: Session, assessment: Assessment, names: Names, now: datetime) -> MonitoringPlan | None:
    golive = session.scalar(select(GoLive).where(
        GoLive.team_id == assessment.team_id, GoLive.assessment_id == assessment.id).order_by(GoLive.id.desc()))
    if golive is None:
        return None
    answers = session.scalars(select(WatchCheckin).where(
        WatchCheckin.team_id == golive.team_id, WatchCheckin.golive_id == golive.id,
    ).order_by(WatchCheckin.day, WatchCheckin.answered_at, WatchCheckin.id))
    return MonitoringPlan(
        alerts=golive.alerts, cadence=golive.cadence,
        escalation_owner=person(golive.escalation_owner, names) if golive.escalation_owner else None,
        watch_items=tuple(golive.watch_items or ()), days=golive.days, started_at=golive.started_at,
        checkins=tuple(Checkin(day=a.day, by=person(a.user_id, names), answer=a.answer, text=a.description,
                               link=a.link, at=a.answered_at) for a in answers),
        schedule=_schedule(session, golive, now),
    )


def _mark_changes(session: Session, assessment: Assessment, names: Names) -> tuple[MarkChangeEvent, ...]:
    """Changes after an item's first mark (the first marks are the checklist result itself), each as what it
    was: a new mark, a new owner, a moved due date, or new details."""
    rows = session.scalars(select(MarkChange).where(
        MarkChange.team_id == assessment.team_id, MarkChange.assessment_id == assessment.id)
        .order_by(MarkChange.changed_at, MarkChange.id))
    last: dict[str, MarkEntry] = {}
    events = []
    for r in rows:
        entry = MarkEntry(mark=Mark(r.to_mark), evidence=r.evidence, owner=r.owner, due=r.due, note=r.note)
        previous = last.get(r.item_id)
        last[r.item_id] = entry
        if previous is None:
            continue
        kind = change_kind(previous, entry)
        was = now = None
        owners: dict[str, PersonRef | None] = {}
        if kind == OWNER_CHANGE:
            owners = {"was_owner": person(previous.owner, names) if previous.owner else None,
                      "now_owner": person(entry.owner, names) if entry.owner else None}
        elif kind == DUE_CHANGE:
            was, now = (d.isoformat() if d else "no date" for d in (previous.due, entry.due))
        events.append(MarkChangeEvent(at=r.changed_at, by=person(r.changed_by, names), item_id=r.item_id,
                                      before=previous.mark, after=entry.mark, reason=r.reason, change=kind,
                                      was=was, now=now, **owners))
    return tuple(events)


def _approval_events(approvals: list[Approval], names: Names) -> list[tuple[datetime, int, DecisionEvent]]:
    events = []
    for a in approvals:
        who = person(a.user_id, names)
        events.append((a.decided_at, a.id, DecisionEvent(at=a.decided_at, by=who, kind=DecisionKind(a.decision),
                                                         role=a.role, text=a.reason)))
        if a.voided_at is not None:
            events.append((a.voided_at, a.id, DecisionEvent(at=a.voided_at, by=who, kind=DecisionKind.VOID,
                                                            role=a.role, text=a.void_reason)))
    return events


def _waiver_events(session: Session, assessment: Assessment, waivers: list[WaiverRow],
                   names: Names) -> list[tuple[datetime, int, DecisionEvent]]:
    events = []
    for w in waivers:
        events.append((w.granted_at, w.id, DecisionEvent(at=w.granted_at, by=person(w.granted_by, names),
                                                         kind=DecisionKind.WAIVE, item_id=w.item_id, text=w.reason)))
        if w.ended_at is None:
            continue
        if w.end_reason == "expired":
            kind, actor = DecisionKind.WAIVER_EXPIRED, w.granted_by
        else:  # re-marked: the person who changed the mark ended it
            kind = DecisionKind.WAIVER_REMARKED
            actor = session.scalar(select(MarkChange.changed_by).where(
                MarkChange.team_id == assessment.team_id, MarkChange.assessment_id == assessment.id,
                MarkChange.item_id == w.item_id, MarkChange.changed_at == w.ended_at)) or w.granted_by
        events.append((w.ended_at, w.id, DecisionEvent(at=w.ended_at, by=person(actor, names), kind=kind,
                                                       item_id=w.item_id)))
    return events


def _decisions(session: Session, assessment: Assessment, names: Names) -> tuple[DecisionEvent, ...]:
    approvals = list(session.scalars(select(Approval).where(
        Approval.team_id == assessment.team_id, Approval.assessment_id == assessment.id).order_by(Approval.id)))
    waivers = list(session.scalars(select(WaiverRow).where(
        WaiverRow.team_id == assessment.team_id, WaiverRow.assessment_id == assessment.id).order_by(WaiverRow.id)))
    events = _approval_events(approvals, names) + _waiver_events(session, assessment, waivers, names)
    return tuple(e for _at, _id, e in sorted(events, key=lambda x: (x[0], x[1])))


def _traces(session: Session, assessment: Assessment, names: Names) -> list[TraceExample]:
    return [trace(t.kind, t.url, t.description, t.added_by, names) for t in traces_of(session, assessment)]


def build_packet(session: Session, team_id: str, assessment_id: int, *, today: date, now: datetime,
                 names: Names = None) -> Packet:
    """Everything the packet shows, read from the database as it stands at ``now``. People are shown by the
    names Slack gave for them (``people``, kept by the reconcile) unless ``names`` is given."""
    assessment = get_assessment(session, team_id, assessment_id)
    if names is None:
        names = people.names_in_review(session, assessment)
    plan = plan_of(session, assessment)
    return assemble(
        assessment.system,
        _side(session, assessment, now),
        today=today,
        now=now,
        baseline=_baseline(session, assessment, now),
        cohorts=list(assessment.cohorts or []),
        waivers=_waivers(session, assessment, now, names),
        traces=_traces(session, assessment, names),
        staged_rollout=plan.staged_rollout if plan else None,
        rollback=plan.rollback if plan else None,
        approvers=_approvers(session, assessment, names),
        monitoring=_monitoring(session, assessment, names, now),
        history=History(mark_changes=_mark_changes(session, assessment, names),
                        decisions=_decisions(session, assessment, names)),
        cohort=evidence.cohort_section(session, assessment),
        names=names,
    )


def packet_from_file(assessment_file: AssessmentFile, checklist: Checklist, *,
                     baseline_file: AssessmentFile | None = None, baseline_checklist: Checklist | None = None,
                     now: datetime, names: Names = None) -> Packet:
    """The packet of an assessment file (and its baseline file): marks, trace examples, rollout plan."""
    baseline = None
    if baseline_file is not None:
        baseline = Side(baseline_checklist or checklist, baseline_file.marks, baseline_file.version)
    return assemble(
        assessment_file.system,
        Side(checklist, assessment_file.marks, assessment_file.version),
        today=now.astimezone(UTC).date(),
        now=now,
        baseline=baseline,
        cohorts=assessment_file.cohorts,
        traces=[trace(t.kind, t.url, t.description, t.added_by, names) for t in assessment_file.traces],
        staged_rollout=assessment_file.rollout,
        rollback=assessment_file.rollback,
        names=names,
    )


# Generated packets and their links ---------------------------------------------------------------


def generate(session: Session, team_id: str, assessment_id: int, *, actor: str, now: datetime,
             names: Names = None) -> PacketRecord:
    """Render the packet as Markdown and HTML, keep both, and audit it."""
    packet = build_packet(session, team_id, assessment_id, today=now.astimezone(UTC).date(), now=now,
                          names=names)
    record = PacketRecord(team_id=team_id, assessment_id=assessment_id, content_hash=packet.content_hash,
                          markdown=render_markdown(packet), html=render_html(packet), generated_by=actor[:64],
                          generated_at=now)
    session.add(record)
    session.flush()
    audit.record(session, team_id, "packet.generated", actor=actor, assessment_id=assessment_id,
                 subject=str(record.id), after={"packet": record.id, "content_hash": record.content_hash,
                                                "missing_traces": [k.value for k in packet.missing_traces]})
    return record


def link_secret(settings: Settings) -> bytes:
    """PACKET_LINK_SECRET, or a key derived from SLACK_SIGNING_SECRET (never the signing secret itself)."""
    if settings.packet_link_secret is not None and settings.packet_link_secret.get_secret_value():
        return settings.packet_link_secret.get_secret_value().encode()
    if settings.slack_signing_secret is None or not settings.slack_signing_secret.get_secret_value():
        raise ServiceError("Packet links need PACKET_LINK_SECRET or SLACK_SIGNING_SECRET to be set.")
    signing = settings.slack_signing_secret.get_secret_value().encode()
    return hmac.new(signing, LINK_KEY_LABEL, hashlib.sha256).digest()


def link_expiry(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(days=settings.packet_link_days)


def packet_link(settings: Settings, record: PacketRecord, now: datetime) -> str:
    """The signed page link of a stored packet, valid for PACKET_LINK_DAYS from ``now``."""
    expires = int(link_expiry(settings, now).timestamp())
    return sign_packet_link(settings.public_url, record.id, record.team_id, link_secret(settings), expires)


def stored_packet(session: Session, packet_id: int) -> PacketRecord | None:
    return session.get(PacketRecord, packet_id)
