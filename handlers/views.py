"""Modal submissions: start a review, save a mark. Input is validated in the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.core.marking import earliest_today
from bot.services import config, reviews
from bot.services.assessments import MarkOutcome, MarkRequest, StartRequest, start_assessment
from bot.services.errors import MarkRejected, ServiceError
from bot.services.marks import record_mark
from handlers import forms, publish
from handlers.channels import channel_problems
from handlers.common import parse_control, review_number, team_of, view_key
from handlers.ids import BlockId, CallbackId
from handlers.lazy import after_ack, listen
from handlers.state import MarkModalState, StartModalState

CHECK_SECONDS = 1.5  # Slack's answers about the form's channels, all of them, before the ack


def submit_start(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    values = view["state"]["values"]
    system = forms.text_value(values, BlockId.SYSTEM)
    version = forms.text_value(values, BlockId.VERSION)
    release = forms.conversation_value(values, BlockId.RELEASE_CHANNEL)
    errors = forms.start_errors(system, version, release)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    state = parse_control(StartModalState, view.get("private_metadata"))
    baseline = forms.option_value(values, BlockId.BASELINE)
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps, scope = deps_of(context), db_of(context)
    review_channel = forms.conversation_value(values, BlockId.REVIEW_CHANNEL) or state.channel_id
    with scope.read() as session:
        settings = config.get(session, team_id)
        refused = config.check_release_channel(session, team_id, release)
    if refused:
        ack(response_action="errors", errors={BlockId.RELEASE_CHANNEL: refused})
        return
    unusable = _unusable_channels(deps, {BlockId.REVIEW_CHANNEL: review_channel, BlockId.RELEASE_CHANNEL: release},
                                  may_join=settings.join_channels)
    if unusable:
        ack(response_action="errors", errors=unusable)
        return
    request = StartRequest(
        team_id=team_id,
        system=system or "",
        version=version or "",
        started_by=user_id,
        cohorts=forms.cohorts_value(values),
        channel_id=review_channel,
        release_channel_id=release,
        baseline_id=review_number(baseline) if baseline else None,
    )
    try:
        with scope.transaction() as session:
            assessment_id = None
            if reviews.claim_interaction(session, team_id, view_key(view), "start"):
                assessment_id = start_assessment(session, deps.checklist, request).id
    except ServiceError as exc:
        ack(response_action="errors", errors={BlockId.BASELINE if baseline else BlockId.SYSTEM: str(exc)})
        return
    if assessment_id is not None:
        context["started"] = {"assessment_id": assessment_id, "channel_id": review_channel}
    ack()


def _unusable_channels(deps: Any, fields: dict[BlockId, str | None], *, may_join: bool) -> dict[str, str]:
    """Each field whose channel the bot cannot use, with what to do (checked with Slack, in the ack: the
    person sees it under the field while the form is still open). The checks (conversations.info, and
    conversations.join where allowed) run at once within CHECK_SECONDS in all, well inside Slack's three
    seconds for the ack."""
    assert deps.modal_client is not None
    channels = list(dict.fromkeys(channel for channel in fields.values() if channel))
    problems = channel_problems(deps.ack_client, channels, may_join=may_join, seconds=CHECK_SECONDS)
    return {block.value: str(problems[channel]) for block, channel in fields.items()
            if channel and problems.get(channel)}


def post_started_review(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    started = context.get("started")
    if started:
        publish.post_or_explain(client, db_of(context), team_of(body, context), started["assessment_id"],
                                started["channel_id"], lead=body["user"]["id"])


def submit_mark(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(MarkModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    due, due_error = forms.date_value(values, BlockId.DUE)
    if due_error:
        ack(response_action="errors", errors={BlockId.DUE: due_error})
        return
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps, scope = deps_of(context), db_of(context)
    request = MarkRequest(
        item_id=state.item_id,
        mark=state.mark,
        evidence=forms.text_value(values, BlockId.EVIDENCE),
        owner=forms.user_value(values, BlockId.OWNER),
        due=due,
        note=forms.text_value(values, BlockId.NOTE),
        reason=forms.text_value(values, BlockId.REASON),
    )
    outcome: MarkOutcome | None = None
    try:
        with scope.transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "mark"):
                outcome = record_mark(session, team_id, state.assessment_id, request, actor=user_id,
                                      today=earliest_today(deps.now()), now=deps.now(), policy=deps.policy)
    except MarkRejected as exc:
        present = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
        fallback = next(iter(sorted(present)), BlockId.EVIDENCE.value)
        ack(response_action="errors", errors=forms.mark_errors_to_blocks(exc.errors, present, fallback))
        return
    if outcome is not None and outcome.changed:
        context["outcome"] = outcome
    ack()


def register(app: App) -> None:
    app.view_submission(CallbackId.START_REVIEW.value)(listen(submit_start, after_ack(post_started_review)))
    app.view_submission(CallbackId.MARK_ITEM.value)(listen(submit_mark))
