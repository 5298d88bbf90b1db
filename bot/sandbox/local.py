"""The whole bot on one machine: the Slack sandbox, the real app over HTTP, and a signed-request driver.

Used by `make demo`, the end-to-end tests and the benchmarks. Nothing here talks to the real Slack.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr
from slack_bolt import App
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_app
from bot.db import make_engine, session_factory
from bot.executor import ListenerExecutor
from bot.sandbox.driver import SlackDriver
from bot.sandbox.installs import CLIENT_ID, CLIENT_SECRET, ENCRYPTION_KEY, Page, install
from bot.sandbox.server import SlackSandbox
from bot.settings import Settings
from bot.web.server import Server, WebApp
from scheduler import Delivery, build_delivery

TEAM = "T0READY"
BOT_TOKEN = "xoxb-local-sandbox"
SIGNING_SECRET = "local-signing-secret-0123456789"


@dataclass
class People:
    """The demo team: user ids and time zones."""

    lead: str = "U0LEAD"
    quality: str = "U0DANA"
    policy: str = "U0INES"
    operations: str = "U0SAM"
    engineer: str = "U0PRIYA"
    names: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "U0LEAD": ("alex", "America/New_York"),
            "U0DANA": ("dana", "Europe/Berlin"),
            "U0INES": ("ines", "Europe/Lisbon"),
            "U0SAM": ("sam", "Asia/Tokyo"),
            "U0PRIYA": ("priya", "Asia/Kolkata"),
        }
    )


REVIEW_CHANNEL = "C0REVIEW"
RELEASE_CHANNEL = "C0RELEASE"


class LocalSlack:
    def __init__(
        self,
        database_url: str | None = None,
        *,
        engine: Engine | None = None,
        clock: Callable[[], datetime] | None = None,
        rate_limits: bool = False,
        with_scheduler: bool = False,
        oauth: bool = False,
        token_ttl: int | None = None,
        **settings_overrides: object,
    ) -> None:
        self.people = People()
        self.sandbox = SlackSandbox(token=BOT_TOKEN, team_id=TEAM, rate_limits=rate_limits)
        self._engine_given = engine is not None
        self._database_url = database_url
        self.engine = engine
        self._clock = clock
        self._with_scheduler = with_scheduler
        self._oauth, self._token_ttl = oauth, token_ttl
        self._overrides = settings_overrides
        self.delivery: Delivery | None = None
        self.executor = ListenerExecutor()
        self.app: App | None = None
        self.server: Server | None = None
        self._wsgi: WebApp | None = None
        self.driver: SlackDriver | None = None

    def start(self) -> LocalSlack:
        self.sandbox.start()
        self.sandbox.add_channel(REVIEW_CHANNEL, "ai-rollout", bot_is_member=True)  # invited, as the README says
        self.sandbox.add_channel(RELEASE_CHANNEL, "release-approvals", bot_is_member=True)
        for user_id, (name, tz) in self.people.names.items():
            self.sandbox.add_user(user_id, name, real_name=name.title(), tz=tz)
        credentials: dict[str, object] = {"slack_bot_token": SecretStr(BOT_TOKEN)}
        if self._oauth:  # install to any workspace: the sandbox's own, and those add_workspace adds
            self.sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET, token_ttl=self._token_ttl).add_workspace(
                TEAM, "Readiness sandbox", channels=(REVIEW_CHANNEL, RELEASE_CHANNEL), users=tuple(self.people.names))
            credentials = {"slack_client_id": CLIENT_ID, "slack_client_secret": SecretStr(CLIENT_SECRET),
                           "token_encryption_key": SecretStr(ENCRYPTION_KEY)}
        # the server is bound first, so the app's links (packet pages, the OAuth redirect) carry its port
        self.server = Server(lambda environ, start_response: self._wsgi(environ, start_response))  # type: ignore[misc]
        settings = Settings(
            **credentials,  # type: ignore[arg-type]
            public_url=self.server.url,
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=self.sandbox.api_url,
            **({"database_url": self._database_url} if self._database_url else {}),
            **self._overrides,  # type: ignore[arg-type]
        )
        if self.engine is None:
            self.engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        self.delivery = build_delivery(settings, session_factory(self.engine), clock=self._clock)
        self.app = build_app(settings, engine=self.engine, clock=self._clock, executor=self.executor,
                             kick=self.delivery.deliverer.kick)
        if self._with_scheduler:
            self.delivery.start()
        self.settings = settings
        self._wsgi = WebApp(self.app, self.engine, clock=self._clock, settings=settings)
        self.server.start()
        self.driver = SlackDriver(self.server.url + "/slack/events", SIGNING_SECRET, self.sandbox, team_id=TEAM)
        self.sandbox.connect_app(self._deliver_event)  # Slack's events (the bot joined a channel) reach the app
        return self

    def _deliver_event(self, event: dict[str, object], team_id: str) -> None:
        assert self.driver is not None and self.server is not None
        driver = self.driver if team_id == self.driver.team_id else SlackDriver(
            self.server.url + "/slack/events", SIGNING_SECRET, self.sandbox, team_id=team_id)
        driver.event(event)

    # -- OAuth mode: more workspaces, each installed through the sandbox's OAuth flow ----------------

    def add_workspace(self, team_id: str, name: str, channels: dict[str, str],
                      users: dict[str, tuple[str, str]]) -> SlackDriver:
        """Another workspace in the sandbox (OAuth mode); returns a driver that sends its people's requests."""
        assert self.sandbox.oauth is not None, "LocalSlack(oauth=True) has more than one workspace"
        for channel_id, channel_name in channels.items():
            self.sandbox.add_channel(channel_id, channel_name, bot_is_member=True)  # the bot invited there
        for user_id, (user_name, tz) in users.items():
            self.sandbox.add_user(user_id, user_name, real_name=user_name.title(), tz=tz)
        self.sandbox.oauth.add_workspace(team_id, name, channels=tuple(channels), users=tuple(users))
        assert self.server is not None
        return SlackDriver(self.server.url + "/slack/events", SIGNING_SECRET, self.sandbox, team_id=team_id)

    def install(self, team_id: str = TEAM) -> Page:
        """Install the app to ``team_id`` as a person would ("Add to Slack", Allow); returns the final page."""
        assert self.sandbox.oauth is not None and self.server is not None
        return install(self.server.url, self.sandbox.oauth, team_id)

    def stop(self) -> None:
        if self.delivery is not None:
            self.delivery.stop()
        self.settle()
        if self.server is not None:
            self.server.stop()
        self.executor.shutdown(wait=True)
        self.sandbox.stop()
        if self.engine is not None and not self._engine_given:
            self.engine.dispose()

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def app_checklist_ids(self) -> list[str]:
        from bot.core.checklist import load_checklist

        return list(load_checklist().item_ids)

    @property
    def sessions(self) -> sessionmaker[Session]:
        assert self.engine is not None
        return session_factory(self.engine)

    def drain(self, timeout: float = 20.0, horizon: float = 10.0) -> None:
        """Deliver the outbox until nothing is left that comes due within ``horizon`` seconds (retries too)."""
        from datetime import timedelta

        from sqlalchemy import func, select

        from bot.db import db_now, session_scope
        from models import OutboxMessage

        assert self.delivery is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.settle()
            self.delivery.deliverer.reap()
            self.delivery.reconciler.expire_waivers()
            self.delivery.deliverer.sweep()
            with session_scope(self.sessions) as session:
                soon = db_now(session) + timedelta(seconds=horizon)
                left = session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.status.in_(("pending", "unknown", "sending")),
                        OutboxMessage.next_attempt_at <= soon,
                    )
                )
            if not left:
                return
            time.sleep(0.2)
        raise TimeoutError("the outbox did not drain")

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every event the sandbox pushed was answered and every listener has finished its work
        after the ack."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = max(0.0, deadline - time.monotonic())
            if self.sandbox.events_idle(timeout=left) and self.executor.wait_idle(timeout=left):
                time.sleep(0.02)  # a listener may have started another, or caused another event
                if self.executor.busy == 0 and self.sandbox.events_idle(timeout=0):
                    return
        raise TimeoutError("listeners still busy after the ack")


class FlowError(AssertionError):
    """The scripted conversation did not go as Slack would have shown it."""


class Conversation:
    """Scripted steps of a review, as people would click through them in Slack."""

    def __init__(self, local: LocalSlack) -> None:
        self.local = local

    @property
    def driver(self) -> SlackDriver:
        assert self.local.driver is not None
        return self.local.driver

    @property
    def sandbox(self) -> SlackSandbox:
        return self.local.sandbox

    def last_view_id(self, user: str | None = None) -> str:
        for call in reversed(self.sandbox.calls_to("views.open")):
            if call.ok:
                return str(call.response["view"]["id"])
        raise FlowError("no modal was opened")

    def last_view(self, user: str | None = None) -> dict[str, object]:
        """The last opened modal as it is now: opened with its form, or as a loading view updated in place."""
        view = self.sandbox.view(self.last_view_id(user))
        if view is None:
            raise FlowError("the last modal is gone")
        return view

    def start_review(
        self, user: str, system: str, version: str, *, channel: str = REVIEW_CHANNEL,
        release_channel: str = RELEASE_CHANNEL, cohorts: str = "", baseline: str | None = None,
    ) -> str:
        """Run /readiness start and submit the modal; returns the thread ts of the new review."""
        before = len(self.sandbox.messages(channel))
        response = self.driver.slash_command("/readiness", f"start {system} {version}", user=user, channel=channel)
        if response.status != 200:
            raise FlowError(f"/readiness start answered {response.status}")
        self.local.settle()
        values: dict[object, object] = {"system": system, "version": version, "release_channel": release_channel}
        if cohorts:
            values["cohorts"] = cohorts
        if baseline:
            values["baseline"] = baseline
        response = self.driver.submit_view(user, self.last_view_id(), values)
        if response.status != 200 or (response.body or "").strip():
            raise FlowError(f"start modal refused: {response.status} {response.body}")
        self.local.settle()
        posted = [m for m in self.sandbox.messages(channel)[before:] if m.get("thread_ts") in (None, m["ts"])]
        if not posted:
            raise FlowError("no review message was posted")
        return str(posted[-1]["ts"])

    def item_message(self, channel: str, thread_ts: str, item_id: str) -> str:
        block_id = f"item:{item_id}"
        for message in self.sandbox.thread(channel, thread_ts):
            if any(b.get("block_id") == block_id for b in message.get("blocks") or []):
                return str(message["ts"])
        raise FlowError(f"no message in the thread shows {item_id}")

    def open_mark(self, user: str, thread_ts: str, item_id: str, mark: str, channel: str = REVIEW_CHANNEL) -> str:
        """Open the mark form of an item as a person would: its mark button while it is unmarked, the option
        of its menu once it is marked."""
        ts = self.item_message(channel, thread_ts, item_id)
        message = self.sandbox.find_message(channel, ts) or {}
        block = next(b for b in message.get("blocks") or [] if b.get("block_id") == f"item:{item_id}")
        menu = block.get("accessory") if block.get("type") == "section" else None
        if menu is not None:
            option = next((o["value"] for o in menu.get("options", []) if json.loads(o["value"]).get("m") == mark), None)
            if option is None:
                raise FlowError(f"the menu of {item_id} offers no {mark}")
            self.driver.click(user, channel, ts, menu["action_id"], block_id=f"item:{item_id}", value=option)
        else:
            self.driver.click(user, channel, ts, f"mark_{mark}", block_id=f"item:{item_id}")
        self.local.settle()
        return self.last_view_id()

    def mark(
        self, user: str, thread_ts: str, item_id: str, mark: str, *, evidence: str | None = None,
        owner: str | None = None, due: str | None = None, note: str | None = None, reason: str | None = None,
        channel: str = REVIEW_CHANNEL,
    ) -> object:
        view_id = self.open_mark(user, thread_ts, item_id, mark, channel)
        values: dict[object, object] = {}
        for block, value in (("evidence", evidence), ("owner", owner), ("due", due), ("note", note),
                             ("reason", reason)):
            if value is not None:
                values[block] = value
        response = self.driver.submit_view(user, view_id, values)
        self.local.settle()
        return response

    # -- the rollout packet -----------------------------------------------------------------------

    def _command_then_modal(self, user: str, text: str, values: dict[object, object], channel: str) -> object:
        response = self.driver.slash_command("/readiness", text, user=user, channel=channel)
        if response.status != 200 or (response.body or "").strip():
            raise FlowError(f"/readiness {text} answered {response.status} {response.body}")
        self.local.settle()
        response = self.driver.submit_view(user, self.last_view_id(), values)
        self.local.settle()
        return response

    def add_trace(self, user: str, kind: str, url: str, description: str, *, review: int | None = None,
                  channel: str = REVIEW_CHANNEL) -> object:
        """`/readiness trace [n]` and the modal: a good, bad or escalation path for the packet."""
        text = f"trace {review}" if review is not None else "trace"
        return self._command_then_modal(user, text, {"trace_kind": kind, "link": url, "description": description},
                                        channel)

    def rollout_plan(self, user: str, staged_rollout: str, rollback: str, *, review: int | None = None,
                     channel: str = REVIEW_CHANNEL) -> object:
        """`/readiness rollout [n]` and the modal: the staged rollout path and the rollback steps."""
        text = f"rollout {review}" if review is not None else "rollout"
        return self._command_then_modal(user, text, {"staged_rollout": staged_rollout, "rollback": rollback},
                                        channel)

    def packet(self, user: str, *, review: int | None = None, channel: str = REVIEW_CHANNEL) -> str:
        """`/readiness packet [n]`: returns the signed link to the page, as posted in the review thread."""
        before = len(self.sandbox.calls_to("chat.postMessage"))
        text = f"packet {review}" if review is not None else "packet"
        response = self.driver.slash_command("/readiness", text, user=user, channel=channel)
        if response.status != 200:
            raise FlowError(f"/readiness {text} answered {response.status}")
        self.local.settle()
        for call in self.sandbox.calls_to("chat.postMessage")[before:]:
            blocks = call.args.get("blocks") or ""
            found = re.search(r"<(https?://[^|>\s\"]+/packets/[^|>\s\"]+)\|",
                              blocks if isinstance(blocks, str) else json.dumps(blocks))
            if call.ok and found:
                return found[1]
        raise FlowError(f"no packet link was posted: {response.body}")
