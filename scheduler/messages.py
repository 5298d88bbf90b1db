"""What an outbox row says when it is delivered, read from the database as it is now.

``compose`` takes a group of claimed rows (one digest, or one row) and returns the rows that still apply
with the message to post, or the rows that no longer apply (a closed gap, a new owner, an answered
check-in), which are cancelled instead of sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.checklist import Mark
from bot.core.moments import BLOCKER, CLEARED, DUE, OWNER, VOIDED, WAIVED, assertion
from bot.core.moments import WAIVER_ENDED as WAIVER_ENDED_MOMENT
from bot.core.reminder_plan import ReminderPolicy, in_working_hours, next_working_start, zone
from bot.core.review import message_link, part_of_item
from bot.core.slack_ids import is_user_id
from bot.db import db_now
from bot.services import evidence
from bot.services import golive as watch
from bot.services.assessments import checklist_of, item_row
from bot.services.notices import (
    APPROVALS_VOIDED,
    BLOCKER_ALERT,
    BLOCKER_CLEARED,
    DELIVERY_FAILED,
    DUE_MOVED,
    EVIDENCE_KINDS,
    EVIDENCE_SUGGESTIONS,
    OWNER_ASSIGNED,
    REVIEW_KINDS,
    SIGNOFF_OUTCOME,
    WAIVER_ENDED,
    WAIVER_GRANTED,
)
from bot.services.people import timezone_of
from bot.services.reminders import DM_KINDS, ESCALATION_CHANNEL, ESCALATION_THREAD, is_open_gap
from bot.services.reviews import load_review_signoff
from handlers.blocks import evidence as eb
from handlers.blocks import review as rb
from handlers.blocks import signoff as sb
from handlers.blocks import watch as wb
from handlers.blocks.delivery import delivery_failed
from handlers.blocks.reminders import GapLine, digest, escalation
from models import Assessment, GoLive, OutboxMessage, Waiver
from models.surface import MOMENT, OUTCOME
from models.surface import RESULT as RESULT_ROLE

Today = Callable[[Session, str | None], date]
Now = Callable[[Session], datetime]


@dataclass(frozen=True)
class Claimed:
    id: int
    team_id: str
    dedupe_key: str
    kind: str
    recipient: str
    assessment_id: int | None
    item_id: str | None
    payload: dict[str, Any]
    was_unknown: bool
    due_at: datetime | None = None


@dataclass(frozen=True)
class Target:
    """Where a message goes."""

    channel: str
    thread_ts: str | None = None
    is_dm: bool = False
    broadcast: bool = False


@dataclass(frozen=True)
class SurfaceNote:
    """What a posted message is as a surface of its review: kept current (``role``) or a moment (``asserts``)."""

    role: str
    key: str
    rev: int
    asserts: dict[str, Any] | None = None


@dataclass(frozen=True)
class Composition:
    rows: list[Claimed]
    stale: list[Claimed]
    target: Target | None = None
    text: str = ""
    blocks: list[Any] | None = None
    hold_until: datetime | None = None  # not to be sent before this (the recipient's working hours)
    surface: SurfaceNote | None = None  # set when the post is a surface of its review, to register once posted


def groups(rows: list[Claimed]) -> list[list[Claimed]]:
    """One digest per owner per run; every other row on its own."""
    digests: dict[tuple[str, str], list[Claimed]] = {}
    singles: list[list[Claimed]] = []
    for row in rows:
        if row.kind in DM_KINDS:
            digests.setdefault((row.team_id, row.recipient), []).append(row)
        else:
            singles.append([row])
    return list(digests.values()) + singles


def compose(session: Session, group: list[Claimed], today: Today, now: Now | None = None,
            policy: ReminderPolicy | None = None) -> Composition:
    """``now`` and ``policy`` hold reminders back until the recipient's working hours."""
    kind = group[0].kind
    if kind in DM_KINDS or kind in (ESCALATION_THREAD, ESCALATION_CHANNEL):
        composed = _gap_reminders(session, group, today)
        if composed.rows and now is not None:
            owner = str(composed.rows[0].payload.get("owner") or "")
            tz = timezone_of(session, composed.rows[0].team_id, owner)
            moment = now(session)
            policy = policy or ReminderPolicy()
            if not in_working_hours(moment, tz, policy):
                return Composition(composed.rows, composed.stale, hold_until=next_working_start(moment, tz, policy))
            if kind in DM_KINDS and reminded_today(session, composed.rows[0], moment, tz):
                # at most one reminder a working day: the rest waits for the next one (and replaces it then)
                tomorrow = datetime.combine(moment.astimezone(zone(tz)).date() + timedelta(days=1), time.min,
                                            tzinfo=zone(tz))
                return Composition(composed.rows, composed.stale, hold_until=next_working_start(tomorrow, tz, policy))
        return composed
    if kind in REVIEW_KINDS:
        return _review_event(session, group[0], now(session) if now is not None else db_now(session))
    if kind in EVIDENCE_KINDS:
        return _evidence(session, group[0])
    if kind in watch.WATCH_KINDS:
        return _watch(session, group[0])
    if kind == DELIVERY_FAILED:
        return _delivery_failed(session, group[0])
    raise ValueError(f"unknown outbox kind {kind!r}")


def reminded_today(session: Session, row: Claimed, moment: datetime, tz: str | None) -> bool:
    """Whether this person already got a reminder DM on their local day of ``moment``."""
    last = session.scalar(select(func.max(OutboxMessage.updated_at)).where(
        OutboxMessage.team_id == row.team_id, OutboxMessage.recipient == row.recipient,
        OutboxMessage.kind.in_(DM_KINDS), OutboxMessage.status == "sent"))
    if last is None:
        return False
    local = zone(tz)
    return last.astimezone(local).date() == moment.astimezone(local).date()


def previous_reminder(session: Session, team_id: str, recipient: str, ts: str) -> tuple[str, str] | None:
    """The (channel, ts) of the last reminder DM this person got before the one at ``ts``."""
    found = session.execute(select(OutboxMessage.sent_channel, OutboxMessage.sent_ts).where(
        OutboxMessage.team_id == team_id, OutboxMessage.recipient == recipient, OutboxMessage.kind.in_(DM_KINDS),
        OutboxMessage.status == "sent", OutboxMessage.sent_ts.is_not(None), OutboxMessage.sent_ts != ts)
        .order_by(OutboxMessage.sent_ts.desc()).limit(1)).first()
    return (str(found.sent_channel), str(found.sent_ts)) if found is not None and found.sent_channel else None


def _assessment(session: Session, row: Claimed) -> Assessment | None:
    if row.assessment_id is None:
        return None
    assessment = session.get(Assessment, row.assessment_id)
    return assessment if assessment is not None and assessment.team_id == row.team_id else None


# -- gap reminders --------------------------------------------------------------------------------


def gap_line(session: Session, row: Claimed, today: Today) -> GapLine | None:
    """The gap as it is now, or None when the reminder no longer applies."""
    assessment = _assessment(session, row)
    if assessment is None or row.item_id is None:
        return None
    mark = item_row(session, row.team_id, assessment.id, row.item_id)
    if mark is None or not is_open_gap(assessment, mark):
        return None
    if mark.owner != row.payload.get("owner") or mark.due is None or mark.due.isoformat() != row.payload.get("due"):
        return None
    owner_today = today(session, timezone_of(session, row.team_id, mark.owner))
    if mark.snoozed_until is not None and owner_today < mark.snoozed_until:
        return None  # the owner asked for quiet until then
    checklist = checklist_of(session, assessment)
    section_ts = (assessment.section_messages or {}).get(part_of_item(checklist, mark.item_id).key)
    assert mark.mark is not None and mark.owner is not None
    return GapLine(
        assessment_id=assessment.id,
        label=f"{assessment.system} {assessment.version}",
        item_id=mark.item_id,
        title=checklist.item(mark.item_id).title,
        mark_label=checklist.marks[Mark(mark.mark)].label,
        owner=mark.owner,
        due=mark.due,
        today=owner_today,
        thread_link=message_link(assessment.thread_link, assessment.channel_id, section_ts, assessment.thread_ts),
        live=assessment.status == "live",
    )


def _gap_reminders(session: Session, group: list[Claimed], today: Today) -> Composition:
    wanted: list[tuple[Claimed, GapLine]] = []
    stale: list[Claimed] = []
    for row in group:
        line = gap_line(session, row, today)
        if line is None:
            stale.append(row)
        else:
            wanted.append((row, line))
    if not wanted:
        return Composition([], stale)
    rows = [row for row, _ in wanted]
    lines = list({(line.assessment_id, line.item_id): line for _, line in wanted}.values())
    first = rows[0]
    if first.kind in DM_KINDS:
        text, blocks = digest(lines)
        return Composition(rows, stale, Target(first.recipient, is_dm=True), text, blocks)
    assessment = _assessment(session, first)
    assert assessment is not None
    in_thread = first.kind == ESCALATION_THREAD
    text, blocks = escalation(lines[0], in_thread=in_thread)
    target = Target(first.recipient, assessment.thread_ts if in_thread else None)
    return Composition(rows, stale, target, text, blocks)


# -- events of a review: blocker alerts, owner DMs, the result --------------------------------------


def _review_event(session: Session, row: Claimed, at: datetime) -> Composition:
    """A review's event, drawn as it is now; the result and the outcome are kept current after they are posted,
    the others record a moment, with what they assert (checked by each refresh: once false, superseded)."""
    assessment = _assessment(session, row)
    if assessment is None:
        return Composition([], [row])
    review, st = load_review_signoff(session, assessment)
    link = review.thread_link
    payload = row.payload
    item = str(payload.get("item") or "")
    here = Target(row.recipient, payload.get("thread_ts"))

    def moment(target: Target, message: tuple[str, list[Any]], asserts: dict[str, Any]) -> Composition:
        note = SurfaceNote(MOMENT, f"{row.kind}:{item}"[:80], review.rev, asserts)
        return Composition([row], [], target, message[0], message[1], surface=note)

    dm = Target(row.recipient, is_dm=is_user_id(row.recipient))
    if row.kind == BLOCKER_ALERT:
        return moment(dm, rb.blocker_alert(review, item, payload["actor"], link, snapshot=payload, at=at),
                      assertion(BLOCKER, item))
    if row.kind == BLOCKER_CLEARED:
        return moment(dm, rb.blocker_cleared(review, item, payload["actor"], link, snapshot=payload, at=at),
                      assertion(CLEARED, item))
    if row.kind == OWNER_ASSIGNED:
        return moment(dm, rb.owner_assigned(review, item, payload["actor"], link, snapshot=payload, at=at),
                      assertion(OWNER, item, owner=payload.get("owner"), due=payload.get("due")))
    if row.kind == APPROVALS_VOIDED:
        return moment(here, sb.voided(review, item, payload["actor"], int(payload.get("voided", 1)), at=at),
                      assertion(VOIDED))
    if row.kind in (WAIVER_GRANTED, WAIVER_ENDED):
        waiver = session.get(Waiver, payload.get("waiver"))
        if waiver is None or waiver.team_id != row.team_id:
            return Composition([], [row])
        ended = row.kind == WAIVER_ENDED
        message = sb.waiver_notice(review, waiver.item_id, waiver.granted_by, waiver.reason, waiver.expires_at,
                                   ended=ended, voided=int(payload.get("voided", 0)), end_reason=waiver.end_reason,
                                   at=at)
        item = waiver.item_id
        target = Target(row.recipient, payload.get("thread_ts"), broadcast=bool(payload.get("broadcast")))
        return moment(target, message, assertion(WAIVER_ENDED_MOMENT if ended else WAIVED, waiver.item_id))
    if row.kind == DUE_MOVED:
        return moment(here, rb.due_moved(review, item, payload["actor"], payload.get("was"), payload.get("due"),
                                         payload.get("requested_by"), at=at),
                      assertion(DUE, item, due=payload.get("due")))
    if row.kind == SIGNOFF_OUTCOME:
        text, blocks = sb.outcome(review, st)
        return Composition([row], [], here, text, blocks, surface=SurfaceNote(OUTCOME, row.recipient, review.rev))
    text, blocks = rb.result_message(review, link)
    where = "thread" if payload.get("thread_ts") else "channel"
    return Composition([row], [], Target(row.recipient, payload.get("thread_ts"),
                                         broadcast=bool(payload.get("broadcast"))),
                       text, blocks, surface=SurfaceNote(RESULT_ROLE, where, review.rev))


# -- a message Slack refused for good ---------------------------------------------------------------


def _delivery_failed(session: Session, row: Claimed) -> Composition:
    assessment = _assessment(session, row)
    label = f"{assessment.system} {assessment.version}" if assessment is not None else None
    payload = row.payload
    text, blocks = delivery_failed(int(payload["row"]), str(payload["kind"]), str(payload["channel"]),
                                   str(payload["error"]), label, maybe_posted=bool(payload.get("maybe_posted")))
    return Composition([row], [], Target(row.recipient, is_dm=True), text, blocks)


# -- the first-week watch list ---------------------------------------------------------------------


def _watch(session: Session, row: Claimed) -> Composition:
    assessment = _assessment(session, row)
    golive = session.get(GoLive, row.payload.get("golive"))
    if assessment is None or golive is None or golive.team_id != row.team_id or assessment.status == "closed":
        return Composition([], [row])
    label = f"{assessment.system} {assessment.version}"
    day = int(row.payload.get("day", 0))
    if row.kind == watch.CHECKIN:
        text, blocks = wb.checkin(golive, label, day, watch.answers(session, golive, day))
        return Composition([row], [], Target(golive.channel_id, golive.thread_ts), text, blocks)
    if row.kind == watch.NUDGE:
        if watch.answers(session, golive, day):
            return Composition([], [row])
        text, blocks = wb.nudge(golive, label, day, checkin_link(session, golive, day, assessment.thread_link))
        return Composition([row], [], Target(golive.escalation_owner, is_dm=True), text, blocks)
    if row.kind == watch.SUMMARY:
        text, blocks = wb.summary(golive, label, watch.answers(session, golive))
        return Composition([row], [], Target(golive.channel_id, golive.thread_ts, broadcast=True), text, blocks)
    checkin = next((a for a in watch.answers(session, golive, day) if a.id == row.payload.get("checkin")), None)
    if checkin is None:
        return Composition([], [row])
    text, blocks = wb.issue_alert(golive, label, checkin)
    return Composition([row], [], Target(golive.channel_id), text, blocks)


def checkin_link(session: Session, golive: GoLive, day: int, thread_link: str | None) -> str | None:
    """The day's check-in message (a nudge is about it), or the review's thread when it is not known."""
    posted = session.execute(select(OutboxMessage.sent_channel, OutboxMessage.sent_ts).where(
        OutboxMessage.team_id == golive.team_id, OutboxMessage.dedupe_key == f"watch:{golive.id}:checkin:{day}",
        OutboxMessage.status == "sent")).first()
    if posted is None or not posted.sent_ts or not golive.thread_ts:
        return thread_link
    return message_link(thread_link, posted.sent_channel, posted.sent_ts, golive.thread_ts)


# -- evidence: suggested marks in the thread, watch-list breaches -----------------------------------


def _evidence(session: Session, row: Claimed) -> Composition:
    assessment = _assessment(session, row)
    if assessment is None or assessment.status == "closed":
        return Composition([], [row])
    if row.kind == EVIDENCE_SUGGESTIONS:
        shown = evidence.suggestion_view(session, row.team_id, assessment.id, int(row.payload["evidence"]))
        if shown is None or (shown.rows and all(r.status == evidence.SUPERSEDED for r in shown.rows)):
            return Composition([], [row])  # newer evidence arrived before this could be posted: it speaks instead
        text, blocks = eb.suggestions_message(shown.label, shown.checklist, row.payload, shown.rows)
        return Composition([row], [], Target(row.recipient, assessment.thread_ts), text, blocks)
    golive = session.get(GoLive, row.payload.get("golive"))
    if golive is None or golive.team_id != row.team_id:
        return Composition([], [row])
    label = f"{assessment.system} {assessment.version}"
    is_dm = row.recipient == golive.escalation_owner and row.recipient != golive.channel_id
    text, blocks = wb.breach_alert(golive, label, row.payload, to_owner=is_dm)
    return Composition([row], [], Target(row.recipient, is_dm=is_dm), text, blocks)
