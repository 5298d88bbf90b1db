"""The App Home tab and the ephemeral answers of /readiness status, list, gaps and help."""

from __future__ import annotations

from typing import Any

from bot.core.checklist import Verdict
from bot.core.review import GapRow, ReviewRow
from handlers.blocks import text as t
from handlers.blocks.kit import Block, context, divider, header, section, sections_of

MAX_HOME_ROWS = 40


def gap_line(row: GapRow) -> str:
    flag = ":red_circle: *overdue* " if row.overdue else ""
    return (f"{flag}*{row.item_id}* {t.esc(row.title)} in *{t.esc(row.label)}* (#{row.assessment_id}): "
            f"{row.mark_label}, due {t.day(row.due)}")


def review_line(row: ReviewRow) -> str:
    card = row.card
    where = f" in {t.channel(row.channel_id)}" if row.channel_id else ""
    blockers = f", blockers {', '.join(card.blockers)}" if card.blockers else ""
    return (f"*#{row.assessment_id} {t.esc(row.label)}*{where}: {card.marked}/{card.total} marked, "
            f"score {card.score}/{card.max_score}, band {card.band}, {t.verdict(card.verdict)}{blockers}")


def home_view(gaps: list[GapRow], reviews: list[ReviewRow]) -> dict[str, Any]:
    blocks: list[Block] = [header("Your open gaps")]
    if gaps:
        lines = [gap_line(g) for g in gaps[:MAX_HOME_ROWS]]
        blocks.extend(sections_of(lines, 40))
        if len(gaps) > MAX_HOME_ROWS:
            blocks.append(context(f"{len(gaps) - MAX_HOME_ROWS} more: use `/readiness gaps`."))
    else:
        blocks.append(section("You own no open gaps. :tada:"))
    blocks += [divider(), header("Reviews in progress")]
    if reviews:
        blocks.extend(sections_of([review_line(r) for r in reviews[:MAX_HOME_ROWS]], 40))
    else:
        blocks.append(section("No review is in progress. Start one with `/readiness start`."))
    blocks.append(context("Overdue gaps come first. Mark items from the review thread."))
    return {"type": "home", "blocks": blocks}


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
