"""The one error handler: log the traceback under an id, show the person a short message, never a traceback."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.context import VERIFIED, saved_in_ack
from bot.db import is_outage
from bot.services.errors import Link, Mention, Part, ServiceError
from handlers.blocks import text as t
from handlers.blocks.packet import slack_link

log = logging.getLogger(__name__)

DB_DOWN = "The review database is not reachable right now, so nothing was saved. Please try again in a minute."


def _slack_part(part: Part) -> str:
    if isinstance(part, Mention):
        return t.user(part.id) if part.kind == "user" else t.channel(part.id)
    if isinstance(part, Link):
        return slack_link(part.url, part.label)
    return t.esc(part)


def refusal_text(error: ServiceError) -> str:
    """A refusal as Slack mrkdwn, the one way a ServiceError's text reaches a message: its words are escaped
    (a review named `<!channel> x` pings nobody), the people, channels and links it names by id are made here."""
    return "".join(_slack_part(part) for part in error.parts)


def user_message(error: Exception, error_id: str, *, saved: bool = False, plain: bool = False) -> str:
    """What the person is told: a refusal says why; otherwise whether anything was saved, and the error id.
    As mrkdwn, unless ``plain`` (a form field's error, which Slack shows as typed)."""
    if isinstance(error, ServiceError):
        return str(error) if plain else refusal_text(error)
    if saved:
        return (f"Your request was saved, but Readiness could not bring every Slack message up to date "
                f"(error id {error_id}). Alerts and reminders are queued and still go out.")
    if is_outage(error):
        return f"{DB_DOWN} (error id {error_id})"
    return f"Something went wrong on our side and nothing was changed. (error id {error_id})"


def log_error(error: Exception, body: dict[str, Any], logger: logging.Logger | None = None) -> str:
    """Log ``error`` under a new error id (the traceback for a defect, one line for a refusal or an outage);
    returns the id, which the person is shown."""
    logger = logger or log
    error_id = uuid.uuid4().hex[:8]
    if isinstance(error, ServiceError):
        logger.info("refused (%s): %s", error_id, error, extra={"error_id": error_id})
    elif is_outage(error):
        logger.warning("error %s: the database is not reachable (%s)", error_id, type(error).__name__,
                       extra={"error_id": error_id})
    else:
        logger.error("error %s while handling %s", error_id, body.get("type") or body.get("command"), exc_info=error,
                     extra={"error_id": error_id})
    return error_id


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks", []):
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _error_handler(
    error: Exception, body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
) -> BoltResponse | None:
    acked = context.ack is not None and context.ack.response is not None
    return report_error(error, body, context, client, logger, acked=acked)


def report_error(
    error: Exception, body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger,
    *, acked: bool,
) -> BoltResponse | None:
    """Log the traceback under an error id and tell the user, in the ack when there is still one to give.

    A request that never passed signature verification is answered 401 and nothing else: no message is sent
    anywhere on its behalf (its response_url and user are whatever the sender wrote)."""
    if not context.get(VERIFIED):
        log.warning("error before the request was verified (%s): answered 401", type(error).__name__)
        return BoltResponse(status=401, body="")
    error_id = log_error(error, body, logger)
    saved = acked and saved_in_ack(context)
    message = user_message(error, error_id, saved=saved)
    if not acked:
        if body.get("type") == "view_submission":
            block_id = _first_input_block(body.get("view", {}))
            if block_id:
                plain = user_message(error, error_id, saved=saved, plain=True)
                return BoltResponse(status=200, body={"response_action": "errors", "errors": {block_id: plain}})
        if body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": message})
        if body.get("response_url") and context.respond is not None:
            # a refused click: only the person who clicked sees why
            context.respond(text=message, response_type="ephemeral", replace_original=False)
        return BoltResponse(status=200, body="")
    user_id = context.user_id or (body.get("user") or {}).get("id") or body.get("user_id")
    response_url = body.get("response_url")
    if response_url and context.respond is not None:
        context.respond(text=message, response_type="ephemeral", replace_original=False)
    elif user_id:
        client.chat_postMessage(channel=user_id, text=message)
    return None


def register(app: App) -> None:
    app.error(_error_handler)
