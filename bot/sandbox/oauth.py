"""Slack's side of OAuth v2, for the sandbox: several workspaces, each with its own bot token.

What Slack does and the sandbox does too:

* ``GET /oauth/v2/authorize?client_id=…&scope=…&state=…&redirect_uri=…`` shows the page where a person approves
  the install for the workspace they are signed in to (``sign_in``); **Allow** posts the form back and the
  browser is redirected to ``redirect_uri?code=…&state=…`` (**Cancel**: ``?error=access_denied``).
* ``oauth.v2.access`` (client id and secret as HTTP Basic auth) trades a code, once and within ten minutes, for
  a bot token of that workspace; with token rotation on (``token_ttl``), a token that expires and a refresh
  token, and ``grant_type=refresh_token`` trades a refresh token for a new pair.
* Every Web API call with an OAuth token acts in that token's workspace: a token that expired answers
  ``token_expired``, a revoked one ``token_revoked``, and a channel or user of another workspace
  ``channel_not_found`` / ``user_not_found``; a call with another workspace's token is recorded as a violation.
  A Slack Connect channel (``share_channel``) is in both workspaces, and so are the people taking part in it.
"""

from __future__ import annotations

import base64
import html
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.state import ApiError, SandboxState
from bot.sandbox.wire import WireRequest

AUTHORIZE_PATH = "/oauth/v2/authorize"
CODE_SECONDS = 600


@dataclass
class Tenant:
    team_id: str
    name: str
    bot_user_id: str
    bot_id: str


@dataclass
class Issued:
    team_id: str
    expires_at: float | None
    revoked: bool = False


@dataclass
class Code:
    team_id: str
    redirect_uri: str
    scope: str
    installer: str
    expires_at: float
    used: bool = False


@dataclass
class OAuthProvider:
    client_id: str
    client_secret: str
    app_id: str
    now: Callable[[], float]
    token_ttl: int | None = None  # seconds a bot token lives (token rotation on); None: tokens do not expire
    tenants: dict[str, Tenant] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # channel or user id -> team id
    shared: dict[str, set[str]] = field(default_factory=dict)  # Slack Connect: channel -> the other teams in it
    visible: dict[str, set[str]] = field(default_factory=dict)  # Slack Connect: user -> teams that see them
    tokens: dict[str, Issued] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (method, token's team, args)
    signed_in: str | None = None
    refreshed: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- setting up -----------------------------------------------------------------------------

    def add_workspace(self, team_id: str, name: str, *, channels: tuple[str, ...] = (),
                      users: tuple[str, ...] = ()) -> Tenant:
        with self._lock:
            n = len(self.tenants) + 1
            tenant = Tenant(team_id, name, bot_user_id=f"U0BOT{n:02d}", bot_id=f"B0BOT{n:02d}")
            self.tenants[team_id] = tenant
            self.owners.update({i: team_id for i in (*channels, *users)})
            self.signed_in = self.signed_in or team_id
            return tenant

    def add_channels(self, team_id: str, *channels: str) -> None:
        """More channels of a workspace (``add_workspace`` names the first ones)."""
        with self._lock:
            self.owners.update(dict.fromkeys(channels, team_id))

    def share_channel(self, channel: str, team_id: str, guests: tuple[str, ...] = ()) -> None:
        """A Slack Connect channel: ``channel`` (of its owner's workspace) shared with ``team_id`` too. Both
        workspaces' tokens may use it, and each may look up the other's people in it (``guests``: those of
        the other workspace who take part)."""
        with self._lock:
            self.shared.setdefault(channel, set()).add(team_id)
            for user in guests:
                self.visible.setdefault(user, set()).add(self.owners.get(channel, team_id))
                self.visible[user].add(team_id)

    def sharing(self, channel: str) -> set[str]:
        """The workspaces a channel is in: its owner's, and any it is shared with."""
        with self._lock:
            owner = self.owners.get(channel)
            return ({owner} if owner else set()) | self.shared.get(channel, set())

    def sign_in(self, team_id: str) -> None:
        """The workspace the person approving an install is signed in to."""
        self.signed_in = team_id

    def revoke(self, team_id: str) -> None:
        """What an uninstall does to the workspace's tokens."""
        with self._lock:
            for issued in self.tokens.values():
                if issued.team_id == team_id:
                    issued.revoked = True
            for refresh in [r for r, t in self.refresh_tokens.items() if t == team_id]:
                del self.refresh_tokens[refresh]

    def team_of(self, token: str) -> str | None:
        with self._lock:
            issued = self.tokens.get(token)
            return issued.team_id if issued else None

    def calls_by(self, team_id: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [(m, a) for m, t, a in self.calls if t == team_id]

    # -- the authorize page -----------------------------------------------------------------------

    def page(self, request: WireRequest) -> tuple[int, str, dict[str, str]]:
        args = request.api_args()
        if args.get("client_id") != self.client_id:
            return 400, "<p>Invalid client_id parameter</p>", {}
        redirect_uri = str(args.get("redirect_uri") or "")
        if not redirect_uri.startswith(("http://", "https://")):
            return 400, "<p>redirect_uri did not match any configured URIs</p>", {}
        if request.verb == "GET":
            return 200, self._authorize_html(args), {}
        state = str(args.get("state") or "")
        if args.get("deny"):
            return 302, "", {"Location": _with_query(redirect_uri, error="access_denied", state=state)}
        team_id = str(args.get("team") or "")
        if team_id not in self.tenants:
            return 400, "<p>Choose a workspace</p>", {}
        code = f"sbx-code-{secrets.token_hex(8)}"
        with self._lock:
            self.codes[code] = Code(team_id, redirect_uri, str(args.get("scope") or ""), "U0INSTALLER",
                                    self.now() + CODE_SECONDS)
        return 302, "", {"Location": _with_query(redirect_uri, code=code, state=state)}

    def _authorize_html(self, args: dict[str, Any]) -> str:
        wanted = str(args.get("team") or self.signed_in or "")
        options = "".join(
            f'<option value="{html.escape(t.team_id)}"{" selected" if t.team_id == wanted else ""}>'
            f"{html.escape(t.name)}</option>" for t in self.tenants.values())
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(str(args.get(k) or ""))}">'
                         for k in ("client_id", "scope", "state", "redirect_uri"))
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in str(args.get("scope") or "").split(",") if s)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>Slack sandbox: authorize</title>"
                f"</head><body><h1>Readiness is requesting permission to access a Slack workspace</h1>"
                f"<form method='post' action='{AUTHORIZE_PATH}'>{hidden}"
                f"<label>Workspace <select name='team' id='team'>{options}</select></label>"
                f"<p>It will be able to:</p><ul>{scopes}</ul>"
                f"<button type='submit' id='allow'>Allow</button> "
                f"<button type='submit' name='deny' value='1' id='deny'>Cancel</button></form></body></html>")

    # -- the Web API ------------------------------------------------------------------------------

    def refusal(self, token: str) -> ApiError | None:
        """Why an OAuth token is refused, or None when it is live. Not one of ours: ``invalid_auth``."""
        with self._lock:
            issued = self.tokens.get(token)
            if issued is None:
                return ApiError("invalid_auth", "the token is not one the sandbox issued", violation=True)
            if issued.revoked:
                return ApiError("token_revoked")
            if issued.expires_at is not None and self.now() >= issued.expires_at:
                return ApiError("token_expired", "the token expired: refresh it first", violation=True)
            return None

    def crossing(self, state: SandboxState, method: str, token: str, args: dict[str, Any]) -> ApiError | None:
        """A channel or user of another workspace than the token's (recorded with the call)."""
        team_id = self.team_of(token) or state.team_id
        with self._lock:
            self.calls.append((method, team_id, dict(args)))
        for name in ("channel", "user", "users"):
            for value in str(args.get(name) or "").split(","):
                owner = self._owner(state, value.strip())
                if owner is not None and owner != team_id and not self._shared_with(value.strip(), team_id):
                    error = "user_not_found" if name != "channel" else "channel_not_found"
                    return ApiError(error, f"{value} belongs to workspace {owner}, the token to {team_id}",
                                    violation=True)
        return None

    def _shared_with(self, value: str, team_id: str) -> bool:
        with self._lock:
            return team_id in self.shared.get(value, set()) or team_id in self.visible.get(value, set())

    def _owner(self, state: SandboxState, value: str) -> str | None:
        if value.startswith("D"):
            channel = state.channels.get(value)
            value = channel.user if channel is not None and channel.user else value
        return self.owners.get(value)

    def stamp(self, state: SandboxState, token: str, result: dict[str, Any]) -> None:
        """A view opened or published with a workspace's token belongs to that workspace (its payloads say so)."""
        team_id = self.team_of(token)
        view = result.get("view")
        if team_id is None or not isinstance(view, dict):
            return
        with state.lock:
            for stored in (view, state.views.get(str(view.get("id")))):
                if stored is not None:
                    stored["team_id"] = stored["app_installed_team_id"] = team_id

    def answer(self, method: str, request: WireRequest, token: str | None, args: dict[str, Any]
               ) -> dict[str, Any] | None:
        """The answer to a method that depends on the workspace, or None to let the sandbox answer."""
        if method == "oauth.v2.access":
            return self._access(request, args)
        if method == "auth.test" and token is not None and self.team_of(token):
            tenant = self.tenants[self.team_of(token) or ""]
            return {"url": f"https://{tenant.team_id.lower()}.slack.com/", "team": tenant.name, "user": "readiness",
                    "team_id": tenant.team_id, "user_id": tenant.bot_user_id, "bot_id": tenant.bot_id,
                    "app_id": self.app_id, "is_enterprise_install": False}
        return None

    def _access(self, request: WireRequest, args: dict[str, Any]) -> dict[str, Any]:
        client_id, secret = _basic(request) or (args.get("client_id"), args.get("client_secret"))
        if client_id != self.client_id:
            raise ApiError("invalid_client_id")
        if secret != self.client_secret:
            raise ApiError("bad_client_secret")
        with self._lock:
            if args.get("grant_type") == "refresh_token":
                team_id = self.refresh_tokens.get(str(args.get("refresh_token") or ""))
                if team_id is None:
                    raise ApiError("invalid_refresh_token")
                self.refreshed += 1
                return self._grant(self.tenants[team_id], scope="")
            code = self.codes.get(str(args.get("code") or ""))
            if code is None or code.used or self.now() > code.expires_at:
                raise ApiError("invalid_code")
            if args.get("redirect_uri") and args["redirect_uri"] != code.redirect_uri:
                raise ApiError("bad_redirect_uri")
            code.used = True
            grant = self._grant(self.tenants[code.team_id], scope=code.scope)
            grant["authed_user"] = {"id": code.installer}
            return grant

    def _grant(self, tenant: Tenant, scope: str) -> dict[str, Any]:
        serial = next(self._serial)
        rotating = self.token_ttl is not None
        token = f"{'xoxe.' if rotating else ''}xoxb-{tenant.team_id}-{serial}-{secrets.token_hex(6)}"
        self.tokens[token] = Issued(tenant.team_id, self.now() + self.token_ttl if rotating else None)
        grant: dict[str, Any] = {"access_token": token, "token_type": "bot", "scope": scope,
                                 "bot_user_id": tenant.bot_user_id, "app_id": self.app_id,
                                 "team": {"id": tenant.team_id, "name": tenant.name}, "enterprise": None,
                                 "is_enterprise_install": False}
        if rotating:
            refresh = f"xoxe-1-{tenant.team_id}-{serial}-{secrets.token_hex(6)}"
            self.refresh_tokens[refresh] = tenant.team_id
            grant.update(refresh_token=refresh, expires_in=self.token_ttl)
        return grant


def _basic(request: WireRequest) -> tuple[str, str] | None:
    scheme, _, value = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode({k: v for k, v in params.items() if v})
