"""Slack listeners of the packet feature: `/readiness packet|trace|rollout [n]`, the buttons on the result,
the trace-example and rollout-plan modals, and the packet uploaded to the review thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import db_of, deps_of
from bot.core.packet.model import TraceKind
from bot.core.slack_failures import permanent
from bot.services import packets, reviews
from bot.services.assessments import get_assessment
from bot.services.errors import Link, ServiceError, channel_mention
from handlers import forms
from handlers.blocks import packet as pb
from handlers.blocks import text as t
from handlers.common import parse_control, review_from_args, review_from_button, team_of, view_key
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.state import PacketModalState
from models import Assessment

SUBCOMMANDS: tuple[str, ...] = ("packet", "trace", "rollout")
TRACE_FIELDS = {"kind": BlockId.TRACE_KIND, "url": BlockId.LINK, "description": BlockId.DESCRIPTION}
PLAN_FIELDS = {"staged_rollout": BlockId.STAGED_ROLLOUT, "rollback": BlockId.ROLLBACK}


def _user(body: dict[str, Any]) -> str:
    return str(body.get("user_id") or body["user"]["id"])


def _label(assessment: Assessment) -> str:
    return f"{assessment.system} {assessment.version}"


def _missing(session: Any, assessment: Assessment) -> list[str]:
    present = {row.kind for row in packets.traces_of(session, assessment)}
    return [k.value for k in TraceKind if k.value not in present]


def _check(context: BoltContext, team_id: str, assessment_id: int, sub: str, user: str) -> None:
    """Refuse in the ack what cannot work: no such review, no thread to post in, closed, not a planner."""
    with db_of(context).read() as session:
        assessment = get_assessment(session, team_id, assessment_id)
        if sub == "packet" and not (assessment.channel_id and assessment.thread_ts):
            raise ServiceError(f"Review #{assessment_id} has no thread yet to post its packet in.")
        if sub != "packet" and assessment.status == "closed":
            raise ServiceError(f"Review #{assessment_id} is closed: its packet inputs are frozen.")
        if sub == "rollout":
            packets.check_planner(session, assessment, user)


def _first_delivery(context: BoltContext, team_id: str, key: str) -> bool:
    """A retried or replayed request for a packet makes no second one."""
    with db_of(context).transaction() as session:
        return reviews.claim_interaction(session, team_id, key, "packet")


def command(ack: Ack, command: dict[str, Any], context: BoltContext, sub: str, args: list[str]) -> None:
    """`/readiness packet|trace|rollout [n]`: without a number, the latest open review of this channel."""
    assessment_id = review_from_args(ack, command, context, args, sub)
    if assessment_id is None:
        return
    team_id = team_of(command, context)
    _check(context, team_id, assessment_id, sub, command["user_id"])
    if sub == "packet":
        if _first_delivery(context, team_id, f"command:{command.get('trigger_id')}"):
            context["make_packet"] = assessment_id
        ack(text=f"Preparing the rollout packet of review #{assessment_id}: the Markdown and HTML files and a "
                 "link to its web page will appear in the review thread.")
        return
    context["open_trace" if sub == "trace" else "open_plan"] = assessment_id
    ack()


# Buttons on the result ----------------------------------------------------------------------------


def click_trace(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    assessment_id = review_from_button(action)
    _check(context, team_of(body, context), assessment_id, "trace", _user(body))
    context["open_trace"] = assessment_id
    ack()


def click_plan(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """Checked before the modal opens: anyone but the release lead and the approvers is refused privately."""
    assessment_id = review_from_button(action)
    _check(context, team_of(body, context), assessment_id, "rollout", _user(body))
    context["open_plan"] = assessment_id
    ack()


def click_packet(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    assessment_id = review_from_button(action)
    team_id = team_of(body, context)
    _check(context, team_id, assessment_id, "packet", _user(body))
    if _first_delivery(context, team_id, f"action:{_user(body)}:{action.get('action_ts')}"):
        context["make_packet"] = assessment_id
    ack()


# Modals -------------------------------------------------------------------------------------------


def open_trace_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    assessment_id = context.get("open_trace")
    if assessment_id is None:
        return

    def build() -> dict[str, Any]:
        with db_of(context).read() as session:
            assessment = get_assessment(session, team_of(body, context), assessment_id)
            view = pb.trace_modal(PacketModalState(assessment_id=assessment_id), _label(assessment),
                                  _missing(session, assessment))
        return view

    open_form(body, context, build)


def open_plan_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    assessment_id = context.get("open_plan")
    if assessment_id is None:
        return

    def build() -> dict[str, Any]:
        with db_of(context).read() as session:
            assessment = get_assessment(session, team_of(body, context), assessment_id)
            plan = packets.plan_of(session, assessment)
            view = pb.plan_modal(PacketModalState(assessment_id=assessment_id), _label(assessment),
                                 plan.staged_rollout if plan else None, plan.rollback if plan else None)
        return view

    open_form(body, context, build)


def _refuse(ack: Ack, exc: ServiceError, fields: dict[str, BlockId], fallback: BlockId) -> None:
    if isinstance(exc, packets.InputRefused):
        ack(response_action="errors", errors={fields[k].value: v for k, v in exc.errors.items()})
    else:
        ack(response_action="errors", errors={fallback.value: str(exc)})


def submit_trace(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(PacketModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    kind = forms.option_value(values, BlockId.TRACE_KIND) or ""
    url = forms.text_value(values, BlockId.LINK) or ""
    description = forms.text_value(values, BlockId.DESCRIPTION) or ""
    team_id, user = team_of(body, context), _user(body)
    try:
        errors = packets.trace_errors(kind, url, description)
        if errors:
            raise packets.InputRefused(errors)
        with db_of(context).transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "trace"):
                packets.add_trace(session, team_id, state.assessment_id, kind=kind, url=url,
                                  description=description, actor=user, now=deps_of(context).now())
                context["trace_added"] = {"assessment": state.assessment_id, "kind": kind, "url": url,
                                          "description": description}
    except ServiceError as exc:
        _refuse(ack, exc, TRACE_FIELDS, BlockId.LINK)
        return
    ack()


def submit_plan(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(PacketModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    staged = forms.text_value(values, BlockId.STAGED_ROLLOUT) or ""
    rollback = forms.text_value(values, BlockId.ROLLBACK) or ""
    team_id = team_of(body, context)
    try:
        with db_of(context).transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "rollout_plan"):
                packets.save_plan(session, team_id, state.assessment_id, staged_rollout=staged, rollback=rollback,
                                  actor=_user(body), now=deps_of(context).now())
                context["plan_saved"] = state.assessment_id
    except ServiceError as exc:
        _refuse(ack, exc, PLAN_FIELDS, BlockId.STAGED_ROLLOUT)
        return
    ack()


# After the ack ------------------------------------------------------------------------------------


def _thread_of(context: BoltContext, team_id: str, assessment_id: int) -> tuple[Assessment, list[str]]:
    with db_of(context).read() as session:
        assessment = get_assessment(session, team_id, assessment_id)
        return assessment, _missing(session, assessment)


def announce_trace(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    added = context.get("trace_added")
    if added is None:
        return
    assessment, missing = _thread_of(context, team_of(body, context), added["assessment"])
    if assessment.channel_id and assessment.thread_ts:
        text, blocks = pb.trace_added(_label(assessment), _user(body), added["kind"], added["url"],
                                      added["description"], missing)
        client.chat_postMessage(channel=assessment.channel_id, thread_ts=assessment.thread_ts, text=text,
                                blocks=blocks)


def announce_plan(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    assessment_id = context.get("plan_saved")
    if assessment_id is None:
        return
    assessment, _missing_kinds = _thread_of(context, team_of(body, context), assessment_id)
    if assessment.channel_id and assessment.thread_ts:
        text, blocks = pb.plan_saved(_label(assessment), _user(body))
        client.chat_postMessage(channel=assessment.channel_id, thread_ts=assessment.thread_ts, text=text,
                                blocks=blocks)


def make_packet(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Generate and keep the packet, upload both files to the review thread, then post the page link."""
    assessment_id = context.get("make_packet")
    if assessment_id is None:
        return
    deps, team_id = deps_of(context), team_of(body, context)
    now = deps.now()
    with db_of(context).transaction() as session:
        record = packets.generate(session, team_id, assessment_id, actor=_user(body), now=now)
        assessment = get_assessment(session, team_id, assessment_id)
        missing = _missing(session, assessment)
        link = packets.packet_link(deps.settings, record, now)
    channel, thread = assessment.channel_id, assessment.thread_ts
    label = _label(assessment)
    try:
        # no alt_txt: files uploaded with it can stay unshown (python-slack-sdk #1818)
        client.files_upload_v2(
            channel=channel, thread_ts=thread, initial_comment=f"Rollout packet of {t.esc(label)} (Markdown and HTML)",
            file_uploads=[
                {"content": record.markdown, "filename": pb.file_name(assessment.system, assessment.version, "md"),
                 "title": f"Rollout packet {label} (Markdown)"},
                {"content": record.html, "filename": pb.file_name(assessment.system, assessment.version, "html"),
                 "title": f"Rollout packet {label} (HTML)"},
            ],
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if permanent(error) is None:
            raise
        raise ServiceError("The packet is stored, but Readiness cannot share files in ", channel_mention(channel or ""),
                           f" (`{error}`): invite it there with `/invite @Readiness` and run `/readiness packet` "
                           "again. Its page is readable now: ", Link(link, "open the packet page"), ".") from None
    text, blocks = pb.packet_ready(label, link, packets.link_expiry(deps.settings, now), record.content_hash,
                                   missing)
    client.chat_postMessage(channel=channel, thread_ts=thread, text=text, blocks=blocks)


# work after the ack of `/readiness <one of SUBCOMMANDS>` (each a handlers.lazy.after_ack/opens_modal step)
AFTER_COMMAND: list[Callable[..., None]] = [opens_modal(open_trace_modal), opens_modal(open_plan_modal),
                                            after_ack(make_packet)]


def register(app: App) -> None:
    """Actions and views of this feature."""
    app.action(ActionId.ADD_TRACE.value)(listen(click_trace, opens_modal(open_trace_modal)))
    app.action(ActionId.ROLLOUT_PLAN.value)(listen(click_plan, opens_modal(open_plan_modal)))
    app.action(ActionId.MAKE_PACKET.value)(listen(click_packet, after_ack(make_packet)))
    app.view_submission(CallbackId.TRACE.value)(listen(submit_trace, after_ack(announce_trace)))
    app.view_submission(CallbackId.ROLLOUT_PLAN.value)(listen(submit_plan, after_ack(announce_plan)))
