"""App wiring: build_app(settings, ...) returns a bolt App with its listeners, middleware and error handler."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.checklist import Checklist, load_checklist
from bot.db import ensure_schema, make_engine, session_factory, session_scope
from bot.errors import ConfigError
from bot.executor import ListenerExecutor
from bot.reminder_plan import ReminderPolicy
from bot.services.errors import ServiceError
from bot.settings import Settings

log = logging.getLogger("readiness")


@dataclass
class Deps:
    """What listeners need besides the request: put in every request's context by middleware.

    Shared, not copied: bolt deep-copies the context for work after the ack, and these are safe to share.
    """

    settings: Settings
    checklist: Checklist
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    kick: Callable[[], object] = field(default=lambda: None)
    modal_client: WebClient | None = None
    executor: ListenerExecutor | None = None

    def open_modal(self, trigger_id: str, view: dict[str, Any]) -> None:
        assert self.modal_client is not None
        self.modal_client.views_open(trigger_id=trigger_id, view=view)

    def now(self) -> datetime:
        return self.clock()

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self


class RequestScope:
    """The request's unit of work: ``with context["db"].transaction() as session: ...`` commits or rolls back;
    ``read()`` is for listeners that only read."""

    def __init__(self, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session] | None = None) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions or sessions

    def __deepcopy__(self, memo: dict[int, Any]) -> RequestScope:
        return RequestScope(self._sessions, self._read_sessions)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with session_scope(self._sessions) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with session_scope(self._read_sessions) as session:
            yield session


def deps_of(context: BoltContext) -> Deps:
    return context["deps"]


def db_of(context: BoltContext) -> RequestScope:
    return context["db"]


def make_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    kwargs: dict[str, Any] = {"token": token, "timeout": 10}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    client = WebClient(**kwargs)
    # Only 429s are retried (after Retry-After): Slack did nothing with those. A 5xx or a dropped
    # connection may hide a post that went through, so it is never resent blindly.
    client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=2)]
    return client


def make_modal_client(settings: Settings) -> WebClient:
    """views.open runs before the ack with a trigger that lives three seconds: no retries, a short timeout."""
    client = make_client(settings)
    client.timeout = 2
    client.retry_handlers = []
    return client


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    client: WebClient | None = None,
    checklist: Checklist | None = None,
    clock: Callable[[], datetime] | None = None,
    executor: ListenerExecutor | None = None,
    socket_mode: bool = False,
    kick: Callable[[], object] | None = None,
) -> App:
    """Wire the Slack app. Nothing here is global: tests and the demo build as many apps as they need.

    Over HTTP every request's signature is verified (SLACK_SIGNING_SECRET); Socket Mode needs none.
    """
    import handlers

    if settings.slack_signing_secret is None and not socket_mode:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode cannot verify Slack's requests without it")
    engine = engine or make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    ensure_schema(engine)
    deps = Deps(
        settings=settings,
        checklist=checklist or load_checklist(settings.checklist_path),
        sessions=session_factory(engine, clock=clock),
        policy=settings.reminder_policy(),
        modal_client=make_modal_client(settings),
    )
    if clock is not None:
        deps.clock = clock
    if kick is not None:
        deps.kick = kick  # deliver what a request queued in the outbox right away, not at the next sweep

    read_sessions = session_factory(engine, readonly=True, clock=clock)
    deps.executor = executor = executor or ListenerExecutor()
    app = App(
        client=client or make_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        # Ack functions run in the request's own thread and answer as soon as they return; the work
        # after the ack runs in a bounded pool, so a burst of post-ack work never delays an ack.
        process_before_response=True,
        listener_executor=executor,
    )

    @app.middleware
    def inject(context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002 - bolt's name
        context["deps"] = deps
        context["db"] = RequestScope(deps.sessions, read_sessions)
        next()

    app.error(_error_handler)
    handlers.register(app)
    return app


DB_DOWN = "The review database is not reachable right now, so nothing was saved. Please try again in a minute."


def user_message(error: Exception, error_id: str) -> str:
    if isinstance(error, ServiceError):
        return str(error)
    if isinstance(error, DBAPIError):
        return f"{DB_DOWN} (error id {error_id})"
    return f"Something went wrong on our side and nothing was changed. (error id {error_id})"


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks", []):
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _error_handler(
    error: Exception, body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
) -> BoltResponse | None:
    """The one error handler: log the traceback under an id, show the user a short message."""
    acked = context.ack is not None and context.ack.response is not None
    return report_error(error, body, context, client, logger, acked=acked)


def report_error(
    error: Exception, body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger,
    *, acked: bool,
) -> BoltResponse | None:
    """Log the traceback under an error id and tell the user, in the ack when there is still one to give."""
    error_id = uuid.uuid4().hex[:8]
    if isinstance(error, ServiceError):
        logger.info("refused (%s): %s", error_id, error)
    else:
        logger.error("error %s while handling %s", error_id, body.get("type") or body.get("command"), exc_info=error)
    message = user_message(error, error_id)
    if acked and not isinstance(error, ServiceError):
        message = (f"Your request was saved, but Readiness could not bring every Slack message up to date "
                   f"(error id {error_id}). Alerts and reminders are queued and still go out.")
    if not acked:
        if body.get("type") == "view_submission":
            block_id = _first_input_block(body.get("view", {}))
            if block_id:
                return BoltResponse(status=200, body={"response_action": "errors", "errors": {block_id: message}})
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
