"""Buttons: No / Partial / Yes on an item open the mark modal."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of
from bot.core.checklist import Mark
from bot.services import reviews
from handlers.blocks.modals import mark_modal
from handlers.common import local_today, parse_control, team_of
from handlers.ids import ActionId
from handlers.lazy import listen, open_form, opens_modal
from handlers.state import ItemRef, MarkModalState

MARK_OF = {
    ActionId.MARK_NO: Mark.NO,
    ActionId.MARK_PARTIAL: Mark.PARTIAL,
    ActionId.MARK_YES: Mark.YES,
    ActionId.REMINDER_REMARK: Mark.NO,  # "closed": a reminder's way to mark the gap No with evidence
}
MARK_BUTTONS = re.compile(r"^(mark_(no|partial|yes)|reminder_remark)$")


def acknowledge(ack: Ack) -> None:
    ack()


def open_mark_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Right after the ack, in the interactive lane: views.open needs the trigger_id while it is fresh."""
    action = body["actions"][0]
    ref = parse_control(ItemRef, action.get("value"))  # a value not made by Readiness is refused before any form

    def build() -> dict[str, Any]:
        team_id = team_of(body, context)
        with db_of(context).read() as session:
            checklist, status = reviews.item_status(session, team_id, ref.assessment, ref.item)
            today = local_today(context, session, team_id, body["user"]["id"])
        container = body.get("container", {})
        state = MarkModalState(
            assessment_id=ref.assessment,
            item_id=ref.item,
            mark=MARK_OF[ActionId(action["action_id"])],
            channel_id=container.get("channel_id"),
            message_ts=container.get("message_ts"),
        )
        view = mark_modal(checklist, state, status, today)
        return view

    open_form(body, context, build)


def register(app: App) -> None:
    app.action(MARK_BUTTONS)(listen(acknowledge, opens_modal(open_mark_modal)))
