"""*Post it again* on a notice that Slack refused one of the bot's messages for good."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import or_, select

from bot.context import db_of, deps_of
from bot.services import outbox
from bot.services.errors import ServiceError
from bot.services.notices import DELIVERY_FAILED, failed_key
from handlers.common import review_number, team_of
from handlers.ids import ActionId
from handlers.lazy import after_ack, listen
from models import OutboxMessage
from models.outbox import UNKNOWN


def retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """Only the person the notice went to may send the message again, and only while it is still dead."""
    row_id = review_number(action.get("value") or "")
    if row_id is None:
        raise ServiceError("That button was not made by Readiness; nothing was changed.")
    team_id, user = team_of(body, context), body["user"]["id"]
    with db_of(context).transaction() as session:
        first = failed_key(row_id, user)  # or a later notice of the same row: f"{first}:again{n}"
        notified = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.team_id == team_id, OutboxMessage.recipient == user, OutboxMessage.kind == DELIVERY_FAILED,
            or_(OutboxMessage.dedupe_key == first,
                OutboxMessage.dedupe_key.startswith(f"{first}:again", autoescape=True))).limit(1))
        if notified is None:
            raise ServiceError("Only the person this notice went to can post the message again.")
        revived = outbox.revive(session, team_id, row_id)
        if revived is None:
            raise ServiceError("That message is no longer waiting to be posted again.")
        context["look_first"] = revived.status == UNKNOWN
    context["retried"] = row_id
    ack()


def say_retried(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if context.get("retried") is None:
        return
    deps_of(context).kick()
    if body.get("response_url") and context.respond is not None:
        said = ("Readiness will look for it in the channel first and post it only if it is not there; you will "
                "hear if it fails again." if context.get("look_first") else
                "Readiness will post it again now; you will hear if it fails again.")
        context.respond(text=said, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    app.action(ActionId.RETRY_DELIVERY.value)(listen(retry, after_ack(say_retried)))
