"""``SlackDriver``: sends the app real, signed Slack requests over HTTP.

It plays Slack's side of slash commands, interactivity (``block_actions``,
``view_submission``, ``view_closed``) and the Events API, with bodies encoded and signed
exactly as Slack does (``v0=HMAC-SHA256(signing_secret, "v0:{ts}:{raw body}")``). Payloads are
built from what the :class:`~bot.sandbox.server.SlackSandbox` holds, so a test can only click
what the app actually showed. Standard library HTTP only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bot.sandbox.payloads import (
    STATE_FIELDS,
    DriverError,
    action_payload,
    build_state,
    chosen_from_state,
    convert_value,
    find_element,
    initial_value,
    stateful_elements,
)

if TYPE_CHECKING:
    from bot.sandbox.server import SlackSandbox

__all__ = ["DriverError", "DriverResponse", "SlackDriver"]

ACK_DEADLINE_SECONDS = 3.0
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass
class DriverResponse:
    """The app's HTTP answer."""

    status: int
    headers: dict[str, str]
    body: str
    json: Any = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class SentRequest:
    body: bytes
    content_type: str


class SlackDriver:
    def __init__(self, app_url: str, signing_secret: str, sandbox: SlackSandbox, team_id: str | None = None,
                 api_app_id: str = "A0READY", *, verification_token: str = "sandbox-verification-token",
                 timeout: float = 10.0, enterprise_id: str | None = None, enterprise_install: bool = False) -> None:
        """A driver sends the requests of one workspace (``team_id``). On Enterprise Grid (``enterprise_id``) the
        payloads name the organisation, and ``enterprise_install`` says the app is installed org-wide. A person
        the sandbox knows to be of another workspace (``add_user(team_id=…)``, OAuth mode) is sent with their own
        ``user.team_id``, as Slack does in a Slack Connect channel."""
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.sandbox = sandbox
        self.team_id = team_id or sandbox.team_id
        self.enterprise_id, self.enterprise_install = enterprise_id, enterprise_install
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self.timeout = timeout
        self.last_request: SentRequest | None = None

    # -- signing and sending ----------------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The two headers Slack adds to every request: timestamp and ``v0=`` signature."""
        stamp = str(int(time.time()) if timestamp is None else int(timestamp))
        base = b"v0:" + stamp.encode() + b":" + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    def send_raw(self, body: bytes, headers: dict[str, str]) -> DriverResponse:
        """POST ``body`` to the app with exactly ``headers`` (no signing added)."""
        request = urllib.request.Request(self.app_url, data=body, method="POST",
                                         headers={"User-Agent": USER_AGENT, **headers})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - loopback app
                status, raw, answer_headers = answer.status, answer.read(), dict(answer.headers.items())
        except urllib.error.HTTPError as exc:
            status, raw, answer_headers = exc.code, exc.read(), dict(exc.headers.items())
        elapsed = time.monotonic() - started
        text = raw.decode("utf-8", "replace")
        parsed = None
        if text.strip()[:1] in ("{", "["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        return DriverResponse(status, answer_headers, text, parsed, elapsed)

    def _send(self, body: bytes, content_type: str, *, retry_num: int | None, retry_reason: str,
              timestamp: int | None, where: str) -> DriverResponse:
        headers = {"Content-Type": content_type, **self.sign(body, timestamp)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        self.last_request = SentRequest(body, content_type)
        response = self.send_raw(body, headers)
        if timestamp is None:
            if response.elapsed > ACK_DEADLINE_SECONDS:
                self.sandbox.record_violation(where, "ack_timeout", f"the app answered after {response.elapsed:.2f}s; "
                                              f"Slack gives up after {ACK_DEADLINE_SECONDS:.0f}s")
            if not response.ok:
                self.sandbox.record_violation(where, "app_error", f"the app answered HTTP {response.status}")
        return response

    def replay(self, retry_num: int = 1, retry_reason: str = "http_timeout") -> DriverResponse:
        """Send the last request again, as Slack's retry: same body, fresh signature, retry headers."""
        if self.last_request is None:
            raise DriverError("nothing was sent yet")
        headers = {"Content-Type": self.last_request.content_type, **self.sign(self.last_request.body),
                   "X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.send_raw(self.last_request.body, headers)

    def _send_interactive(self, payload: dict[str, Any], *, retry_num: int | None, retry_reason: str,
                          timestamp: int | None) -> DriverResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._send(body, "application/x-www-form-urlencoded", retry_num=retry_num, retry_reason=retry_reason,
                          timestamp=timestamp, where=str(payload.get("type")))

    # -- shared payload parts ---------------------------------------------------------------------

    def _user(self, user: str) -> dict[str, Any]:
        info = self.sandbox.user_info(user)
        name = info["name"] if info else user
        return {"id": user, "username": name, "name": name, "team_id": self.sandbox.home_team(user) or self.team_id}

    def _enterprise(self) -> dict[str, Any] | None:
        return {"id": self.enterprise_id, "name": "Sandbox Grid"} if self.enterprise_id else None

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.sandbox.team_domain}

    def _channel(self, channel: str) -> dict[str, Any]:
        try:
            info = self.sandbox.channel_info(channel)
        except KeyError as exc:
            raise DriverError(f"channel {channel!r} is not in the sandbox; add it with add_channel()") from exc
        name = "directmessage" if info.get("is_im") else "privategroup" if info.get("is_private") else info["name"]
        return {"id": info["id"], "name": name}

    def _shared(self, channel: str) -> bool:
        """Whether a channel is shared with another workspace (Slack Connect)."""
        oauth = self.sandbox.oauth
        return bool(channel) and oauth is not None and len(oauth.sharing(channel)) > 1

    def _known_user(self, user: str) -> bool:
        return self.sandbox.user_info(user) is not None

    def _known_channel(self, channel: str) -> bool:
        try:
            self.sandbox.channel_info(channel)
        except KeyError:
            return False
        return True

    def _open_view(self, user: str, view_id: str) -> dict[str, Any]:
        view = self.sandbox.view(view_id)
        if view is None:
            raise DriverError(f"view {view_id!r} does not exist in the sandbox")
        if not self.sandbox.is_view_open(view_id):
            raise DriverError(f"view {view_id!r} is closed; the user cannot interact with it")
        owner = self.sandbox.view_owner(view_id)
        if owner is not None and owner != user:
            raise DriverError(f"view {view_id!r} is shown to {owner}, not to {user}")
        return view

    def _common(self, kind: str, user: str) -> dict[str, Any]:
        return {
            "type": kind,
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "is_enterprise_install": self.enterprise_install,
            "enterprise": self._enterprise(),
        }

    # -- slash commands -------------------------------------------------------------------------------

    def slash_command(self, command: str, text: str, user: str, channel: str, channel_name: str | None = None, *,
                      retry_num: int | None = None, retry_reason: str = "http_timeout",
                      timestamp: int | None = None) -> DriverResponse:
        """A slash command, form-encoded like Slack's; the app's immediate answer is shown like Slack does."""
        target = self._channel(channel)
        user_info = self._user(user)
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.sandbox.team_domain,
            "channel_id": target["id"],
            "channel_name": channel_name or target["name"],
            "user_id": user,
            "user_name": user_info["name"],
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "true" if self.enterprise_install else "false",
            **({"enterprise_id": self.enterprise_id, "enterprise_name": "Sandbox Grid"} if self.enterprise_id else {}),
            "response_url": self.sandbox.new_response_url(target["id"], user),
            "trigger_id": self.sandbox.issue_trigger_id(user),
        }
        body = urlencode(fields).encode()
        response = self._send(body, "application/x-www-form-urlencoded", retry_num=retry_num,
                              retry_reason=retry_reason, timestamp=timestamp, where="slash_command")
        if response.ok and timestamp is None:
            self.sandbox.apply_command_response(target["id"], user, response.body,
                                                response.headers.get("Content-Type", ""))
        return response

    # -- block actions ------------------------------------------------------------------------------

    def click(self, user: str, channel: str, ts: str, action_id: str, block_id: str | None = None,
              value: Any = None, *, retry_num: int | None = None, retry_reason: str = "http_timeout",
              timestamp: int | None = None) -> DriverResponse:
        """Click (or choose in) an element of a message the user can see; fails loudly if it is not there."""
        message = self.sandbox.find_message(channel, ts, user=user)
        if message is None:
            raise DriverError(f"no message {ts} in {channel} visible to {user}")
        is_ephemeral = bool(message.get("is_ephemeral"))
        if is_ephemeral and message.get("recipient") != user:
            raise DriverError(f"ephemeral message {ts} is shown to {message.get('recipient')}, not to {user}")
        where = f"message {ts} in {channel}"
        blocks = message.get("blocks") or []
        block, element = find_element(blocks, action_id, block_id, where)
        action = action_payload(block, element, value, where, self._known_user, self._known_channel)
        target = self._channel(message.get("channel") or channel)
        container: dict[str, Any] = {"type": "message", "message_ts": ts, "channel_id": target["id"],
                                     "is_ephemeral": is_ephemeral}
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        payload = self._common("block_actions", user)
        payload.update(
            container=container,
            trigger_id=self.sandbox.issue_trigger_id(user),
            channel=target,
            state=build_state(blocks, self._chosen(block, element, action)),
            response_url=self.sandbox.new_response_url(target["id"], user, ts, is_ephemeral),
            actions=[action],
        )
        if not is_ephemeral:
            payload["message"] = {k: v for k, v in message.items() if k != "channel"}
        return self._send_interactive(payload, retry_num=retry_num, retry_reason=retry_reason, timestamp=timestamp)

    def click_in_view(self, user: str, view_id: str, action_id: str, block_id: str | None = None,
                      value: Any = None, *, retry_num: int | None = None, retry_reason: str = "http_timeout",
                      timestamp: int | None = None) -> DriverResponse:
        """Click (or choose in) an element of an open modal or of the user's home tab."""
        view = self._open_view(user, view_id)
        where = f"view {view_id}"
        block, element = find_element(view.get("blocks") or [], action_id, block_id, where)
        action = action_payload(block, element, value, where, self._known_user, self._known_channel)
        chosen = {**chosen_from_state(view.get("state")), **self._chosen(block, element, action)}
        view["state"] = build_state(view.get("blocks") or [], chosen)
        self.sandbox.remember_view_state(view_id, view["state"])
        payload = self._common("block_actions", user)
        payload.update(
            container={"type": "view", "view_id": view_id},
            trigger_id=self.sandbox.issue_trigger_id(user),
            view=view,
            state=view["state"],
            actions=[action],
        )
        return self._send_interactive(payload, retry_num=retry_num, retry_reason=retry_reason, timestamp=timestamp)

    @staticmethod
    def _chosen(block: dict[str, Any], element: dict[str, Any], action: dict[str, Any]) -> dict[tuple[str, str], Any]:
        spec = STATE_FIELDS.get(str(element.get("type")))
        if spec is None or spec[0] not in action:
            return {}
        return {(str(block.get("block_id")), str(element.get("action_id"))): action[spec[0]]}

    # -- views ------------------------------------------------------------------------------------------

    def submit_view(self, user: str, view_id: str, values: dict[Any, Any] | None = None, *,
                    enforce_required: bool = True, retry_num: int | None = None,
                    retry_reason: str = "http_timeout", timestamp: int | None = None) -> DriverResponse:
        """Submit an open modal with ``values`` keyed by ``(block_id, action_id)`` or ``block_id``.

        Unset inputs keep their initial value or stay empty. With ``enforce_required`` (Slack's
        client behaviour) an empty non-optional input refuses to submit. The app's answer
        (``response_action`` errors/update/push/clear, or nothing) is applied to the sandbox.
        """
        view = self._open_view(user, view_id)
        if view.get("type") != "modal":
            raise DriverError(f"view {view_id} is a {view.get('type')} view; only modals can be submitted")
        if view.get("submit") is None:
            raise DriverError(f"view {view_id} has no submit button")
        blocks = view.get("blocks") or []
        chosen = {**chosen_from_state(view.get("state")), **self._resolve_values(view_id, blocks, values or {})}
        if enforce_required:
            for block, element in stateful_elements(blocks):
                ids = (str(block.get("block_id")), str(element.get("action_id")))
                empty = chosen.get(ids, initial_value(element)) in (None, [], "")
                if block.get("type") == "input" and not block.get("optional") and empty:
                    raise DriverError(f"view {view_id}: required input {ids} is empty; Slack would not submit")
        view["state"] = build_state(blocks, chosen)
        payload = self._common("view_submission", user)
        payload.update(trigger_id=self.sandbox.issue_trigger_id(user), view=view, response_urls=[])
        response = self._send_interactive(payload, retry_num=retry_num, retry_reason=retry_reason,
                                          timestamp=timestamp)
        if response.ok and timestamp is None:
            self.sandbox.apply_view_response(view_id, response.json if response.body.strip() else None,
                                             submitted=view["state"])
        return response

    def _resolve_values(self, view_id: str, blocks: list[Any], values: dict[Any, Any]) -> dict[tuple[str, str], Any]:
        elements = stateful_elements(blocks)
        chosen: dict[tuple[str, str], Any] = {}
        for key, value in values.items():
            if isinstance(key, tuple):
                block_id, action_id = key
                matches = [(b, e) for b, e in elements if b.get("block_id") == block_id and e.get("action_id") == action_id]
            else:
                block_id, action_id = key, None
                matches = [(b, e) for b, e in elements if b.get("block_id") == block_id]
                if len(matches) > 1:
                    raise DriverError(f"view {view_id}: block {block_id!r} has several inputs; key by (block_id, action_id)")
            if not matches:
                available = [(b.get("block_id"), e.get("action_id")) for b, e in elements]
                raise DriverError(f"view {view_id}: no input at {key!r}; inputs are {available}")
            block, element = matches[0]
            where = f"view {view_id} {(block.get('block_id'), element.get('action_id'))}"
            ids = (str(block.get("block_id")), str(element.get("action_id")))
            chosen[ids] = convert_value(element, value, where, self._known_user, self._known_channel)
        return chosen

    def close_view(self, user: str, view_id: str, *, retry_num: int | None = None,
                   retry_reason: str = "http_timeout", timestamp: int | None = None) -> DriverResponse | None:
        """The user closes a modal. Slack tells the app (``view_closed``) only if ``notify_on_close`` is set;
        otherwise nothing is sent and ``None`` is returned."""
        view = self._open_view(user, view_id)
        self.sandbox.close_view(view_id)
        if not view.get("notify_on_close"):
            return None
        payload = self._common("view_closed", user)
        payload.update(view=view, is_cleared=False)
        return self._send_interactive(payload, retry_num=retry_num, retry_reason=retry_reason, timestamp=timestamp)

    # -- events -----------------------------------------------------------------------------------------

    def event(self, event: dict[str, Any], *, retry_num: int | None = None, retry_reason: str = "http_timeout",
              timestamp: int | None = None, event_id: str | None = None) -> DriverResponse:
        """Any Events API event, wrapped in the ``event_callback`` envelope."""
        now = time.time()
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
            "event": {"event_ts": f"{now:.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(now),
            "authorizations": [{"enterprise_id": self.enterprise_id, "team_id": self.team_id,
                                "user_id": self.sandbox.bot_user_of(self.team_id), "is_bot": True,
                                "is_enterprise_install": self.enterprise_install}],
            "is_ext_shared_channel": self._shared(str(event.get("channel") or "")),
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        body = json.dumps(envelope).encode()
        return self._send(body, "application/json", retry_num=retry_num, retry_reason=retry_reason,
                          timestamp=timestamp, where=f"event {event.get('type')}")

    def app_home_opened(self, user: str, *, retry_num: int | None = None, retry_reason: str = "http_timeout",
                        timestamp: int | None = None) -> DriverResponse:
        """The user opened the app's Home tab."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user,
                                 "channel": self.sandbox.dm_channel(user), "tab": "home"}
        home = self.sandbox.home_view(user)
        if home is not None:
            event["view"] = home
        return self.event(event, retry_num=retry_num, retry_reason=retry_reason, timestamp=timestamp)
