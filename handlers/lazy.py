"""Work after the ack, without copying the request.

``listen(ack_fn, *after)`` makes one bolt listener: ``ack_fn`` answers Slack in the request's own thread
(validating, writing, acknowledging); each ``after_ack(fn)`` then runs ``fn(body, context, client)`` in a
pool, its lane chosen by what a person is waiting for. Failures go to the one error handler, which logs
them under an error id and tells the user.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context import SAVED, db_of, deps_of
from bot.core.documents import tree_problem
from bot.executor import BACKGROUND, INTERACTIVE
from bot.observe.metrics import ScreenTimer, kind_of
from bot.services.errors import ServiceError
from handlers.blocks.kit import loading_modal, notice_modal
from handlers.errors import log_error, refusal_text, report_error, user_message

AfterAck = Callable[[dict[str, Any], BoltContext, WebClient], None]
PAYLOAD_NAMES = ("command", "action", "view", "event")
MAX_BODY_DEPTH = 24  # Slack's deepest payloads (a view with its state) stay well inside this


def after_ack(fn: AfterAck, lane: str = BACKGROUND) -> Callable[..., None]:
    def run(body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger) -> None:
        owed = db_of(context).owed
        try:
            fn(body, context, client)
        except Exception as error:  # handed to the one error handler, which logs it and tells the user
            report_error(error, body, context, client, logger, acked=True)
        if db_of(context).owed > owed:
            deliver_owed(body, context, client, logger)

    run.__name__ = run.__qualname__ = f"after_ack_{fn.__name__}"
    run.lane = lane  # type: ignore[attr-defined]
    return run


def deliver_owed(body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger) -> None:
    """What the request queued in the outbox (messages, updates of what shows a review) goes out now, not at
    the next sweep; whatever fails here is the outbox's to retry."""
    try:
        deps_of(context).kick()
    except Exception as error:
        report_error(error, body, context, client, logger, acked=True)


def opens_modal(fn: AfterAck) -> Callable[..., None]:
    """Work that opens a modal: the interactive lane, right after the ack (the trigger lives 3 s)."""
    return after_ack(fn, lane=INTERACTIVE)


def listen(ack_fn: Callable[..., None], *after: Callable[..., None]) -> Callable[..., None]:
    wanted = list(inspect.signature(ack_fn).parameters)

    def listener(ack: Ack, body: dict[str, Any], payload: dict[str, Any], context: BoltContext,
                 client: WebClient, logger: logging.Logger) -> None:
        problem = tree_problem(body, max_depth=MAX_BODY_DEPTH)
        if problem:  # a NUL or a lone surrogate can be neither stored nor shown: refused before anything reads it
            raise ServiceError(f"That request holds text Readiness cannot take ({problem}); nothing was changed.")
        available: dict[str, Any] = {"ack": ack, "body": body, "context": context, "client": client,
                                     "logger": logger, **{name: payload for name in PAYLOAD_NAMES}}
        ack_fn(**{name: available[name] for name in wanted})
        context[SAVED] = db_of(context).commits > 0  # what the error handler may tell if later work fails
        executor = deps_of(context).executor
        screen = ScreenTimer(len(after), kind_of(body))
        for work in after:
            job = screen.wrap(functools.partial(work, body, context, client, logger))
            job.lane = getattr(work, "lane", BACKGROUND)  # type: ignore[attr-defined]
            executor.submit(job)
        if db_of(context).owed:
            kick = functools.partial(deliver_owed, body, context, client, logger)
            kick.lane = BACKGROUND  # type: ignore[attr-defined]
            executor.submit(kick)

    listener.__name__ = listener.__qualname__ = ack_fn.__name__
    return listener


def open_form(body: dict[str, Any], context: BoltContext, build: Callable[[], dict[str, Any]]) -> None:
    """Open a form the way Slack wants it for work that must read first: a small loading view at once (the
    click's trigger lives three seconds), then the form built from what ``build`` reads, in its place. A
    refusal while building is shown in the modal itself, and so is any other failure (a short message with
    its error id, the traceback logged under it): the person is never left looking at "Loading…"."""
    deps = deps_of(context)
    view_id, view_hash = deps.open_modal(body["trigger_id"], loading_modal())
    try:
        view = build()
    except ServiceError as refused:
        view = notice_modal("Readiness", f":no_entry: {refusal_text(refused)}")
    except Exception as error:  # any failure: said where the person is looking, logged under its id
        view = notice_modal("Readiness", f":warning: {user_message(error, log_error(error, body))}")
    deps.update_modal(view_id, view_hash, view)
