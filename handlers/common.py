"""Small pieces several listener modules share: parsing our own controls, the workspace, the review named."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, BoltContext

from bot.context import db_of
from bot.services.errors import ServiceError
from bot.services.golive import latest_in_channel


def parse_control(model: type[BaseModel], raw: str | None) -> Any:
    """The state a button or modal of ours carries; anything else is refused."""
    try:
        return model.model_validate_json(raw or "")
    except ValidationError:
        raise ServiceError("That control was not made by Readiness; nothing was changed.") from None


def view_key(view: dict[str, Any]) -> str:
    """One key per submitted view: a replay or a double submit has the same id and hash."""
    return f"view:{view['id']}:{view.get('hash', '')}"


def team_of(body: dict[str, Any], context: BoltContext) -> str:
    return context.team_id or body.get("team_id") or body["team"]["id"]


def review_from_args(ack: Ack, command: dict[str, Any], context: BoltContext, args: list[str],
                     subcommand: str) -> int | None:
    """`/readiness <subcommand> [n]`: review n, or the latest open review started in this channel.

    Answers the usage in the ack and returns None when neither can be found.
    """
    if args and not args[0].lstrip("#").isdigit():
        ack(text=f"Usage: `/readiness {subcommand} [review number]`.")
        return None
    if args:
        return int(args[0].lstrip("#"))
    with db_of(context).read() as session:
        found = latest_in_channel(session, team_of(command, context), command["channel_id"])
    if found is None:
        ack(text=f"No open review was started in this channel: use `/readiness {subcommand} <review number>`.")
    return found


def review_from_button(action: dict[str, Any]) -> int:
    value = action.get("value") or ""
    if not value.isdigit():
        raise ServiceError("That button was not made by Readiness; nothing was changed.")
    return int(value)
