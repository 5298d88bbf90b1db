"""Go-live and the first-week watch: /readiness golive, the plan modal, check-in answers, issues."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.services import golive as watch
from bot.services import reviews
from bot.services.errors import ServiceError
from handlers import forms
from handlers.blocks import watch as wb
from handlers.common import parse_control, review_from_args, review_from_button, team_of, view_key
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.state import CheckinRef, GoLiveModalState, IssueModalState

PLAN_FIELDS = {"alerts": BlockId.ALERTS, "cadence": BlockId.CADENCE, "escalation_owner": BlockId.ESCALATION_OWNER,
               "watch_items": BlockId.WATCH_ITEMS}


def open_golive(context: BoltContext, body: dict[str, Any], assessment_id: int) -> None:
    def build() -> dict[str, Any]:
        with db_of(context).read() as session:
            review = reviews.load_review(session, team_of(body, context), assessment_id)
            refused = watch.golive_refusal(session, team_of(body, context), assessment_id)
        if review.status == "closed":
            raise ServiceError(f"Review #{assessment_id} is closed.")
        if refused:
            raise ServiceError(refused)
        modal = wb.golive_modal(GoLiveModalState(assessment_id=assessment_id), review.label)
        return modal

    open_form(body, context, build)


def golive_command(ack: Ack, command: dict[str, Any], context: BoltContext, args: list[str]) -> None:
    """`/readiness golive [n]`: without a number, the latest open review started in this channel."""
    assessment_id = review_from_args(ack, command, context, args, "golive")
    if assessment_id is not None:
        context["open_golive"] = assessment_id
        ack()


def open_golive_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    assessment_id = context.get("open_golive")
    if assessment_id is not None:
        open_golive(context, body, assessment_id)


def golive_button(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    context["open_golive"] = review_from_button(action)
    ack()


def submit_golive(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(GoLiveModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    items = [line.strip(" -•\t") for line in (forms.text_value(values, BlockId.WATCH_ITEMS) or "").splitlines()]
    plan = watch.MonitoringPlan(
        alerts=forms.text_value(values, BlockId.ALERTS) or "",
        cadence=forms.text_value(values, BlockId.CADENCE) or "",
        escalation_owner=forms.user_value(values, BlockId.ESCALATION_OWNER) or "",
        watch_items=[i for i in items if i],
    )
    problems = plan.errors()
    if problems:
        ack(response_action="errors", errors={PLAN_FIELDS[k].value: v for k, v in problems.items()})
        return
    team_id, deps = team_of(body, context), deps_of(context)
    try:
        with db_of(context).transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "golive"):
                golive = watch.record_golive(session, team_id, state.assessment_id, actor=body["user"]["id"],
                                             plan=plan, now=deps.now(), policy=deps.policy)
                context["golive"] = golive.id
    except ServiceError as exc:
        ack(response_action="errors", errors={BlockId.ALERTS.value: str(exc)})
        return
    ack()


def announce_golive(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    golive_id = context.get("golive")
    if golive_id is None:
        return
    team_id = team_of(body, context)
    with db_of(context).read() as session:
        golive = watch.golive_of(session, team_id, golive_id)
        review = reviews.load_review(session, team_id, golive.assessment_id)
        text, blocks = wb.announcement(golive, review.label)
        channel = golive.channel_id
    ts = client.chat_postMessage(channel=channel, text=text, blocks=blocks)["ts"]
    with db_of(context).transaction() as session:
        watch.set_thread(session, team_id, golive_id, str(ts))


def answer_clear(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ref = parse_control(CheckinRef, action.get("value"))
    with db_of(context).transaction() as session:
        watch.answer_checkin(session, team_of(body, context), ref.golive, ref.day, user=body["user"]["id"],
                             answer=watch.CLEAR, now=deps_of(context).now())
    ack()


def refresh_checkin(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    container = body.get("container", {})
    ref = parse_control(CheckinRef, body["actions"][0].get("value"))
    _update_checkin(context, client, team_of(body, context), ref.golive, ref.day,
                    container.get("channel_id"), container.get("message_ts"))


def _update_checkin(context: BoltContext, client: WebClient, team_id: str, golive_id: int, day: int,
                    channel: str | None, ts: str | None) -> None:
    if not (channel and ts):
        return
    with db_of(context).read() as session:
        golive = watch.golive_of(session, team_id, golive_id)
        review = reviews.load_review(session, team_id, golive.assessment_id)
        text, blocks = wb.checkin(golive, review.label, day, watch.answers(session, golive, day))
    client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


def acknowledge(ack: Ack) -> None:
    ack()


def open_issue(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ref = parse_control(CheckinRef, body["actions"][0].get("value"))

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            golive = watch.golive_of(session, team_id, ref.golive)
            label = reviews.load_review(session, team_id, golive.assessment_id).label
        container = body.get("container", {})
        state = IssueModalState(golive=ref.golive, day=ref.day, channel_id=container.get("channel_id"),
                                message_ts=container.get("message_ts"))
        return wb.issue_modal(state, label)

    open_form(body, context, build)


def submit_issue(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(IssueModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    description = forms.text_value(values, BlockId.DESCRIPTION)
    if not description:
        ack(response_action="errors", errors={BlockId.DESCRIPTION.value: "Describe what you found."})
        return
    team_id = team_of(body, context)
    with db_of(context).transaction() as session:
        if reviews.claim_interaction(session, team_id, view_key(view), "issue"):
            watch.answer_checkin(session, team_id, state.golive, state.day, user=body["user"]["id"],
                                 answer=watch.ISSUE_FOUND, now=deps_of(context).now(), description=description,
                                 link=forms.url_value(values, BlockId.LINK))
            context["issue"] = state.model_dump()
    ack()


def after_issue(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    issue = context.get("issue")
    if issue is None:
        return
    deps_of(context).kick()
    _update_checkin(context, client, team_of(body, context), issue["golive"], issue["day"], issue.get("channel_id"),
                    issue.get("message_ts"))


def register(app: App) -> None:
    app.action(ActionId.GOLIVE.value)(listen(golive_button, opens_modal(open_golive_modal)))
    app.view_submission(CallbackId.GOLIVE.value)(listen(submit_golive, after_ack(announce_golive)))
    app.action(ActionId.WATCH_CLEAR.value)(listen(answer_clear, after_ack(refresh_checkin)))
    app.action(ActionId.WATCH_ISSUE.value)(listen(acknowledge, opens_modal(open_issue)))
    app.view_submission(CallbackId.WATCH_ISSUE.value)(listen(submit_issue, after_ack(after_issue)))
