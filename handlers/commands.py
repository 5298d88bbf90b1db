"""The /readiness slash command: start, status, list, gaps, help."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.core.command_text import system_and_version, words
from bot.core.marking import earliest_today
from bot.services import config, reviews
from bot.services.marks import close_review
from handlers import evidence, packet
from handlers.blocks import home
from handlers.blocks.modals import start_modal
from handlers.blocks.text import esc
from handlers.common import review_number, team_of
from handlers.config import config_command, open_config_modal
from handlers.ids import ActionId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.signoff import open_approvers_modal, signoff_command
from handlers.state import StartModalState
from handlers.watch import golive_command, open_golive_modal

COMMAND = "/readiness"


def parse(text: str) -> tuple[str, list[str]]:
    typed = words(text)
    if not typed:
        return "help", []
    return typed[0].lower(), typed[1:]


def answer(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Every subcommand is answered in the ack; `start` and `golive` open their modal right after it."""
    sub, args = parse(command.get("text", ""))
    team_id = team_of(command, context)
    if sub == "start":  # whatever follows is the system and the version, as typed: the form shows them
        context["open_start_modal"] = True
        ack()
    elif sub == "status":
        asked = " ".join(args)[:120]
        number = review_number(asked.removeprefix("#")) if asked else None
        with db_of(context).read() as session:
            rows = reviews.review_rows(session, team_id, system=asked or None, limit=1) if number is None else \
                reviews.review_rows(session, team_id, assessment_id=number, limit=1)
        title = f"Latest review of {esc(asked)}" if asked and number is None else \
            f"Review {esc(asked)}" if asked else "Latest review"
        ack(blocks=home.lines_message(title, [home.review_line(r) for r in rows], "No review found."), text=title)
    elif sub == "list":
        with db_of(context).read() as session:
            rows = reviews.review_rows(session, team_id, limit=20)
        ack(blocks=home.lines_message("Reviews in this workspace", [home.review_line(r) for r in rows],
                                      "No review yet. Start one with `/readiness start`."), text="Reviews")
    elif sub == "gaps":
        today = earliest_today(deps_of(context).now())
        with db_of(context).read() as session:
            gaps = reviews.open_gaps_for(session, team_id, command["user_id"], today, limit=reviews.GAPS_LISTED)
            total = reviews.count_open_gaps(session, team_id, command["user_id"], up_to=reviews.GAPS_COUNTED + 1)
        over, total = total > reviews.GAPS_COUNTED, min(total, reviews.GAPS_COUNTED)
        more = f"_…and {'over ' if over else ''}{total - len(gaps)} more: the most pressing are above._"
        ack(blocks=home.lines_message("Your open gaps", [home.gap_line(g) for g in gaps] + [more] * (total > len(gaps)),
                                      "You own no open gaps."), text="Your open gaps")
    elif sub == "close":
        assessment_id = review_number(args[0]) if len(args) == 1 else None
        if assessment_id is None:
            ack(text="Usage: `/readiness close <review number>`, for example `/readiness close 12`.")
            return
        with db_of(context).transaction() as session:
            close_review(session, team_id, assessment_id, actor=command["user_id"], now=deps_of(context).now())
        context["closed"] = assessment_id
        ack(text=f"Review #{assessment_id} is closed: its marks are frozen and its reminders stopped.")
    elif sub == "golive":
        golive_command(ack, command, context, args)
    elif sub == "signoff":
        signoff_command(ack, command, context, args)
    elif sub == "config":
        config_command(ack, context)
    elif sub in packet.SUBCOMMANDS:
        packet.command(ack, command, context, sub, args)
    elif sub in evidence.SUBCOMMANDS:
        evidence.command(ack, command, context, sub, args)
    elif sub == "help":
        ack(blocks=home.help_blocks(), text="Readiness help")
    else:
        ack(text=f"I don't know `{esc(sub[:30])}`. {home.USAGE}")


def start_button(ack: Ack, context: BoltContext) -> None:
    """The App Home's "Start a review": the same form, with no channel chosen yet."""
    context["open_start_modal"] = True
    ack()


def open_start_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if not context.get("open_start_modal"):
        return

    def build() -> dict[str, Any]:
        _sub, args = parse(body.get("text", ""))
        named = system_and_version(args)
        with db_of(context).read() as session:
            team_id = team_of(body, context)
            baselines = reviews.baseline_choices(session, team_id, named.system or None)
            release_channels = config.get(session, team_id).release_channels
        user_id = body.get("user_id") or body["user"]["id"]
        state = StartModalState(channel_id=body.get("channel_id") or "", user_id=user_id)
        view = start_modal(state, system=named.system, version=named.version, baselines=baselines,
                           release_channels=release_channels)
        return view

    open_form(body, context, build)


def announce_closed(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    assessment_id = context.get("closed")
    if assessment_id is None:
        return
    with db_of(context).transaction() as session:
        review = reviews.load_review(session, team_of(body, context), assessment_id)
    if review.channel_id and review.thread_ts:
        client.chat_postMessage(channel=review.channel_id, thread_ts=review.thread_ts,
                                text=f"<@{body['user_id']}> closed this review. Marks are frozen and reminders stopped.")


def register(app: App) -> None:
    app.command(COMMAND)(listen(answer, opens_modal(open_start_modal), opens_modal(open_golive_modal),
                                opens_modal(open_approvers_modal), opens_modal(open_config_modal),
                                after_ack(announce_closed), *packet.AFTER_COMMAND, *evidence.AFTER_COMMAND))
    app.action(ActionId.START_REVIEW.value)(listen(start_button, opens_modal(open_start_modal)))
