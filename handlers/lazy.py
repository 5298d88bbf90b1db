"""Work after the ack: bolt runs it in the listener pool; its errors go to the same error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.app import report_error

AfterAck = Callable[[dict[str, Any], BoltContext, WebClient], None]


def after_ack(fn: AfterAck) -> Callable[..., None]:
    """Wrap post-ack work: ``fn(body, context, client)``. A failure is reported to the user, never lost
    in a log line only (bolt's own runner would just log it)."""

    def run(body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger) -> None:
        try:
            fn(body, context, client)
        except Exception as error:  # handed to the one error handler, which logs it and tells the user
            report_error(error, body, context, client, logger, acked=True)

    run.__name__ = run.__qualname__ = f"after_ack_{fn.__name__}"
    return run
