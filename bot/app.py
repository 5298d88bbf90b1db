"""App wiring: build_app(settings, ...) returns a bolt App with its listeners, middleware and error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.context import VERIFIED, Deps, RequestScope
from bot.core.checklist import Checklist, load_checklist
from bot.db import ensure_schema, make_engine, session_factory
from bot.errors import ConfigError
from bot.executor import ListenerExecutor
from bot.installs.oauth import check as check_oauth
from bot.observe.logcontext import about
from bot.settings import Settings
from bot.slack import bot_token, make_client, make_modal_client, shape_client
from handlers import (
    actions,
    commands,
    config,
    delivery,
    errors,
    events,
    evidence,
    installs,
    packet,
    reminder_actions,
    signoff,
    views,
    waivers,
    watch,
)

# One module per surface, each with register(app); the error handler is the one for all of them.
LISTENERS = (errors, commands, actions, views, events, reminder_actions, watch, signoff, waivers, config, packet,
             evidence, delivery, installs)


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
    check_oauth(settings)
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
    # bolt takes the bot token or a client, not both (given both, or a client while SLACK_BOT_TOKEN is set, it
    # warns at every start): in single-token mode it gets the token and its client is shaped as ours are
    given: dict[str, object] = {"client": client} if client is not None else {"token": bot_token(settings)}
    if settings.oauth_mode:
        # Install to any workspace: bolt's OAuth flow and authorize, on slack_sdk's stores (tokens encrypted)
        from bot.installs.oauth import ReadinessOAuthFlow, note_message_click, oauth_parts

        client = client or make_client(settings)
        client.token = None  # every request gets its workspace's token from the authorize
        parts = oauth_parts(settings, engine, client, deps.sessions)
        deps.installation_store = parts.store
        flow = ReadinessOAuthFlow(client=client, logger=logging.getLogger("readiness.oauth"),
                                  settings=parts.settings, sessions=deps.sessions)
        given = {"client": client, "oauth_flow": flow, "authorize": parts.authorize,
                 "installation_store": parts.store, "before_authorize": note_message_click}
    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        # Ack functions run in the request's own thread and answer as soon as they return; the work
        # after the ack runs in a bounded pool, so a burst of post-ack work never delays an ack.
        process_before_response=True,
        listener_executor=executor,
        **given,  # type: ignore[arg-type]
    )
    if client is None:
        shape_client(app.client, settings)

    @app.middleware
    def inject(context: BoltContext, body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002
        # custom middleware runs after bolt's own: a request that reaches this point passed its verification
        context[VERIFIED] = True
        # in OAuth mode each request opens its modals with its own workspace's token
        context["deps"] = replace(deps, modal_token=context.bot_token) if settings.oauth_mode else deps
        context["db"] = RequestScope(deps.sessions, read_sessions)
        authorized = context.authorize_result.team_id if context.authorize_result is not None else None
        with about(team_id=authorized or context.team_id, interaction=interaction_kind(body)):
            next()

    for module in LISTENERS:
        module.register(app)
    return app


def interaction_kind(body: dict[str, Any]) -> str | None:
    """What kind of Slack request this is, for the log: a command, a click, a form, an event."""
    if body.get("command"):
        return str(body["command"])
    if body.get("type") == "event_callback":
        return "event:" + str((body.get("event") or {}).get("type") or "?")
    return str(body.get("type") or "") or None
