"""The sandbox's workspace state: channels, users, messages, views, triggers, files, calls.

Everything here is guarded by one re-entrant lock (``SandboxState.lock``); the HTTP handlers
and the test-facing helpers both take it. Helpers return deep copies so callers never see a
structure that another thread is changing.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60


class ApiError(Exception):
    """A Slack error answer (``{"ok": false, "error": ...}``) raised by a method handler.

    ``violation`` marks errors that mean the app broke Slack's rules (recorded in
    ``sandbox.violations``), as opposed to ordinary outcomes such as ``channel_not_found``.
    """

    def __init__(self, error: str, *messages: str, violation: bool = False, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.violation = violation
        self.status = status


@dataclass(frozen=True)
class Violation:
    """One broken rule: which method (or surface), Slack's error code, and what was wrong."""

    method: str
    error: str
    detail: str

    def __str__(self) -> str:
        return f"{self.method}: {self.error}: {self.detail}"


@dataclass
class CallRecord:
    """One request the sandbox answered (or dropped)."""

    method: str
    http_method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    response: Any
    timestamp: float
    status: int = 200
    dropped: bool = False  # the connection was closed without an answer (the effect may have happened)
    received: float = 0.0  # time.monotonic() when the request had fully arrived (system-wide on Linux)


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_archived: bool = False
    bot_is_member: bool = True
    user: str | None = None
    members: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_member": self.bot_is_member,
        }
        if self.is_im:
            data["user"] = self.user
            data["is_open"] = True
        else:
            data.update(
                name=self.name,
                name_normalized=self.name,
                is_channel=not self.is_private and not self.is_mpim,
                is_group=self.is_private and not self.is_mpim,
                is_private=self.is_private or self.is_mpim,
                is_general=self.name == "general",
                num_members=len(self.members),
            )
        return data


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/Berlin"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None
    team_id: str | None = None  # their own workspace, when not the sandbox's (Slack Connect)


@dataclass
class Trigger:
    issued_at: float
    user: str | None
    used: bool = False


@dataclass
class ResponseUrl:
    channel: str | None
    user: str | None
    message_ts: str | None
    is_ephemeral: bool
    created_at: float
    uses: int = 0


class SandboxState:
    """All mutable state of one sandbox."""

    def __init__(self, *, team_id: str, team_domain: str, bot_user_id: str, bot_id: str, app_id: str) -> None:
        self.lock = threading.RLock()
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.view_owner: dict[str, str | None] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.closed_views: set[str] = set()
        self.triggers: dict[str, Trigger] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.scheduled: list[dict[str, Any]] = []
        self.calls: list[CallRecord] = []
        self.view_answers: list[dict[str, Any]] = []  # the app's answers to view_submissions, in order
        self.violations: list[Violation] = []
        self.clock_offset = 0.0
        self.trigger_ttl = TRIGGER_TTL_SECONDS  # a test sets it lower to play a slow app
        # apps outside the Slack Marketplace: at most this many messages a history call (None: as asked)
        self.history_cap: int | None = None
        self.base_url = ""
        self._last_ts = 0
        self._ids = itertools.count(1)

    # -- time and ids -------------------------------------------------------------------

    def now(self) -> float:
        """Monotonic time used for trigger expiry and rate limits (``advance`` moves it)."""
        return time.monotonic() + self.clock_offset

    def next_ts(self) -> str:
        """A message ts: wall-clock seconds.microseconds, strictly increasing across the sandbox."""
        with self.lock:
            micros = max(int((time.time() + self.clock_offset) * 1_000_000), self._last_ts + 1)
            self._last_ts = micros
            return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        with self.lock:
            return f"{prefix}0{next(self._ids):07d}{secrets.token_hex(1).upper()}"

    # -- recording ------------------------------------------------------------------------

    def violate(self, method: str, error: str, detail: str) -> None:
        with self.lock:
            self.violations.append(Violation(method, error, detail))

    def record(self, record: CallRecord) -> None:
        with self.lock:
            self.calls.append(record)

    # -- channels and users --------------------------------------------------------------

    def dm_channel_for(self, user_id: str) -> Channel:
        with self.lock:
            channel_id = ("D" if user_id.startswith("U") else "DW") + user_id[1:]  # U… and W… stay apart
            channel = self.channels.get(channel_id)
            if channel is None:
                channel = Channel(id=channel_id, name=channel_id, is_im=True, user=user_id, bot_is_member=True,
                                  members=[user_id, self.bot_user_id])
                self.channels[channel_id] = channel
                self.messages.setdefault(channel_id, [])
            return channel

    def channel_by_id(self, channel_id: Any) -> Channel | None:
        return self.channels.get(channel_id) if isinstance(channel_id, str) else None

    def resolve_post_target(self, target: Any) -> Channel | None:
        """Where a post lands: a channel id, ``#name``/name, or a user id (their DM, as Slack does)."""
        if not isinstance(target, str) or not target:
            return None
        with self.lock:
            if target in self.channels:
                return self.channels[target]
            if target[0] in "UW" and target in self.users:
                return self.dm_channel_for(target)
            name = target.lstrip("#")
            for channel in self.channels.values():
                if not channel.is_im and channel.name == name:
                    return channel
            return None

    # -- messages -------------------------------------------------------------------------

    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        return self.messages.setdefault(channel_id, [])

    def find(self, channel_id: str, ts: Any) -> dict[str, Any] | None:
        """The stored (live) message with this ts in the channel, replies included."""
        for message in self.messages.get(channel_id, []):
            if message.get("ts") == ts:
                return message
        return None

    def find_ephemeral(self, channel_id: str, ts: Any, user: str | None = None) -> dict[str, Any] | None:
        for message in self.ephemeral:
            if message["channel"] == channel_id and message["ts"] == ts and (user is None or message["recipient"] == user):
                return message
        return None

    def store_message(self, channel: Channel, message: dict[str, Any]) -> dict[str, Any]:
        """Append a message, threading it under its parent when ``thread_ts`` is set."""
        with self.lock:
            thread_ts = message.get("thread_ts")
            if thread_ts:
                parent = self.find(channel.id, thread_ts)
                if parent is not None and parent.get("thread_ts") and parent["thread_ts"] != parent["ts"]:
                    thread_ts = parent["thread_ts"]
                    message["thread_ts"] = thread_ts
                    parent = self.find(channel.id, thread_ts)
                if parent is not None:
                    parent["thread_ts"] = parent["ts"]
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    author = message.get("user") or self.bot_user_id
                    users = parent.setdefault("reply_users", [])
                    if author not in users:
                        users.append(author)
                    parent["reply_users_count"] = len(users)
                    parent["latest_reply"] = message["ts"]
            self.channel_messages(channel.id).append(message)
            return message

    def remove_message(self, channel_id: str, ts: str) -> bool:
        with self.lock:
            messages = self.messages.get(channel_id, [])
            for index, message in enumerate(messages):
                if message.get("ts") == ts:
                    del messages[index]
                    return True
            return False

    def top_level(self, channel_id: str) -> list[dict[str, Any]]:
        """Channel-level messages in posting order: no thread replies, except broadcast ones."""
        return [
            m
            for m in self.messages.get(channel_id, [])
            if not m.get("thread_ts") or m["thread_ts"] == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]

    def thread_of(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        parent = self.find(channel_id, ts)
        if parent is None:
            return []
        root = parent.get("thread_ts") or parent["ts"]
        return [m for m in self.messages.get(channel_id, []) if m["ts"] == root or m.get("thread_ts") == root]

    # -- triggers -------------------------------------------------------------------------

    def issue_trigger(self, user: str | None = None) -> str:
        with self.lock:
            trigger_id = f"{next(self._ids)}{secrets.randbelow(10**9)}.{self.team_id[1:]}.{secrets.token_hex(16)}"
            self.triggers[trigger_id] = Trigger(issued_at=self.now(), user=user)
            return trigger_id

    def consume_trigger(self, trigger_id: Any) -> Trigger:
        """Use a trigger once; raise the Slack error for an unknown, expired or used one."""
        with self.lock:
            trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
            if trigger is None:
                raise ApiError("invalid_trigger_id", f"[ERROR] trigger_id {trigger_id!r} was not issued by Slack",
                               violation=True)
            if trigger.used:  # rule trigger-single-use: the app tried to open two views with one click
                raise ApiError("exchanged_trigger_id", "[ERROR] trigger_id was already used", violation=True)
            age = self.now() - trigger.issued_at
            if age > self.trigger_ttl:  # rule trigger-expires: Slack's answer to a slow app, not a broken rule
                raise ApiError("expired_trigger_id",
                               f"[ERROR] trigger_id is {age:.1f}s old; it expires after {self.trigger_ttl:g}s")
            trigger.used = True
            return trigger

    # -- snapshots ------------------------------------------------------------------------

    def snapshot(self, value: T) -> T:
        with self.lock:
            return copy.deepcopy(value)
