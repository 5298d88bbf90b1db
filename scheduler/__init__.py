"""Reminder and watch-list delivery: the outbox sweep, the lease reaper and the reconcile."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db import is_outage
from bot.installs.clients import WorkspaceClients
from bot.observe.metrics import counting_429s
from bot.settings import Settings
from bot.slack import make_client
from scheduler.delivery import Deliverer, sending_client
from scheduler.jobs import Reconciler, start_scheduler

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    deliverer: Deliverer
    reconciler: Reconciler
    settings: Settings
    scheduler: BackgroundScheduler | None = None

    def start(self) -> Delivery:
        self.scheduler = start_scheduler(
            self.deliverer, self.reconciler, sweep_seconds=self.settings.sweep_interval_seconds,
            reconcile_seconds=self.settings.reconcile_interval_seconds,
            lease=timedelta(seconds=self.settings.lease_seconds),
        )
        return self

    def stop(self) -> int:
        """Stop cleanly: no new claims, the sweep in progress ends after its current post, the scheduler stops,
        and every row this replica claimed but did not post is released for the others. Returns that count."""
        self.deliverer.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        try:
            released = self.deliverer.release()
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("could not release the claimed messages, the database is not reachable (%s); the lease "
                        "reaper of another replica recovers them", type(exc).__name__)
            return 0
        if released:
            log.info("released %d claimed message(s) for the other replicas", released)
        return released


def build_delivery(settings: Settings, sessions: sessionmaker[Session],
                   clock: Callable[[], datetime] | None = None) -> Delivery:
    """The delivery side of one replica: posts use clients without retries, look-ups (users.info) clients that
    wait out a 429; both per workspace (in single-token mode, the one token's)."""
    if clock is not None:
        sessions.configure(info={"clock": clock})  # time-bound state (waivers) follows the same clock
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    # A post must end well inside its claim's lease, or another replica could take the row over meanwhile.
    timeout = max(1.0, min(10.0, settings.lease_seconds / 2))

    def poster(bot_token: str | None) -> WebClient:
        return counting_429s(sending_client(bot_token, settings.slack_api_url, timeout=timeout))

    def looker(bot_token: str | None) -> WebClient:
        found = make_client(settings)  # counts its 429s already
        found.token = bot_token
        return found

    posts, lookups = workspace_clients(settings, sessions, poster), workspace_clients(settings, sessions, looker)
    deliverer = Deliverer(
        sessions, poster(token), lease=timedelta(seconds=settings.lease_seconds), max_attempts=settings.max_attempts,
        clock=clock, policy=settings.reminder_policy(), workspaces=posts,
    )
    reconciler = Reconciler(sessions, looker(token), settings.reminder_policy(),
                            clock or (lambda: datetime.now(UTC)), clients=lookups)
    return Delivery(deliverer, reconciler, settings)


def workspace_clients(settings: Settings, sessions: sessionmaker[Session],
                      make: Callable[[str | None], WebClient]) -> WorkspaceClients:
    """Single-token mode: the one token for every workspace; OAuth mode: each installation's own."""
    if not settings.oauth_mode:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        return WorkspaceClients(sessions, make, token=token)
    from bot.installs.oauth import installation_store, token_rotator

    engine = sessions.kw["bind"]
    return WorkspaceClients(sessions, make, store=installation_store(settings, engine),
                            rotator=token_rotator(settings, make(None)), rotate_minutes=settings.token_rotation_minutes)
