"""Slack listeners of the evidence feature: `/readiness evidence`, and Apply / Dismiss on suggested marks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.context import db_of, deps_of
from bot.core.checklist import Mark
from bot.services import evidence, reviews
from bot.services.assessments import current_marks, find_latest, get_assessment
from bot.services.errors import ServiceError
from bot.services.golive import latest_in_channel
from handlers import forms, views
from handlers.blocks import cohort_table
from handlers.blocks import evidence as eb
from handlers.blocks import text as t
from handlers.blocks.modals import mark_modal
from handlers.channels import UNSEEN, cannot_post_here
from handlers.common import local_today, parse_control, review_number, team_of, view_key
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.state import ApplySuggestionState, DismissSuggestionState, MarkModalState, SuggestionRef
from models import Assessment

SUBCOMMANDS: tuple[str, ...] = ("evidence",)
USAGE = ("Usage: `/readiness evidence` (the review started in this channel), `/readiness evidence <review number>` "
         "or `/readiness evidence <system> <version>`.")


def _target(session: Session, team_id: str, channel_id: str, args: list[str]) -> tuple[str, str, Assessment | None]:
    """(system, version, the review if any) that `/readiness evidence [args]` asks about."""
    if len(args) == 2:
        return args[0], args[1], find_latest(session, team_id, args[0], args[1])
    number = review_number(args[0]) if len(args) == 1 else None
    if number is not None:
        review = get_assessment(session, team_id, number)
        return review.system, review.version, review
    if args:
        raise ServiceError(USAGE)
    found = latest_in_channel(session, team_id, channel_id)
    if found is None:
        raise ServiceError(f"No open review was started in this channel. {USAGE}")
    review = get_assessment(session, team_id, found)
    return review.system, review.version, review


def command(ack: Ack, command: dict[str, Any], context: BoltContext, sub: str, args: list[str]) -> None:
    """`/readiness evidence [n | system version]`: the cohort scorecard, to you; its grid follows in the channel."""
    team_id = team_of(command, context)
    with db_of(context).read() as session:
        system, version, review = _target(session, team_id, command["channel_id"], args)
        scored = evidence.judged(session, team_id, system, version, assessment=review,
                                 policy_path=deps_of(context).settings.policy_path)
        if scored is None:
            ack(text=f"No evidence is stored for {t.esc(system)} {t.esc(version)} yet. Push it from CI with "
                     "`readiness evidence push FILE` or `POST /api/v1/evidence`.")
            return
        contradicted: tuple[str, ...] = ()
        if review is not None:
            marks: dict[str, Mark | None] = {k: e.mark for k, e in current_marks(session, review).items()}
            contradicted = evidence.contradicted_items(session, review, marks, scored)
    text, blocks = eb.scorecard_reply(f"{system} {version}", scored, contradicted)
    context["evidence_grid"] = {"system": system, "version": version,
                                   "assessment": review.id if review is not None else None}
    ack(text=text, blocks=blocks)


def post_tables(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The cohort-by-metric grid, posted in the channel as table blocks (split above Slack's table limits)."""
    asked = context.get("evidence_grid")
    if asked is None:
        return
    team_id = team_of(body, context)
    with db_of(context).read() as session:
        review = get_assessment(session, team_id, asked["assessment"]) if asked["assessment"] else None
        scored = evidence.judged(session, team_id, asked["system"], asked["version"], assessment=review,
                                 policy_path=deps_of(context).settings.policy_path)
    if scored is None:
        return
    label = f"{asked['system']} {asked['version']}"
    try:
        for message in cohort_table.grid_messages(label, scored.scorecard, eb.grid_comment(scored)):
            client.chat_postMessage(channel=body["channel_id"], **message)
    except SlackApiError as exc:  # a private channel or a DM the bot is not in: the person is told what to do
        if exc.response.get("error") not in UNSEEN or context.respond is None:
            raise
        context.respond(text=cannot_post_here("the cohort grid", "/readiness evidence"), response_type="ephemeral",
                        replace_original=False)


AFTER_COMMAND: list[Callable[..., None]] = [after_ack(post_tables)]


# -- Apply: the usual mark modal, prefilled ----------------------------------------------------------


def click_apply(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ref = parse_control(SuggestionRef, action.get("value"))
    with db_of(context).read() as session:
        evidence.open_suggestion(session, team_of(body, context), ref.suggestion)  # refused here, privately
    context["apply"] = ref.suggestion
    ack()


def open_apply_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    suggestion_id = context.get("apply")
    if suggestion_id is None:
        return

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            row = evidence.open_suggestion(session, team_id, suggestion_id)
            checklist, status = reviews.item_status(session, team_id, row.assessment_id, row.item_id)
        container = body.get("container", {})
        state = MarkModalState(assessment_id=row.assessment_id, item_id=row.item_id, mark=Mark(str(row.mark)),
                               channel_id=container.get("channel_id"), message_ts=container.get("message_ts"))
        with db_of(context).read() as session:
            today = local_today(context, session, team_id, body["user"]["id"])
        view = mark_modal(checklist, state, status, today)
        apply_state = ApplySuggestionState(suggestion_id=row.id, mark=state)
        return eb.as_apply_modal(view, apply_state, row, f"set #{row.evidence_id}")

    open_form(body, context, build)


def submit_apply(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Saved exactly as the usual mark modal saves; the mark settles the suggestion in its own transaction."""
    state = parse_control(ApplySuggestionState, view.get("private_metadata"))
    views.submit_mark(ack, body, {**view, "private_metadata": state.mark.dump()}, context)
    context["suggestion_message"] = {"suggestion": state.suggestion_id, "channel_id": state.mark.channel_id,
                                     "message_ts": state.mark.message_ts}


# -- Dismiss, with a reason ---------------------------------------------------------------------------


def click_dismiss(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ref = parse_control(SuggestionRef, action.get("value"))
    with db_of(context).read() as session:
        row = evidence.get_suggestion(session, team_of(body, context), ref.suggestion)
        if row.status != evidence.OPEN:
            raise ServiceError(f"This suggestion for {row.item_id} was already {row.status}; nothing changed.")
    context["dismiss"] = ref.suggestion
    ack()


def open_dismiss_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    suggestion_id = context.get("dismiss")
    if suggestion_id is None:
        return

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            row = evidence.get_suggestion(session, team_id, suggestion_id)
            checklist = reviews.item_status(session, team_id, row.assessment_id, row.item_id)[0]
        container = body.get("container", {})
        state = DismissSuggestionState(suggestion_id=row.id, channel_id=container.get("channel_id"),
                                       message_ts=container.get("message_ts"))
        return eb.dismiss_modal(state, checklist, row)

    open_form(body, context, build)


def submit_dismiss(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(DismissSuggestionState, view.get("private_metadata"))
    reason = forms.text_value(view["state"]["values"], BlockId.REASON)
    if not reason:
        ack(response_action="errors", errors={BlockId.REASON.value: "Say why the suggestion does not apply."})
        return
    team_id = team_of(body, context)
    try:
        with db_of(context).transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "dismiss_suggestion"):
                evidence.dismiss(session, team_id, state.suggestion_id, actor=body["user"]["id"], reason=reason)
    except ServiceError as exc:
        ack(response_action="errors", errors={BlockId.REASON.value: str(exc)})
        return
    context["suggestion_message"] = state.model_dump()
    ack()


def refresh_suggestions(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Show the suggestion's new state (applied, dismissed) in the message that offered it."""
    where = context.get("suggestion_message")
    if not where or not (where.get("channel_id") and where.get("message_ts")):
        return
    team_id = team_of(body, context)
    with db_of(context).read() as session:
        row = evidence.get_suggestion(session, team_id, where.get("suggestion") or where.get("suggestion_id"))
        shown = evidence.suggestion_view(session, team_id, row.assessment_id, row.evidence_id)
    if shown is not None:
        text, blocks = eb.suggestions_message(shown.label, shown.checklist, shown.payload, shown.rows)
        client.chat_update(channel=where["channel_id"], ts=where["message_ts"], text=text, blocks=blocks)


def register(app: App) -> None:
    """Actions and views of this feature."""
    app.action(ActionId.APPLY_SUGGESTION.value)(listen(click_apply, opens_modal(open_apply_modal)))
    app.view_submission(CallbackId.APPLY_SUGGESTION.value)(
        listen(submit_apply, after_ack(refresh_suggestions)))
    app.action(ActionId.DISMISS_SUGGESTION.value)(listen(click_dismiss, opens_modal(open_dismiss_modal)))
    app.view_submission(CallbackId.DISMISS_SUGGESTION.value)(
        listen(submit_dismiss, after_ack(refresh_suggestions)))
