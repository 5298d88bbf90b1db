"""The App Home tab and the ephemeral answers of /readiness status, list, gaps and help."""

from __future__ import annotations

from typing import Any

from bot.core.checklist import Verdict
from bot.core.desk import Desk
from bot.core.review import GapRow, ReviewRow
from handlers.blocks import text as t
from handlers.blocks.kit import Block, actions, button, context, divider, header, section, sections_of
from handlers.ids import ActionId
from handlers.state import ItemRef, ProposalRef

MAX_HOME_ROWS = 40


def gap_line(row: GapRow) -> str:
    flag = ":red_circle: *overdue* " if row.overdue else ""
    return (f"{flag}*{row.item_id}* {t.esc(row.title)} in *{t.esc(row.label)}* (review #{row.assessment_id}): "
            f"{row.mark_label}, due {t.day(row.due)}")


def review_line(row: ReviewRow, link: str | None = None) -> str:
    card = row.card
    where = f" in {t.channel(row.channel_id)}" if row.channel_id else ""
    blockers = f", blockers {', '.join(card.blockers)}" if card.blockers else ""
    name = f"<{link}|{t.esc(row.label)}>" if link else t.esc(row.label)
    return (f"*{name}* (review #{row.assessment_id}){where}: {card.marked}/{card.total} marked, "
            f"score {card.score}/{card.max_score}, band {card.band}, {t.verdict(card.verdict)}{blockers}")


def _more(shown: int, total: int, where: str, *, over: bool = False) -> list[Block]:
    """``over``: the count stopped at ``total``, there are more."""
    return [context(f"…and {'over ' if over else ''}{total - shown} more: {where}.")] if total > shown else []


def _linked(text: str, label: str, link: str | None) -> Block:
    """A line with a link button to the message it is about (left out when there is no link)."""
    line = section(text)
    if link:
        line["accessory"] = button(label, ActionId.NEXT_STEP, "link", url=link)
    return line


def _gap_actions(gap: GapRow, assessment_id: int) -> Block:
    ref = ItemRef(assessment=assessment_id, item=gap.item_id).dump()
    return actions([button("Close with evidence", ActionId.REMINDER_REMARK, ref),
                    button("Propose a new date", ActionId.REMINDER_NEW_DUE, ref)],
                   block_id=f"home-gap:{assessment_id}:{gap.item_id}")


def _gap_text(gap: GapRow, link: str | None) -> str:
    where = f"<{link}|{gap.item_id}>" if link else gap.item_id
    flag = ":red_circle: *overdue* · " if gap.overdue else ""
    return (f"{flag}*{where}* {t.esc(gap.title)} · *{t.esc(gap.label)}* · {gap.mark_label}, due {t.day(gap.due)}")


def home_view(desk: Desk) -> dict[str, Any]:
    """A person's desk: what waits for them, each with its action; their open gaps; the reviews in progress; a
    way to start one. Every list is capped (the rest is counted), so the view stays within Slack's 100 blocks."""
    blocks: list[Block] = []
    waiting: list[Block] = []
    for d in desk.decisions:
        waiting.append(_linked(f":ballot_box_with_ballot: Your *{t.esc(d.role)}* sign-off on *{t.esc(d.label)}*",
                               "Open the card", d.link))
    for p in desk.proposals:
        ref = ProposalRef(assessment=p.assessment_id, item=p.item_id, was=p.was, due=p.due, by=p.proposer).dump()
        why = f": {t.esc(p.reason)}" if p.reason else ""
        waiting += [section(f":calendar: {t.user(p.proposer)} asks to move *{p.item_id}* of "
                            f"*{t.esc(desk.labels.get(p.assessment_id, ''))}* from {t.day(p.was)} to "
                            f"*{t.day(p.due)}*{why}"),
                    actions([button("Accept", ActionId.DUE_ACCEPT, ref, style="primary"),
                             button("Refuse", ActionId.DUE_REFUSE, ref)], block_id=f"home-proposal:{p.id}")]
    waiting += _more(len(desk.proposals), desk.proposals_total, "see your direct messages")
    for c in desk.checkins:
        waiting.append(_linked(f":stethoscope: Day {c.day} check-in of *{t.esc(c.label)}* has no answer yet",
                               "Answer it", c.link))
    for gap in desk.overdue:
        waiting += [section(_gap_text(gap, desk.links.get((gap.assessment_id, gap.item_id)))),
                    _gap_actions(gap, gap.assessment_id)]
    if waiting:
        blocks += [header("Waiting for you"), *waiting, divider()]
    blocks.append(header("Your open gaps"))
    if desk.gaps:
        for gap in desk.gaps:
            blocks += [section(_gap_text(gap, desk.links.get((gap.assessment_id, gap.item_id)))),
                       _gap_actions(gap, gap.assessment_id)]
    elif not desk.overdue:
        blocks.append(section("You own no open gaps. :tada:"))
    else:
        blocks.append(section("Only the overdue ones above."))
    blocks += _more(len(desk.gaps) + len(desk.overdue), desk.gaps_total,
                    "`/readiness gaps` lists the most pressing", over=desk.gaps_over)
    blocks += [divider(), header("Reviews in progress")]
    if desk.reviews:
        lines = [review_line(r, desk.review_links.get(r.assessment_id)) for r in desk.reviews]
        blocks.extend(sections_of(lines, 10))
        blocks += _more(len(desk.reviews), desk.reviews_total, "`/readiness list`")
    else:
        blocks.append(section("No review is in progress."))
    blocks.append(actions([button("Start a review", ActionId.START_REVIEW, "home", style="primary")],
                          block_id="home-start"))
    return {"type": "home", "blocks": blocks[:100]}


def lines_message(title: str, lines: list[str], empty: str) -> list[Block]:
    blocks: list[Block] = [section(f"*{title}*")]
    if not lines:
        blocks.append(section(empty))
        return blocks
    blocks.extend(sections_of(lines, 45))
    return blocks


USAGE = (
    "Usage: `/readiness start [system] [version]` · `/readiness status [system]` · "
    "`/readiness list` · `/readiness gaps` · `/readiness signoff [n]` · `/readiness golive [n]` · `/readiness close <n>` · "
    "`/readiness packet [n]` · `/readiness trace [n]` · `/readiness rollout [n]` · "
    "`/readiness evidence [n | system version]` · `/readiness config` · `/readiness help`"
)


def help_blocks() -> list[Block]:
    return [
        section(
            "*Readiness* runs a rollout-readiness review as a thread: 21 reliability signals and a "
            "data-boundary gate, each marked *No* (controlled, with evidence), *Partial* (1 point) or "
            "*Yes* (a real gap, 2 points). Blockers override any score."
        ),
        section(
            "• `/readiness start [system] [version]`: start a review in this channel\n"
            "• `/readiness status [system]`: the latest review (of a system)\n"
            "• `/readiness list`: reviews in this workspace\n"
            "• `/readiness gaps`: the open gaps you own\n"
            "• `/readiness signoff [n]`: name the approvers and post the approval card in the release channel\n"
            "• `/readiness golive [n]`: record the rollout and its monitoring plan; starts the first-week watch\n"
            "• `/readiness close <n>`: close review n (its release lead only): marks freeze, reminders stop\n"
            "• `/readiness packet [n]`: the rollout packet (Markdown and a web page) in the review's thread\n"
            "• `/readiness trace [n]`, `/readiness rollout [n]`: add a trace example; write the staged rollout "
            "path and rollback steps\n"
            "• `/readiness evidence [n | system version]`: the cohort scorecard of the pushed eval evidence\n"
            "• `/readiness config`: release channels, approver roles, admin group, waiver limit, API tokens "
            "(admins only)\n"
            "• `/readiness help`: this text"
        ),
        context("Bands: 0-4 go, 5-9 narrow, 10-15 hold, 16+ no-go. " + t.verdict(Verdict.NO_GO) + " on any blocker."),
    ]
