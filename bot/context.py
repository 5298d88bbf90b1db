"""What a listener reaches through the request's context: the shared dependencies and the unit of work.

``bot.app`` puts both in every request's context; listeners read them with ``deps_of`` and ``db_of``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.checklist import Checklist
from bot.core.reminder_plan import ReminderPolicy
from bot.db import session_scope
from bot.executor import ListenerExecutor
from bot.services.errors import ServiceError
from bot.services.outbox import OWED
from bot.settings import Settings

ZONE_SECONDS = 3600.0  # how long users.info's answer for a person's time zone is reused by this process
MAX_ZONES = 10_000
TRIGGER_EXPIRED = ("Slack gave Readiness too little time to open that form, so it did not open and nothing was "
                   "changed. Please click again (or run the command again).")


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
    installation_store: Any = None  # OAuth mode: slack_sdk's installation store (bot.installs.store)
    modal_token: str | None = None  # OAuth mode: the request's workspace token (set per request)
    # users.info's time zones of people the bot holds none for: (team, user) -> (tz, when asked, monotonic)
    zones: dict[tuple[str, str], tuple[str | None, float]] = field(default_factory=dict)

    def slack_zone(self, team_id: str, user_id: str) -> str | None:
        """A person's time zone as Slack's users.info gives it, asked once an hour at most per person (a form's
        first date needs it at every click otherwise); None when Slack does not say (not kept: asked again)."""
        known = self.zones.get((team_id, user_id))
        if known is not None and time.monotonic() - known[1] < ZONE_SECONDS:
            return known[0]
        try:
            tz = self.ack_client().users_info(user=user_id)["user"].get("tz") or None
        except SlackApiError:
            return None
        if len(self.zones) >= MAX_ZONES:
            self.zones.clear()
        self.zones[(team_id, user_id)] = (tz, time.monotonic())
        return tz

    def open_modal(self, trigger_id: str, view: dict[str, Any]) -> tuple[str, str]:
        """Open ``view`` with the click's trigger (valid three seconds, once); returns its id and hash.

        An expired or used trigger is the person's to click again: they are told so, and nothing is said
        to be saved."""
        assert self.modal_client is not None
        try:
            opened = self.ack_client().views_open(trigger_id=trigger_id, view=view)["view"]
        except SlackApiError as exc:
            if exc.response.get("error") in ("expired_trigger_id", "exchanged_trigger_id"):
                raise ServiceError(TRIGGER_EXPIRED) from None
            raise
        return str(opened["id"]), str(opened.get("hash") or "")

    def update_modal(self, view_id: str, view_hash: str, view: dict[str, Any]) -> None:
        self.ack_client().views_update(view_id=view_id, hash=view_hash or None, view=view)

    def ack_client(self, timeout: float | None = None) -> WebClient:
        """The client for calls a person is waiting on (no retries, a short timeout, or ``timeout`` seconds),
        with this request's workspace token in OAuth mode."""
        assert self.modal_client is not None
        client = self.modal_client
        if self.modal_token is not None or timeout is not None:
            client = WebClient(token=self.modal_token or client.token, base_url=client.base_url,
                               timeout=client.timeout if timeout is None else timeout,
                               retry_handlers=list(client.retry_handlers))
        return client

    def now(self) -> datetime:
        return self.clock()

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        return self


class RequestScope:
    """The request's unit of work: ``with context["db"].transaction() as session: ...`` commits or rolls back;
    ``read()`` is for listeners that only read."""

    def __init__(self, sessions: sessionmaker[Session], read_sessions: sessionmaker[Session] | None = None,
                 commits: list[int] | None = None) -> None:
        self._sessions = sessions
        self._read_sessions = read_sessions or sessions
        # [transactions committed, of them how many queued outbox rows]: shared by the copies bolt makes
        self._commits = commits if commits is not None else [0, 0]

    def __deepcopy__(self, memo: dict[int, Any]) -> RequestScope:
        return RequestScope(self._sessions, self._read_sessions, self._commits)

    @property
    def commits(self) -> int:
        """How many transactions of this request have committed so far."""
        return self._commits[0]

    @property
    def owed(self) -> int:
        """How many of them queued something in the outbox (a message, an update of what shows a review)."""
        return self._commits[1]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with session_scope(self._sessions) as session:
            yield session
            queued = bool(session.info.get(OWED))
        self._commits[0] += 1
        self._commits[1] += queued

    @contextmanager
    def read(self) -> Iterator[Session]:
        with session_scope(self._read_sessions) as session:
            yield session


def deps_of(context: BoltContext) -> Deps:
    return context["deps"]


def db_of(context: BoltContext) -> RequestScope:
    return context["db"]


VERIFIED, SAVED = "readiness_verified", "readiness_saved"


def saved_in_ack(context: BoltContext) -> bool:
    """Whether the request's acknowledgement stored something (set by ``handlers.lazy.listen``)."""
    return bool(context.get(SAVED))
