"""What a person's App Home shows: their desk. What waits for them (decisions to give, due-date proposals to
decide, check-ins to answer, overdue gaps), their other open gaps, and the reviews in progress. Every list is
read bounded by what is shown, with a count for the rest."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bot.core.desk import Checkin, Decision, Desk, WaitingProposal
from bot.core.marking import earliest_today
from bot.core.review import message_link
from bot.services import due_dates, reviews
from bot.services.golive import CHECKIN
from models import Approval, Approver, Assessment, GoLive, OutboxMessage, WatchCheckin

SHOWN = 8  # items of each list on the desk (the rest is counted)
REVIEWS_SHOWN = 10


def desk(session: Session, team_id: str, user_id: str, now: datetime) -> Desk:
    today = earliest_today(now)
    gaps = reviews.open_gaps_for(session, team_id, user_id, today, limit=2 * SHOWN)
    counted = reviews.count_open_gaps(session, team_id, user_id, up_to=reviews.GAPS_COUNTED + 1)
    gaps_total = min(counted, reviews.GAPS_COUNTED)
    proposals, proposals_total = due_dates.waiting_for(session, team_id, user_id, SHOWN)
    rows = reviews.review_rows(session, team_id, active_only=True, limit=REVIEWS_SHOWN)
    reviews_total = reviews.count_reviews(session, team_id, active_only=True)  # from ix_assessments_team_status
    shown_ids = {g.assessment_id for g in gaps} | {p.assessment_id for p in proposals} | {r.assessment_id for r in rows}
    threads = {a.id: a for a in session.scalars(select(Assessment).where(
        Assessment.team_id == team_id, Assessment.id.in_(shown_ids)))} if shown_ids else {}
    links = {}
    for gap in gaps:
        a = threads.get(gap.assessment_id)
        if a is not None:
            links[(gap.assessment_id, gap.item_id)] = reviews.item_link(session, a, gap.item_id) or ""
    return Desk(
        decisions=_decisions(session, team_id, user_id),
        proposals=[WaitingProposal(p.id, p.assessment_id, p.item_id, p.proposer, p.was, p.due, p.reason)
                   for p in proposals], proposals_total=proposals_total,
        labels={a.id: f"{a.system} {a.version}" for a in threads.values()},
        checkins=_checkins(session, team_id, user_id, now),
        overdue=[g for g in gaps if g.overdue][:SHOWN], gaps=[g for g in gaps if not g.overdue][:SHOWN],
        gaps_total=gaps_total, gaps_over=counted > reviews.GAPS_COUNTED, links={k: v for k, v in links.items() if v},
        reviews=rows, reviews_total=reviews_total,
        review_links={i: a.thread_link for i, a in threads.items() if a.thread_link},
    )


def _decisions(session: Session, team_id: str, user_id: str) -> list[Decision]:
    """Roles this person is the named approver of, on open reviews whose card is out, with no live decision."""
    live = select(Approval.id).where(Approval.assessment_id == Approver.assessment_id, Approval.role == Approver.role,
                                     Approval.voided_at.is_(None)).exists()
    found = session.execute(
        select(Approver.assessment_id, Approver.role, Assessment.system, Assessment.version, Assessment.thread_link,
               Assessment.signoff_channel, Assessment.signoff_ts)
        .join(Assessment, and_(Assessment.id == Approver.assessment_id, Assessment.team_id == team_id))
        .where(Approver.team_id == team_id, Approver.user_id == user_id, Assessment.status.in_(("open", "complete")),
               Assessment.signoff_ts.is_not(None), ~live)
        .order_by(Approver.assessment_id).limit(SHOWN))
    return [Decision(aid, f"{system} {version}", role, _link(thread, channel, ts))
            for aid, role, system, version, thread, channel, ts in found]


def _checkins(session: Session, team_id: str, user_id: str, now: datetime) -> list[Checkin]:
    """Today's check-ins of the watches this person leads or is the escalation owner of, posted and not answered."""
    watches = list(session.scalars(select(GoLive).where(
        GoLive.team_id == team_id, GoLive.started_at > now - timedelta(days=21),
        (GoLive.escalation_owner == user_id) | (GoLive.started_by == user_id)).order_by(GoLive.id.desc()).limit(SHOWN)))
    if not watches:
        return []
    posted = session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.sent_channel, OutboxMessage.sent_ts).where(
        OutboxMessage.team_id == team_id, OutboxMessage.kind == CHECKIN, OutboxMessage.status == "sent",
        OutboxMessage.dedupe_key.in_([f"watch:{w.id}:checkin:{d}" for w in watches for d in range(1, w.days + 1)])))
    latest: dict[int, tuple[int, str | None, str | None]] = {}
    for key, channel, ts in posted:
        _, golive_id, _, day = key.split(":")
        if int(day) > latest.get(int(golive_id), (0, None, None))[0]:
            latest[int(golive_id)] = (int(day), channel, ts)
    answered = {(g, d) for g, d in session.execute(select(WatchCheckin.golive_id, WatchCheckin.day).where(
        WatchCheckin.team_id == team_id, WatchCheckin.golive_id.in_(list(latest))))} if latest else set()
    about = {aid: (f"{system} {version}", thread) for aid, system, version, thread in session.execute(
        select(Assessment.id, Assessment.system, Assessment.version, Assessment.thread_link)
        .where(Assessment.id.in_([w.assessment_id for w in watches])))}
    out = []
    for w in watches:
        if w.id in latest and (w.id, latest[w.id][0]) not in answered:
            day, channel, ts = latest[w.id]
            label, thread = about.get(w.assessment_id, ("", None))
            link = message_link(thread, channel, ts, w.thread_ts) if thread and channel and ts and w.thread_ts else None
            out.append(Checkin(w.id, day, label, link))
    return out


def _link(thread_link: str | None, channel: str | None, ts: str | None) -> str | None:
    """A link to a top-level message (the sign-off card), built from the thread's permalink."""
    if not (thread_link and channel and ts):
        return thread_link
    base = thread_link.split("?")[0].rsplit("/archives/", 1)[0]
    return f"{base}/archives/{channel}/p{ts.replace('.', '')}"
