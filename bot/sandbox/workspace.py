"""Test-facing helpers of the sandbox: set up the workspace, read what the app did.

Mixed into :class:`~bot.sandbox.server.SlackSandbox`. Readers return deep copies, so a test
can keep and inspect them while the app goes on calling the sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import bot.sandbox.surfaces as surfaces
from bot.sandbox.events import Deliver, EventPush
from bot.sandbox.state import CallRecord, Channel, SandboxState, User, Violation

if TYPE_CHECKING:
    from bot.sandbox.oauth import OAuthProvider


class WorkspaceMixin:
    _state: SandboxState
    bot_user_id: str
    oauth: OAuthProvider | None
    _events: EventPush | None = None

    # -- the app it talks to ------------------------------------------------------------------------

    def connect_app(self, deliver: Deliver) -> None:
        """Push Events API events to the app from now on: ``deliver(event, team_id)`` sends one (a driver's
        ``event``, signed as Slack signs). Without it the sandbox only answers the app's calls."""
        self._events = EventPush(deliver, lambda why: self._state.violate("events", "event_delivery_failed", why))

    def events_idle(self, timeout: float = 10.0) -> bool:
        """True once every event pushed so far has been answered by the app (at once when none are pushed)."""
        return self._events is None or self._events.wait_idle(timeout)

    @property
    def events_sent(self) -> list[tuple[dict[str, Any], str]]:
        """The events delivered to the app so far, each with the team it was for."""
        return list(self._events.sent) if self._events is not None else []

    def team_of_channel(self, channel: str) -> str:
        """The workspace a channel belongs to (the sandbox's own unless OAuth mode gave it to another)."""
        owner = self.oauth.owners.get(channel) if self.oauth is not None else None
        return owner or self._state.team_id

    def bot_user_of(self, team_id: str) -> str:
        """The app's bot user in a workspace (each OAuth workspace has its own)."""
        tenant = self.oauth.tenants.get(team_id) if self.oauth is not None else None
        return tenant.bot_user_id if tenant is not None else self.bot_user_id

    def home_team(self, user: str) -> str | None:
        """The workspace a person belongs to, when the sandbox knows it (``add_user(team_id=…)``, OAuth mode)."""
        with self._state.lock:
            found = self._state.users.get(user)
        if found is not None and found.team_id:
            return found.team_id
        return self.oauth.owners.get(user) if self.oauth is not None else None

    def _bot_joined(self, channel: Channel, team_id: str | None = None, inviter: str | None = None) -> None:
        """Slack's ``member_joined_channel`` for the bot itself, to the connected app."""
        if self._events is None:
            return
        team = team_id or self.team_of_channel(channel.id)
        event: dict[str, Any] = {"type": "member_joined_channel", "user": self.bot_user_of(team),
                                 "channel": channel.id, "channel_type": "G" if channel.is_private else "C",
                                 "team": team}
        if inviter:
            event["inviter"] = inviter
        self._events.push(event, team)

    # -- setting up ---------------------------------------------------------------------------

    def add_channel(self, id: str, name: str, *, is_private: bool = False, is_archived: bool = False,  # noqa: A002
                    bot_is_member: bool = False, members: list[str] | None = None, is_im: bool = False) -> None:
        """A channel of the workspace. As in Slack, the bot is not in it until invited (``bot_is_member``,
        or ``invite_bot``) or until it joins a public one itself (conversations.join). ``is_im``: a direct
        message between two people (``members``), which the bot can never be part of."""
        with self._state.lock:
            self._state.channels[id] = Channel(id=id, name=name.lstrip("#"), is_private=is_private or is_im,
                                               is_im=is_im, is_archived=is_archived,
                                               bot_is_member=bot_is_member and not is_im,
                                               user=(members or [None])[0] if is_im else None,
                                               members=list(members or []))
            self._state.messages.setdefault(id, [])

    def invite_bot(self, channel: str, inviter: str | None = None) -> None:
        """Someone typed `/invite @Readiness` there: the bot is a member, and a connected app hears of it
        (``member_joined_channel``)."""
        with self._state.lock:
            found = self._channel(channel)
            joined = not found.bot_is_member
            found.bot_is_member = True
            if self.bot_user_id not in found.members:
                found.members.append(self.bot_user_id)
        if joined:
            self._bot_joined(found, inviter=inviter)

    def remove_bot(self, channel: str) -> None:
        with self._state.lock:
            found = self._channel(channel)
            found.bot_is_member = False
            found.members = [m for m in found.members if m != self.bot_user_id]

    def archive_channel(self, channel: str) -> None:
        with self._state.lock:
            self._channel(channel).is_archived = True

    def add_user(self, id: str, name: str, real_name: str | None = None, tz: str = "Europe/Berlin",  # noqa: A002
                 is_admin: bool = False, *, is_owner: bool = False, is_bot: bool = False,
                 email: str | None = None, deleted: bool = False, team_id: str | None = None) -> None:
        """A person (``W…`` ids are Enterprise Grid users); ``team_id``: their own workspace when it is not the
        sandbox's, as for someone of another organisation in a Slack Connect channel."""
        with self._state.lock:
            self._state.users[id] = User(id=id, name=name, real_name=real_name or name, tz=tz, is_admin=is_admin,
                                         is_owner=is_owner, is_bot=is_bot, deleted=deleted, email=email,
                                         team_id=team_id)

    def add_message(self, channel: str, text: str, user: str, *, thread_ts: str | None = None,
                    blocks: list[dict[str, Any]] | None = None) -> str:
        """Store a message written by a person (not the app); returns its ts."""
        with self._state.lock:
            target = self._channel(channel)
            message: dict[str, Any] = {"type": "message", "ts": self._state.next_ts(), "user": user, "text": text,
                                       "team": self._state.team_id}
            if thread_ts:
                message["thread_ts"] = thread_ts
            if blocks:
                message["blocks"] = blocks
            return str(self._state.store_message(target, message)["ts"])

    def issue_trigger_id(self, user: str | None = None) -> str:
        """A trigger id as Slack puts in interactive payloads: valid once, for 3 seconds."""
        return self._state.issue_trigger(user)

    def new_response_url(self, channel: str | None = None, user: str | None = None, message_ts: str | None = None,
                         is_ephemeral: bool = False) -> str:
        """``http://127.0.0.1:PORT/response/<id>``; POSTs there are recorded as ``response_url`` calls."""
        if channel is not None:
            channel = self._channel(channel).id
        return surfaces.new_response_url(self._state, channel, user, message_ts, is_ephemeral)

    def dm_channel(self, user: str) -> str:
        """The id of the app's DM channel with ``user``."""
        return self._state.dm_channel_for(user).id

    def record_violation(self, method: str, error: str, detail: str) -> None:
        """Note a broken rule found outside the Web API (the driver uses this for slow acks)."""
        self._state.violate(method, error, detail)

    # -- calls and violations ---------------------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        return self._state.snapshot(self._state.calls)

    def calls_to(self, method: str) -> list[CallRecord]:
        with self._state.lock:
            return self._state.snapshot([c for c in self._state.calls if c.method == method])

    def clear_calls(self) -> None:
        with self._state.lock:
            self._state.calls.clear()

    @property
    def violations(self) -> list[Violation]:
        with self._state.lock:
            return list(self._state.violations)

    def clear_violations(self) -> None:
        with self._state.lock:
            self._state.violations.clear()

    # -- messages ----------------------------------------------------------------------------

    def _channel(self, channel: str) -> Channel:
        with self._state.lock:
            if channel in self._state.channels:
                return self._state.channels[channel]
            if channel[:1] in "UW":
                return self._state.dm_channel_for(channel)
            found = self._state.resolve_post_target(channel)
            if found is None:
                raise KeyError(f"no channel {channel!r} in the sandbox")
            return found

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Channel-level messages, oldest first (thread replies excluded unless broadcast)."""
        with self._state.lock:
            return self._state.snapshot(self._state.top_level(self._channel(channel).id))

    def all_messages(self, channel: str) -> list[dict[str, Any]]:
        """Every message of the channel, thread replies included, in posting order."""
        with self._state.lock:
            return self._state.snapshot(self._state.channel_messages(self._channel(channel).id))

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The thread containing ``ts``: parent first, then replies."""
        with self._state.lock:
            return self._state.snapshot(self._state.thread_of(self._channel(channel).id, ts))

    def dm_messages(self, user: str) -> list[dict[str, Any]]:
        return self.all_messages(user)

    def ephemerals(self, user: str, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages shown to ``user`` (each carries ``channel`` and ``recipient``)."""
        with self._state.lock:
            channel_id = self._channel(channel).id if channel else None
            return self._state.snapshot([m for m in self._state.ephemeral if m["recipient"] == user
                                         and (channel_id is None or m["channel"] == channel_id)])

    def find_message(self, channel: str, ts: str, user: str | None = None) -> dict[str, Any] | None:
        """A message by ts: channel messages and thread replies first, then ephemerals (for ``user``)."""
        with self._state.lock:
            channel_id = self._channel(channel).id
            found = self._state.find(channel_id, ts) or self._state.find_ephemeral(channel_id, ts, user)
            return self._state.snapshot(found)

    @property
    def scheduled_messages(self) -> list[dict[str, Any]]:
        return self._state.snapshot(self._state.scheduled)

    # -- views and files ----------------------------------------------------------------------------

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._state.lock:
            return self._state.snapshot(self._state.views.get(view_id))

    def view_owner(self, view_id: str) -> str | None:
        with self._state.lock:
            return self._state.view_owner.get(view_id)

    def is_view_open(self, view_id: str) -> bool:
        with self._state.lock:
            return view_id in self._state.views and view_id not in self._state.closed_views

    def open_views(self, user: str) -> list[dict[str, Any]]:
        """The user's modal stack, bottom first (empty when no modal is open)."""
        with self._state.lock:
            stack = self._state.view_stacks.get(user, [])
            return self._state.snapshot([self._state.views[v] for v in stack])

    def home_view(self, user: str) -> dict[str, Any] | None:
        with self._state.lock:
            view_id = self._state.home_views.get(user)
            return self._state.snapshot(self._state.views.get(view_id)) if view_id else None

    def remember_view_state(self, view_id: str, view_state: dict[str, Any]) -> None:
        """Store the user's entries in a view (the driver calls this after a click inside it)."""
        surfaces.remember_view_state(self._state, view_id, view_state)

    def close_view(self, view_id: str) -> None:
        surfaces.close_view(self._state, view_id)

    def apply_view_response(self, view_id: str, body: Any, submitted: Any = None) -> None:
        """Do what Slack does with an app's answer to a view_submission (used by the driver)."""
        surfaces.apply_view_response(self._state, view_id, body, submitted)

    @property
    def view_answers(self) -> list[dict[str, Any]]:
        """The app's answers to view submissions, oldest first: view_id, body, the submitted state, time."""
        return self._state.snapshot(self._state.view_answers)

    def apply_command_response(self, channel: str, user: str, body_text: str, content_type: str = "") -> None:
        """Show a slash command's immediate answer as Slack would (used by the driver)."""
        surfaces.apply_command_response(self._state, self._channel(channel).id, user, body_text, content_type)

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """Uploaded files by id, each with its bytes under ``content``."""
        return self._state.snapshot(self._state.files)

    def channel_info(self, channel: str) -> dict[str, Any]:
        with self._state.lock:
            return self._channel(channel).to_api() | {"name": self._channel(channel).name}

    def user_info(self, user: str) -> dict[str, Any] | None:
        with self._state.lock:
            found = self._state.users.get(user)
            return None if found is None else {"id": found.id, "name": found.name, "real_name": found.real_name,
                                               "tz": found.tz, "is_admin": found.is_admin}

    @property
    def team_domain(self) -> str:
        return self._state.team_domain
