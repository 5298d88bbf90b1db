"""Buttons: No / Partial / Yes on an item open the mark modal."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import db_of, deps_of
from bot.checklist import Mark
from bot.services import reviews
from bot.services.errors import ServiceError
from handlers.blocks.modals import mark_modal
from handlers.ids import ActionId
from handlers.state import ItemRef, MarkModalState

MARK_OF = {ActionId.MARK_NO: Mark.NO, ActionId.MARK_PARTIAL: Mark.PARTIAL, ActionId.MARK_YES: Mark.YES}


def open_mark_modal(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    try:
        ref = ItemRef.model_validate_json(action.get("value") or "")
    except ValidationError:
        raise ServiceError("That button is not one of ours; nothing was changed.") from None
    team_id = context.team_id or body["team"]["id"]
    with db_of(context).transaction() as session:
        review = reviews.load_review(session, team_id, ref.assessment)
    if ref.item not in review.checklist.item_ids:
        raise ServiceError(f"{ref.item} is not an item of this review.")
    container = body.get("container", {})
    state = MarkModalState(
        assessment_id=ref.assessment,
        item_id=ref.item,
        mark=MARK_OF[ActionId(action["action_id"])],
        channel_id=container.get("channel_id"),
        message_ts=container.get("message_ts"),
    )
    today = deps_of(context).now().date()
    view = mark_modal(review.checklist, state, review.status_of(ref.item), today)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: App) -> None:
    app.action(re.compile(r"^mark_(no|partial|yes)$"))(open_mark_modal)
