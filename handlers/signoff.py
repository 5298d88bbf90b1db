"""Sign-off in the release channel: name approvers, the approval card, and each role's decision."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import RequestScope, db_of, deps_of
from bot.core.surface_hash import content_hash
from bot.services import reviews, signoff, surfaces
from bot.services.assessments import get_assessment
from bot.services.errors import ServiceError
from bot.services.notices import enqueue_signoff_outcome
from handlers import forms
from handlers.blocks import signoff as sb
from handlers.common import parse_control, review_from_args, review_from_button, team_of, view_key
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.lazy import after_ack, listen, open_form, opens_modal
from handlers.state import DecisionRef, SignoffModalState
from models.surface import CARD

DECISION_OF = {ActionId.SIGNOFF_APPROVE: signoff.APPROVE, ActionId.SIGNOFF_STAGED: signoff.STAGED,
               ActionId.SIGNOFF_REJECT: signoff.REJECT}


def signoff_command(ack: Ack, command: dict[str, Any], context: BoltContext, args: list[str]) -> None:
    """`/readiness signoff [n]`: without a number, the latest open review started in this channel."""
    assessment_id = review_from_args(ack, command, context, args, "signoff")
    if assessment_id is not None:
        context["open_signoff"] = assessment_id
        ack()


def request_button(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    context["open_signoff"] = review_from_button(action)
    ack()


def open_approvers_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    assessment_id = context.get("open_signoff")
    if assessment_id is None:
        return

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            user = body["user"]["id"] if "user" in body else body["user_id"]  # a click, or the slash command
            signoff.check_namer(session, get_assessment(session, team_id, assessment_id), user)
            review = reviews.load_review(session, team_id, assessment_id)
            roles = signoff.roles_of(session, team_id)
            current = signoff.proposed_approvers(session, team_id, assessment_id)
        if review.status == "closed":
            raise ServiceError(f"Review #{assessment_id} is closed.")
        view = sb.approvers_modal(SignoffModalState(assessment_id=assessment_id), review.label, roles, current)
        return view

    open_form(body, context, build)


def submit_approvers(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(SignoffModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    team_id = team_of(body, context)
    chosen = {block[len("role:"):]: (values[block].get("value") or {}).get("selected_user")
              for block in values if block.startswith("role:")}
    try:
        with db_of(context).transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "signoff"):
                signoff.name_approvers(session, team_id, state.assessment_id,
                                       {k: v for k, v in chosen.items() if v}, actor=body["user"]["id"])
                context["card"] = state.assessment_id
    except ServiceError as exc:
        first = next(iter(values), BlockId.REASON.value)
        ack(response_action="errors", errors={first: str(exc)})
        return
    ack()


def refresh_card(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Post the card when there is none yet; the outbox keeps it (and every other surface) current."""
    assessment_id = context.get("card")
    if assessment_id is None:
        return
    post_card(client, db_of(context), team_of(body, context), assessment_id)


def post_card(client: WebClient, scope: RequestScope, team_id: str, assessment_id: int) -> None:
    """The approval card, posted once in the release channel, and kept current from then on."""
    with scope.read() as session:
        review = reviews.load_review(session, team_id, assessment_id)
        st = signoff.state(session, team_id, assessment_id)
        posted = get_assessment(session, team_id, assessment_id).signoff_ts
    if posted or not review.release_channel_id or not st.requested:
        return
    text, blocks = sb.card(review, st)
    ts = str(client.chat_postMessage(channel=review.release_channel_id, text=text, blocks=blocks)["ts"])
    with scope.transaction() as session:
        signoff.record_card(session, team_id, assessment_id, review.release_channel_id, ts)
        surfaces.register(session, team_id, assessment_id, CARD, "card", review.release_channel_id, ts,
                          rev=review.rev, shown_hash=content_hash(text, blocks))
        if get_assessment(session, team_id, assessment_id).state_rev != review.rev:
            surfaces.owe_refresh(session, team_id, assessment_id)


def _decide(context: BoltContext, body: dict[str, Any], ref: DecisionRef, decision: str, reason: str | None,
            *, key: str | None = None) -> None:
    """Record a decision once per interaction ``key``; without a key, only check that it would be allowed."""
    team_id = team_of(body, context)
    dry_run = key is None
    with db_of(context).transaction() as session:
        if not dry_run and not reviews.claim_interaction(session, team_id, key, "decision"):
            return  # the same click or form delivered again: it had its effect the first time
        st = signoff.decide(session, team_id, ref.assessment, role=ref.role, user=body["user"]["id"],
                            decision=decision, reason=reason, now=deps_of(context).now(), dry_run=dry_run)
        if not dry_run and st.outcome:
            enqueue_signoff_outcome(session, get_assessment(session, team_id, ref.assessment), st.outcome)
    if not dry_run:
        context["card"] = ref.assessment


def click_decision(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """Approve decides at once; staged and reject are checked now, then ask for a reason."""
    ref = parse_control(DecisionRef, action.get("value"))
    _start_decision(body, action, context, ref, DECISION_OF[ActionId(action["action_id"])])
    ack()


def change_decision(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """The one control of a role that decided: another decision the verdict allows (a button or a menu)."""
    raw = (action.get("selected_option") or {}).get("value") if action.get("type") == "overflow" else action.get("value")
    ref = parse_control(DecisionRef, raw)
    if ref.decision not in signoff.DECISIONS:
        raise ServiceError("Pick a decision from the card.")
    _start_decision(body, action, context, ref, str(ref.decision))
    ack()


def _start_decision(body: dict[str, Any], action: dict[str, Any], context: BoltContext, ref: DecisionRef,
                    decision: str) -> None:
    if decision == signoff.APPROVE:
        _decide(context, body, ref, decision, None, key=f"click:{body['user']['id']}:{action.get('action_ts')}")
    else:
        _decide(context, body, ref, decision, None)
        context["reason_for"] = ref.model_copy(update={"decision": decision})


def open_reason_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ref = context.get("reason_for")
    if ref is None:
        return

    def build() -> dict[str, Any]:
        with db_of(context).read() as session:
            label = reviews.load_review(session, team_of(body, context), ref.assessment).label
        return sb.reason_modal(ref, ref.decision, label)

    open_form(body, context, build)


def submit_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    ref = parse_control(DecisionRef, view.get("private_metadata"))
    reason = forms.text_value(view["state"]["values"], BlockId.REASON)
    try:
        _decide(context, body, ref, ref.decision or "", reason, key=view_key(view))
    except ServiceError as exc:
        ack(response_action="errors", errors={BlockId.REASON.value: str(exc)})
        return
    ack()


def register(app: App) -> None:
    app.action(ActionId.REQUEST_SIGNOFF.value)(listen(request_button, opens_modal(open_approvers_modal)))
    app.view_submission(CallbackId.SIGNOFF.value)(listen(submit_approvers, after_ack(refresh_card)))
    for action in DECISION_OF:
        app.action(action.value)(listen(click_decision, opens_modal(open_reason_modal), after_ack(refresh_card)))
    app.action(ActionId.SIGNOFF_CHANGE.value)(listen(change_decision, opens_modal(open_reason_modal),
                                                     after_ack(refresh_card)))
    app.view_submission(CallbackId.SIGNOFF_REASON.value)(listen(submit_reason, after_ack(refresh_card)))
