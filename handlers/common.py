"""Small pieces several listener modules share: parsing our own controls, the workspace, the review named."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, BoltContext
from sqlalchemy.orm import Session

from bot.context import db_of, deps_of
from bot.core.reminder_plan import zone
from bot.services.errors import ServiceError
from bot.services.golive import latest_in_channel
from bot.services.people import timezone_of


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
    """The workspace whose reviews a request acts on: the one the app is installed in (bolt's authorization,
    from auth.test or the installation). In a Slack Connect channel the payload's own team is the clicker's
    workspace, which holds none of this review's rows."""
    authorized = context.authorize_result.team_id if context.authorize_result is not None else None
    return authorized or context.team_id or body.get("team_id") or body["team"]["id"]


MAX_ROW_ID = 2**31 - 1
REVIEW_NUMBER = re.compile(r"^#?([0-9]{1,10})$")


def review_number(text: str) -> int | None:
    """``12`` or ``#12`` as a review number; None for anything else (no review can have it)."""
    found = REVIEW_NUMBER.match(text.strip())
    number = int(found.group(1)) if found else 0
    return number if 1 <= number <= MAX_ROW_ID else None


def review_from_args(ack: Ack, command: dict[str, Any], context: BoltContext, args: list[str],
                     subcommand: str) -> int | None:
    """`/readiness <subcommand> [n]`: review n, or the latest open review started in this channel.

    Answers the usage in the ack and returns None when neither can be found.
    """
    if args:
        number = review_number(args[0].removeprefix("#"))
        if number is None:
            ack(text=f"Usage: `/readiness {subcommand} [review number]`, for example `/readiness {subcommand} 12`.")
        return number
    with db_of(context).read() as session:
        found = latest_in_channel(session, team_of(command, context), command["channel_id"])
    if found is None:
        ack(text=f"No open review was started in this channel: use `/readiness {subcommand} <review number>`.")
    return found


def review_from_button(action: dict[str, Any]) -> int:
    number = review_number(action.get("value") or "")
    if number is None or (action.get("value") or "").startswith("#"):
        raise ServiceError("That button was not made by Readiness; nothing was changed.")
    return number


def local_today(context: BoltContext, session: Session, team_id: str, user_id: str) -> date:
    """The person's own calendar day (a datepicker's first date): their zone as the bot knows it, else Slack's
    (users.info), else UTC."""
    deps = deps_of(context)
    tz = timezone_of(session, team_id, user_id)
    if tz is None and deps.modal_client is not None:  # (the client carries this workspace's token)
        tz = deps.slack_zone(team_id, user_id)
    return deps.now().astimezone(zone(tz)).date()
