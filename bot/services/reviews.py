"""Read models of reviews (for messages, the home tab and slash commands) and their Slack bookkeeping."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.core.checklist import Checklist, Mark
from bot.core.review import (
    GapRow,
    ItemStatus,
    Review,
    ReviewRow,
    WaiverNote,
    message_link,
    message_parts,
    part_of_item,
)
from bot.core.scoring import MarkEntry, score
from bot.db import clock_now, dialect_insert
from bot.services import config, evidence, scorecards, signoff
from bot.services.assessments import (
    OPEN_STATUSES,
    checklist_of,
    ensure_workspace,
    entry_of,
    get_assessment,
    live_waivers,
)
from bot.services.checklists import checklist_by_hash
from bot.services.errors import NotFound
from bot.services.signoff import SignoffState
from models import Approval, Assessment, ItemMark, ProcessedInteraction, Waiver


def _statuses(rows: list[ItemMark]) -> dict[str, ItemStatus]:
    return {
        r.item_id: ItemStatus(
            item_id=r.item_id,
            mark=Mark(r.mark) if r.mark else None,
            evidence=r.evidence,
            owner=r.owner,
            due=r.due,
            note=r.note,
            marked_by=r.marked_by,
            marked_at=r.marked_at,
        )
        for r in rows
    }


def _review(session: Session, assessment: Assessment, rows: list[ItemMark]) -> Review:
    return _review_signoff(session, assessment, rows)[0]


def _review_signoff(session: Session, assessment: Assessment, rows: list[ItemMark]) -> tuple[Review, SignoffState]:
    """The review and its sign-off, from one read of its marks, waivers and workspace settings."""
    checklist = checklist_of(session, assessment)
    marks = {r.item_id: e for r in rows if (e := entry_of(r)) is not None}
    waivers = live_waivers(session, assessment)
    card = score(checklist, marks, waived={w.item_id for w in waivers})
    settings = config.get(session, assessment.team_id)
    sign = signoff.state(session, assessment.team_id, assessment.id, assessment=assessment, card=card,
                         roles=settings.roles)
    baseline_label = None
    if assessment.baseline_id is not None:
        baseline = session.get(Assessment, assessment.baseline_id)
        if baseline is not None and baseline.team_id == assessment.team_id:
            baseline_label = f"#{baseline.id} {baseline.system} {baseline.version}"
    review = Review(
        assessment_id=assessment.id,
        team_id=assessment.team_id,
        system=assessment.system,
        version=assessment.version,
        started_by=assessment.started_by,
        status=assessment.status,
        checklist=checklist,
        card=card,
        waivers={w.item_id: WaiverNote(w.granted_by, w.expires_at, w.reason) for w in waivers},
        items=_statuses(rows),
        cohorts=list(assessment.cohorts or []),
        channel_id=assessment.channel_id,
        thread_ts=assessment.thread_ts,
        release_channel_id=assessment.release_channel_id,
        baseline_label=baseline_label,
        thread_link=assessment.thread_link,
        contradicted=evidence.contradicted(session, assessment, {k: e.mark for k, e in marks.items()}),
        rev=assessment.state_rev or 0,
        signoff_requested=sign.requested,
        signoff_outcome=sign.outcome,
        golive_allowed_early=settings.golive_without_signoff,
        section_ts=dict(assessment.section_messages or {}),
    )
    return review, sign


def _rows(session: Session, assessment: Assessment) -> list[ItemMark]:
    return list(
        session.scalars(
            select(ItemMark)
            .where(ItemMark.team_id == assessment.team_id, ItemMark.assessment_id == assessment.id)
            .order_by(ItemMark.id)
        )
    )


def load_review(session: Session, team_id: str, assessment_id: int) -> Review:
    assessment = get_assessment(session, team_id, assessment_id)
    return _review(session, assessment, _rows(session, assessment))


def load_review_signoff(session: Session, assessment: Assessment) -> tuple[Review, SignoffState]:
    """A review already read (its row) with its sign-off state: what a refresh draws every surface from."""
    return _review_signoff(session, assessment, _rows(session, assessment))


def item_status(session: Session, team_id: str, assessment_id: int, item_id: str) -> tuple[Checklist, ItemStatus]:
    """The checklist of a review and one item's status: what a mark modal needs, in one column query."""
    row = session.execute(
        select(ItemMark.mark, ItemMark.evidence, ItemMark.owner, ItemMark.due, ItemMark.note, ItemMark.marked_by,
               ItemMark.marked_at, Assessment.checklist_hash)
        .join(Assessment, Assessment.id == ItemMark.assessment_id)
        .where(ItemMark.team_id == team_id, Assessment.team_id == team_id, ItemMark.assessment_id == assessment_id,
               ItemMark.item_id == item_id)
    ).one_or_none()
    if row is None:
        get_assessment(session, team_id, assessment_id)  # says which: no such review, or no such item
        raise NotFound(f"{item_id} is not an item of review #{assessment_id}.")
    checklist = checklist_by_hash(session, team_id, row.checklist_hash)
    status = ItemStatus(item_id=item_id, mark=Mark(row.mark) if row.mark else None, evidence=row.evidence,
                        owner=row.owner, due=row.due, note=row.note, marked_by=row.marked_by,
                        marked_at=row.marked_at)
    return checklist, status


def live_decisions(session: Session, team_id: str, assessment_id: int) -> int:
    """How many sign-off decisions stand now (a new mark would void them): one count, for the mark form."""
    return int(session.scalar(select(func.count()).select_from(Approval).where(
        Approval.team_id == team_id, Approval.assessment_id == assessment_id, Approval.voided_at.is_(None))) or 0)


def section_messages(session: Session, team_id: str, assessment_id: int) -> dict[str, str]:
    return dict(get_assessment(session, team_id, assessment_id).section_messages or {})


def record_thread(
    session: Session, team_id: str, assessment_id: int, *, channel_id: str, thread_ts: str | None = None,
    message_key: str | None = None, message_ts: str | None = None, thread_link: str | None = None,
) -> None:
    assessment = get_assessment(session, team_id, assessment_id)
    if thread_ts is not None:
        assessment.channel_id, assessment.thread_ts = channel_id, thread_ts
    if thread_link is not None:
        assessment.thread_link = thread_link
    if message_key is not None and message_ts is not None:
        assessment.section_messages = {**(assessment.section_messages or {}), message_key: message_ts}


GAPS_LISTED = 25  # the gaps `/readiness gaps` lists, the most pressing first
GAPS_COUNTED = 100  # an owner's gaps are counted this far (one more tells there are more): a screen says "over"


def _open_gaps(team_id: str, owner: str) -> Select[Any]:
    """An owner's open gaps (rows marked Partial or Yes in open reviews), read along ``ix_item_marks_owner``
    (the review is checked row by row, never read whole): the columns a gap's line shows."""
    in_open_review = select(Assessment.id).where(
        Assessment.id == ItemMark.assessment_id, Assessment.team_id == team_id,
        Assessment.status.in_(OPEN_STATUSES)).exists()
    return select(ItemMark.assessment_id, ItemMark.item_id, ItemMark.mark, ItemMark.owner, ItemMark.due).where(
        ItemMark.team_id == team_id, ItemMark.owner == owner, ItemMark.mark.in_((Mark.PARTIAL.value, Mark.YES.value)),
        in_open_review)


def count_open_gaps(session: Session, team_id: str, owner: str, *, up_to: int | None = None) -> int:
    """How many open gaps ``owner`` has; with ``up_to``, counted no further than that (a screen says "more than")."""
    found = _open_gaps(team_id, owner).with_only_columns(ItemMark.assessment_id)
    if up_to is not None:
        found = found.limit(up_to)
    return int(session.scalar(select(func.count()).select_from(found.subquery())) or 0)


def count_reviews(session: Session, team_id: str, *, active_only: bool = False) -> int:
    """How many reviews the workspace has (in progress, with ``active_only``): counted in an index alone."""
    query = select(func.count()).select_from(Assessment).where(Assessment.team_id == team_id)
    if active_only:
        query = query.where(Assessment.status.in_(OPEN_STATUSES))
    return int(session.scalar(query) or 0)


def item_link(session: Session, assessment: Assessment, item_id: str) -> str | None:
    """A link to the message of the thread that holds the item (the thread itself when unknown)."""
    try:
        key = part_of_item(checklist_of(session, assessment), item_id).key
    except KeyError:
        return assessment.thread_link
    return message_link(assessment.thread_link, assessment.channel_id, (assessment.section_messages or {}).get(key),
                        assessment.thread_ts)


def open_gaps_for(session: Session, team_id: str, owner: str, today: date, limit: int | None = None) -> list[GapRow]:
    """An owner's open gaps, overdue first then by due date (those without one last); ``limit`` reads only
    what is shown, in the index's order."""
    dated = _open_gaps(team_id, owner).where(ItemMark.due.is_not(None)).order_by(
        ItemMark.due, ItemMark.assessment_id, ItemMark.item_id)
    found = list(session.execute(dated if limit is None else dated.limit(limit)))
    undated = _open_gaps(team_id, owner).where(ItemMark.due.is_(None)).order_by(
        ItemMark.assessment_id, ItemMark.item_id)
    found += session.execute(undated if limit is None else undated.limit(limit - len(found)))
    if not found:
        return []
    about = {aid: (f"{system} {version}", checklist_by_hash(session, team_id, content_hash))
             for aid, system, version, content_hash in session.execute(
                 select(Assessment.id, Assessment.system, Assessment.version, Assessment.checklist_hash).where(
                     Assessment.team_id == team_id, Assessment.id.in_({r.assessment_id for r in found})))}
    rows: list[GapRow] = []
    for gap in found:
        label, checklist = about[gap.assessment_id]
        rows.append(
            GapRow(
                assessment_id=gap.assessment_id,
                label=label,
                item_id=gap.item_id,
                title=checklist.item(gap.item_id).title,
                mark_label=checklist.marks[Mark(gap.mark)].label,
                owner=gap.owner,
                due=gap.due,
                overdue=gap.due is not None and gap.due < today,
            )
        )
    return rows


def review_rows(session: Session, team_id: str, *, system: str | None = None, active_only: bool = False,
                limit: int = 20, assessment_id: int | None = None) -> list[ReviewRow]:
    """Reviews newest first; ``system`` matches the name as typed, whatever its case. At most three reads
    whatever the number of rows: the reviews, their live waivers, and the marks of those whose scorecard at
    this revision is not known yet."""
    query = select(Assessment).where(Assessment.team_id == team_id)
    if system:
        query = query.where(func.lower(Assessment.system) == system.lower())
    if assessment_id is not None:
        query = query.where(Assessment.id == assessment_id)
    if active_only:
        query = query.where(Assessment.status.in_(OPEN_STATUSES))
    assessments = list(session.scalars(query.order_by(Assessment.id.desc()).limit(limit)))
    if not assessments:
        return []
    ids = [a.id for a in assessments]
    waived: dict[int, set[str]] = {i: set() for i in ids}
    for aid, item_id in session.execute(select(Waiver.assessment_id, Waiver.item_id).where(
            Waiver.team_id == team_id, Waiver.assessment_id.in_(ids), Waiver.ended_at.is_(None),
            Waiver.expires_at > clock_now(session))):
        waived[aid].add(item_id)
    keys = {a.id: (team_id, a.id, a.created_at, a.state_rev or 0, frozenset(waived[a.id])) for a in assessments}
    cards = {i: card for i, key in keys.items() if (card := scorecards.kept(session, key)) is not None}
    missing = [a for a in assessments if a.id not in cards]
    if missing:
        marks: dict[int, dict[str, MarkEntry]] = {a.id: {} for a in missing}
        for row in session.execute(
            select(ItemMark.assessment_id, ItemMark.item_id, ItemMark.mark, ItemMark.evidence, ItemMark.owner,
                   ItemMark.due, ItemMark.note)
            .where(ItemMark.team_id == team_id, ItemMark.assessment_id.in_(marks), ItemMark.mark.is_not(None))
        ):
            marks[row.assessment_id][row.item_id] = MarkEntry(mark=Mark(row.mark), evidence=row.evidence,
                                                              owner=row.owner, due=row.due, note=row.note)
        for a in missing:
            cards[a.id] = score(checklist_of(session, a), marks[a.id], waived=waived[a.id])
            scorecards.keep(session, keys[a.id], cards[a.id])
    return [ReviewRow(a.id, f"{a.system} {a.version}", a.status, cards[a.id], a.channel_id) for a in assessments]


def baseline_choices(session: Session, team_id: str, system: str | None, limit: int = 100) -> list[tuple[int, str]]:
    query = select(Assessment.id, Assessment.system, Assessment.version).where(Assessment.team_id == team_id)
    if system:
        query = query.where(func.lower(Assessment.system) == system.lower())
    rows = session.execute(query.order_by(Assessment.id.desc()).limit(limit))
    return [(aid, f"{system_} {version}") for aid, system_, version in rows]


def claim_interaction(session: Session, team_id: str, key: str, kind: str) -> bool:
    """Record that this delivery had its effect; False when it already had (a retry or a replay).

    Call it in the same transaction as the effect: if the effect rolls back, so does the claim.
    """
    ensure_workspace(session, team_id)
    # one statement: a key already there (a retry, or the same delivery being processed by another worker at
    # this very moment, which PostgreSQL waits for) inserts nothing and returns no row
    inserted = session.execute(
        dialect_insert(session, ProcessedInteraction)
        .values(team_id=team_id, key=key[:200], kind=kind)
        .on_conflict_do_nothing(index_elements=[ProcessedInteraction.team_id, ProcessedInteraction.key])
        .returning(ProcessedInteraction.id)
    )
    return inserted.first() is not None


def unposted_reviews(session: Session, *, settled_before: datetime, limit: int = 20) -> list[tuple[str, int, str]]:
    """(team, assessment, channel) of open reviews whose thread or section messages never made it to Slack."""
    candidates = session.scalars(
        select(Assessment)
        .where(Assessment.status != "closed", Assessment.channel_id.is_not(None),
               Assessment.created_at < settled_before, Assessment.post_error.is_(None))
        .order_by(Assessment.id.desc())
        .limit(500)
    )
    found = []
    for a in candidates:
        parts = message_parts(checklist_of(session, a))
        if a.thread_ts is None or len(a.section_messages or {}) < len(parts):
            assert a.channel_id is not None
            found.append((a.team_id, a.id, a.channel_id))
        if len(found) >= limit:
            break
    return found


def record_post_error(session: Session, team_id: str, assessment_id: int, error: str | None) -> None:
    """Slack refused the review's messages for good (``error``), or they may be tried again (None)."""
    assessment = get_assessment(session, team_id, assessment_id)
    assessment.post_error = error[:64] if error else None


def retry_posts_in(session: Session, team_id: str, channel_id: str) -> int:
    """The bot was added to ``channel_id``: its reviews that could not be posted there are tried again."""
    reviews = list(session.scalars(select(Assessment).where(
        Assessment.team_id == team_id, Assessment.channel_id == channel_id, Assessment.post_error.is_not(None))))
    for assessment in reviews:
        assessment.post_error = None
    return len(reviews)


def prune_interactions(session: Session, older_than: datetime) -> int:
    """Forget delivery keys older than Slack's retry window many times over; they cannot come back."""
    from sqlalchemy import delete

    result = session.execute(delete(ProcessedInteraction).where(ProcessedInteraction.created_at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
