"""The scheduler every replica runs: APScheduler with the memory job store and interval jobs only.

No reminder is ever an APScheduler job: reminders are outbox rows in the database. The jobs are
the sweep (deliver what is due), the lease reaper, and the reconcile (re-derive what should exist).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.context import RequestScope
from bot.core.reminder_plan import ReminderPolicy
from bot.db import session_scope
from bot.observe.metrics import timed_job
from bot.services import people, reminders, reviews, workspaces
from bot.services.waivers import expire_due
from handlers.publish import repair_reviews
from scheduler.delivery import Deliverer

log = logging.getLogger(__name__)


class Reconciler:
    """Fetches the time zones and names of the people open reviews name (users.info), then re-derives every
    open gap's reminders."""

    def __init__(self, sessions: sessionmaker[Session], client: WebClient, policy: ReminderPolicy,
                 clock: Callable[[], datetime], read_sessions: sessionmaker[Session] | None = None,
                 clients: Callable[[str], WebClient | None] | None = None) -> None:
        self.sessions, self.client, self.policy, self.clock = sessions, client, policy, clock
        self.read_sessions = read_sessions or sessions
        self.clients = clients  # each workspace's client (None where it is not served); default: ``client``

    def client_for(self, team_id: str) -> WebClient | None:
        return self.clients(team_id) if self.clients is not None else self.client

    def repair(self) -> int:
        """Reviews whose start could not post everything to Slack get their missing messages."""
        settled = datetime.now(UTC) - timedelta(seconds=60)
        return repair_reviews(self.client_for, RequestScope(self.sessions, self.read_sessions), settled)

    def fetch_people(self) -> int:
        """users.info for the people open reviews name: new ones, failed look-ups an hour later, and everyone
        once a week. Their time zone times reminders; their names show in the rollout packet."""
        with session_scope(self.sessions) as session:
            due = people.people_to_fetch(session, self.clock())
        for team_id, user_id in due:
            client = self.client_for(team_id)
            if client is None:  # the workspace is not served: its people can wait
                continue
            try:
                profile: people.Profile | None = people.Profile.from_user(client.users_info(user=user_id)["user"])
            except SlackApiError as exc:  # an unknown user keeps UTC and no name; the reason is logged
                log.warning("no profile for %s: %s", user_id, exc.response.get("error"))
                profile = None
            with session_scope(self.sessions) as session:
                people.remember(session, team_id, user_id, profile, self.clock())
        return len(due)

    def expire_waivers(self) -> int:
        """End the waivers whose time is up. Their notices go out through the outbox, and delivering
        them brings the review's message and sign-off card up to date."""
        with session_scope(self.sessions) as session:
            return len(expire_due(session, self.clock()))

    def run(self) -> int:
        self.repair()
        self.fetch_people()
        with session_scope(self.sessions) as session:
            reviews.prune_interactions(session, datetime.now(UTC) - timedelta(days=7))
        inserted = 0
        with session_scope(self.sessions) as session:
            for team_id in workspaces.served(session):  # an uninstalled workspace is owed nothing
                inserted += reminders.reconcile(session, self.clock(), self.policy, team_id=team_id)
        return inserted


def start_scheduler(
    deliverer: Deliverer,
    reconciler: Reconciler,
    *,
    sweep_seconds: float,
    reconcile_seconds: float,
    lease: timedelta,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    )
    scheduler.add_job(timed_job("sweep", deliverer.sweep), "interval", seconds=sweep_seconds, id="sweep")
    scheduler.add_job(timed_job("waivers", reconciler.expire_waivers), "interval", seconds=sweep_seconds,
                      id="waivers")
    scheduler.add_job(timed_job("reap", deliverer.reap), "interval", seconds=max(2.0, lease.total_seconds() / 3),
                      id="reap")
    scheduler.add_job(timed_job("reconcile", reconciler.run), "interval", seconds=reconcile_seconds,
                      id="reconcile", next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler
