"""App wiring: build_app(settings, ...) returns a bolt App with its listeners, middleware and error handler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.context import VERIFIED, Deps, RequestScope
from bot.core.checklist import Checklist, load_checklist
from bot.db import ensure_schema, make_engine, session_factory
from bot.errors import ConfigError
from bot.executor import ListenerExecutor
from bot.settings import Settings
from bot.slack import make_client, make_modal_client
from handlers import (
    actions,
    commands,
    config,
    delivery,
    errors,
    events,
    evidence,
    packet,
    reminder_actions,
    signoff,
    views,
    waivers,
    watch,
)

# One module per surface, each with register(app); the error handler is the one for all of them.
LISTENERS = (errors, commands, actions, views, events, reminder_actions, watch, signoff, waivers, config, packet,
             evidence, delivery)


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
        # custom middleware runs after bolt's own: a request that reaches this point passed its verification
        context[VERIFIED] = True
        context["deps"] = deps
        context["db"] = RequestScope(deps.sessions, read_sessions)
        next()

    for module in LISTENERS:
        module.register(app)
    return app
