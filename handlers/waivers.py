"""Waiving a blocker from the sign-off card: the named policy approver only, with a reason and an end date."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.services import reviews, waivers
from bot.services.assessments import get_assessment
from handlers import forms
from handlers.blocks import signoff as sb
from handlers.common import parse_control, team_of, view_key
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.signoff import refresh_card
from handlers.state import SignoffModalState

FIELD_BLOCK = {"item": BlockId.WAIVE_ITEM, "reason": BlockId.REASON, "expires": BlockId.WAIVE_UNTIL}


def click_waive(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """Checked before the modal opens: anyone but the policy approver is refused here, privately."""
    state = parse_control(SignoffModalState, action.get("value"))
    with db_of(context).read() as session:
        waivers.check_waiver(session, get_assessment(session, team_of(body, context), state.assessment_id),
                             body["user"]["id"])
    context["waive"] = state
    ack()


def open_waiver_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    state: SignoffModalState | None = context.get("waive")
    if state is None:
        return

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            review = reviews.load_review(session, team_id, state.assessment_id)
            limit = waivers.max_days(session, team_id)
        blockers = [(i, review.checklist.item(i).title) for i in review.card.blockers]
        latest = deps_of(context).now().astimezone(UTC).date() + timedelta(days=limit)
        return sb.waiver_modal(state, review.label, blockers, limit, latest)

    open_form(body, context, build)


def submit_waiver(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(SignoffModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    team_id = team_of(body, context)
    expires_on, bad_date = forms.date_value(values, BlockId.WAIVE_UNTIL)
    if bad_date:
        ack(response_action="errors", errors={BlockId.WAIVE_UNTIL.value: bad_date})
        return
    try:
        with db_of(context).transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "waiver"):
                waivers.grant(session, team_id, state.assessment_id, forms.option_value(values, BlockId.WAIVE_ITEM) or "",
                              user=body["user"]["id"], reason=forms.text_value(values, BlockId.REASON),
                              expires_on=expires_on, now=deps_of(context).now())
    except waivers.WaiverRefused as refused:
        ack(response_action="errors", errors={FIELD_BLOCK[k].value: v for k, v in refused.errors.items()})
        return
    context["card"] = state.assessment_id
    ack()


def register(app: App) -> None:
    app.action(ActionId.WAIVE.value)(listen(click_waive, opens_modal(open_waiver_modal)))
    app.view_submission(CallbackId.WAIVE.value)(listen(submit_waiver, after_ack(refresh_card)))
