"""Buttons on reminders: close the gap, propose a new due date; the release lead's Accept / Refuse."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.core.marking import earliest_today
from bot.services import due_dates, reminders, reviews
from bot.services.errors import ServiceError
from handlers.blocks.kit import notice_modal
from handlers.blocks.reminders import proposal_decided, proposal_message, propose_modal
from handlers.common import local_today, parse_control, team_of
from handlers.forms import date_value, text_value
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.state import ItemRef, ProposalRef, SnoozeRef


def acknowledge(ack: Ack) -> None:
    ack()


def open_propose_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ref = parse_control(ItemRef, body["actions"][0].get("value"))

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            checklist, status = reviews.item_status(session, team_id, ref.assessment, ref.item)
            today = local_today(context, session, team_id, body["user"]["id"])
        if status.due is None or status.owner is None:
            raise ServiceError(f"{ref.item} is no longer an open gap; nothing to move.")
        return propose_modal(ref, checklist.item(ref.item).title, status.due, today)

    open_form(body, context, build)


def submit_proposal(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    values = view["state"]["values"]
    new_due, error = date_value(values, BlockId.NEW_DUE)
    if error or new_due is None:
        ack(response_action="errors", errors={BlockId.NEW_DUE: error or "Pick a date."})
        return
    ref = parse_control(ItemRef, view.get("private_metadata"))
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps = deps_of(context)
    try:
        with db_of(context).transaction() as session:
            proposal = due_dates.propose(session, team_id, ref.assessment, ref.item, proposer=user_id,
                                         new_due=new_due, today=earliest_today(deps.now()),
                                         reason=text_value(values, BlockId.REASON))
            if proposal.lead == user_id:  # the release lead owns the gap: nobody else to ask
                due_dates.decide(session, team_id, ref.assessment, ref.item, was=proposal.current_due,
                                 new_due=new_due, proposer=user_id, actor=user_id, accept=True,
                                 today=earliest_today(deps.now()), now=deps.now(), policy=deps.policy)
    except ServiceError as exc:
        ack(response_action="errors", errors={BlockId.NEW_DUE: str(exc)})
        return
    if proposal.lead == user_id:
        ack(response_action="update", view=notice_modal("New due date", f":calendar: {ref.item} is now due "
                                                         f"{new_due.isoformat()}."))
        return
    context["proposal"] = proposal
    context["proposal_reason"] = text_value(values, BlockId.REASON)
    ack(response_action="update", view=notice_modal(
        "New due date", f":outbox_tray: Sent to <@{proposal.lead}>, the review's release lead. You will hear "
        "when they decide."))


def send_proposal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    proposal = context.get("proposal")
    if proposal is None:
        return
    ref = ProposalRef(assessment=proposal.assessment_id, item=proposal.item_id, was=proposal.current_due,
                      due=proposal.new_due, by=proposal.owner)
    text, blocks = proposal_message(proposal, ref, context.get("proposal_reason"))
    client.chat_postMessage(channel=proposal.lead, text=text, blocks=blocks)


def decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ref = parse_control(ProposalRef, action.get("value"))
    accept = action["action_id"] == ActionId.DUE_ACCEPT
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps = deps_of(context)
    message_ts = (body.get("container") or {}).get("message_ts", "")
    with db_of(context).transaction() as session:
        # one decision per proposal: a double click, or Refuse after Accept, has no second effect
        key = f"proposal:{ref.assessment}:{ref.item}:{ref.was}:{ref.due}:{message_ts}"
        if not reviews.claim_interaction(session, team_id, key, "due_decision"):
            ack()
            return
        outcome = due_dates.decide(session, team_id, ref.assessment, ref.item, was=ref.was, new_due=ref.due,
                                   proposer=ref.by, actor=user_id, accept=accept,
                                   today=earliest_today(deps.now()), now=deps.now(), policy=deps.policy)
    context["decision"] = {"accept": accept, "outcome": outcome}
    ack()


def announce_decision(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    decision = context.get("decision")
    if decision is None:
        return
    ref = parse_control(ProposalRef, body["actions"][0].get("value"))
    lead = body["user"]["id"]
    text, blocks = proposal_decided(ref, decision["accept"], lead)
    container = body.get("container", {})
    if container.get("channel_id") and container.get("message_ts"):
        client.chat_update(channel=container["channel_id"], ts=container["message_ts"], text=text, blocks=blocks)
    client.chat_postMessage(channel=ref.by, text=text, blocks=blocks)


def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """A reminder's Snooze: no reminder about that gap for 1, 3 or 7 days (never past its due date)."""
    raw = (action.get("selected_option") or {}).get("value") if action.get("type") == "overflow" else action.get("value")
    ref = parse_control(SnoozeRef, raw)
    team_id, user_id = team_of(body, context), body["user"]["id"]
    with db_of(context).transaction() as session:
        today = local_today(context, session, team_id, user_id)
        until = reminders.snooze(session, team_id, ref.assessment, ref.item, user=user_id, days=ref.days, today=today)
    context["snoozed"] = f"No reminder about {ref.item} before {until.isoformat()}."
    ack()


def say_snoozed(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    said = context.get("snoozed")
    if said and context.respond is not None:
        context.respond(text=f":zzz: {said}", response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    app.action(ActionId.REMINDER_NEW_DUE.value)(listen(acknowledge, opens_modal(open_propose_modal)))
    app.view_submission(CallbackId.PROPOSE_DUE.value)(listen(submit_proposal, after_ack(send_proposal)))
    app.action(ActionId.DUE_ACCEPT.value)(listen(decide, after_ack(announce_decision)))
    app.action(ActionId.DUE_REFUSE.value)(listen(decide, after_ack(announce_decision)))
    app.action(ActionId.REMINDER_SNOOZE.value)(listen(snooze, after_ack(say_snoozed)))
