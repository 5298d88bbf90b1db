"""An item's No / Partial / Yes buttons and a marked item's menu open the mark form; "Mark this section" opens
one form for the unmarked items of a section."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of
from bot.core.checklist import Mark
from bot.core.review import message_parts
from bot.services import reviews
from bot.services.errors import ServiceError
from handlers.blocks.modals import mark_modal, section_modal
from handlers.common import local_today, parse_control, team_of
from handlers.ids import ActionId
from handlers.lazy import listen, open_form, opens_modal
from handlers.state import ItemRef, MarkChoice, MarkModalState, SectionModalState, SectionRef

MARK_OF = {
    ActionId.MARK_NO: Mark.NO,
    ActionId.MARK_PARTIAL: Mark.PARTIAL,
    ActionId.MARK_YES: Mark.YES,
    ActionId.REMINDER_REMARK: Mark.NO,  # "closed": a reminder's way to mark the gap No with evidence
}
MARK_BUTTONS = re.compile(r"^(mark_(no|partial|yes)|reminder_remark)$")


def acknowledge(ack: Ack) -> None:
    ack()


def chosen(action: dict[str, Any]) -> tuple[int, str, Mark]:
    """The review, item and mark a click asks for: a mark button, or an option of a marked item's menu. A value
    not made by Readiness is refused before any form."""
    if action.get("action_id") == ActionId.MARK_CHANGE:
        choice = parse_control(MarkChoice, (action.get("selected_option") or {}).get("value"))
        return choice.assessment, choice.item, choice.mark
    ref = parse_control(ItemRef, action.get("value"))
    return ref.assessment, ref.item, MARK_OF[ActionId(action["action_id"])]


def open_mark_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Right after the ack, in the interactive lane: views.open needs the trigger_id while it is fresh."""
    assessment_id, item_id, mark = chosen(body["actions"][0])

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            checklist, status = reviews.item_status(session, team_id, assessment_id, item_id)
            today = local_today(context, session, team_id, body["user"]["id"])
            live = reviews.live_decisions(session, team_id, assessment_id)
        container = body.get("container", {})
        state = MarkModalState(assessment_id=assessment_id, item_id=item_id, mark=mark,
                               channel_id=container.get("channel_id"), message_ts=container.get("message_ts"))
        return mark_modal(checklist, state, status, today, live_decisions=live)

    open_form(body, context, build)


def open_section_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """"Mark this section": every unmarked item of the message part in one form."""
    ref = parse_control(SectionRef, body["actions"][0].get("value"))

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            review = reviews.load_review(session, team_id, ref.assessment)
            today = local_today(context, session, team_id, body["user"]["id"])
        part = next((p for p in message_parts(review.checklist) if p.key == ref.part), None)
        if part is None:
            raise ServiceError("That section is not part of this review's checklist.")
        items = [i for i in part.items if review.status_of(i.id).mark is None]
        if not items:
            raise ServiceError("Every item of that section is marked already: change one from its own menu.")
        state = SectionModalState(assessment_id=ref.assessment, part=part.key, items=[i.id for i in items])
        return section_modal(review.checklist, state, part.section.title, items, today)

    open_form(body, context, build)


def register(app: App) -> None:
    app.action(MARK_BUTTONS)(listen(acknowledge, opens_modal(open_mark_modal)))
    app.action(ActionId.MARK_CHANGE.value)(listen(acknowledge, opens_modal(open_mark_modal)))
    app.action(ActionId.MARK_SECTION.value)(listen(acknowledge, opens_modal(open_section_modal)))
    # a link button (the next step, a card, a check-in): Slack opens the link and still sends the click
    app.action(ActionId.NEXT_STEP.value)(listen(acknowledge))
