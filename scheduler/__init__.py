"""Reminder and watch-list delivery: the outbox sweep, the lease reaper and the reconcile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.slack import make_client
from scheduler.delivery import Deliverer, sending_client
from scheduler.jobs import Reconciler, start_scheduler


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

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None


def build_delivery(settings: Settings, sessions: sessionmaker[Session], client: WebClient | None = None,
                   clock: Callable[[], datetime] | None = None) -> Delivery:
    """The delivery side of one replica. ``client`` serves look-ups (users.info); posts use their own client."""
    client = client or make_client(settings)
    if clock is not None:
        sessions.configure(info={"clock": clock})  # time-bound state (waivers) follows the same clock
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    # A post must end well inside its claim's lease, or another replica could take the row over meanwhile.
    timeout = max(1.0, min(10.0, settings.lease_seconds / 2))
    deliverer = Deliverer(
        sessions, sending_client(token, settings.slack_api_url, timeout=timeout),
        lease=timedelta(seconds=settings.lease_seconds), max_attempts=settings.max_attempts,
        clock=clock, policy=settings.reminder_policy(),
    )
    reconciler = Reconciler(sessions, client, settings.reminder_policy(), clock or (lambda: datetime.now(UTC)))
    return Delivery(deliverer, reconciler, settings)
