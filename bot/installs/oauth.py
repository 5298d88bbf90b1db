"""OAuth mode's wiring: bolt's OAuthSettings and OAuthFlow on slack_sdk's stores (tokens encrypted).

``/slack/install`` shows the "Add to Slack" page (no outside assets: a plain link styled as a button) and
sets the state cookie; Slack sends the person back to ``/slack/oauth_redirect``, where bolt checks the
state, calls ``oauth.v2.access`` and saves the installation. Then the workspace is recorded as installed
(a reinstall clears an uninstall) and the install is audited.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize, InstallationStoreAuthorize
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.errors import ConfigError
from bot.installs.crypto import token_cipher
from bot.installs.store import EncryptedInstallationStore, state_store
from bot.services import workspaces
from bot.settings import Settings

log = logging.getLogger(__name__)

INSTALL_PATH, REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
# The manifest's bot scopes (manifest.yaml, oauth_config.scopes.bot); tests/test_manifest.py keeps them equal.
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read", "channels:read", "groups:read",
              "channels:join", "channels:history", "groups:history", "im:history", "files:write")


def check(settings: Settings) -> None:
    """OAuth mode refuses to start without its key (tokens are never stored in the clear)."""
    if settings.oauth_mode and settings.token_encryption_key is None:
        raise ConfigError("OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set) needs TOKEN_ENCRYPTION_KEY: "
                          "32 bytes in URL-safe base64, to encrypt the Slack tokens it stores")
    if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
        raise ConfigError("set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth mode, or neither")


def authorization_url(settings: Settings) -> str | None:
    """Slack's authorize page sits beside its Web API (https://slack.com/api/ -> /oauth/v2/authorize)."""
    if not settings.slack_api_url:
        return None
    return settings.slack_api_url.removesuffix("/").removesuffix("/api") + "/oauth/v2/authorize"


def scopes(settings: Settings) -> list[str]:
    if settings.slack_scopes:
        return [s.strip() for s in settings.slack_scopes.split(",") if s.strip()]
    return list(BOT_SCOPES)


def installation_store(settings: Settings, engine: Engine) -> EncryptedInstallationStore:
    check(settings)
    assert settings.slack_client_id is not None
    return EncryptedInstallationStore(settings.slack_client_id, engine, token_cipher(settings))


def token_rotator(settings: Settings, client: WebClient) -> TokenRotator:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    return TokenRotator(client_id=settings.slack_client_id,
                        client_secret=settings.slack_client_secret.get_secret_value(), client=client)


@dataclass
class OAuthParts:
    store: EncryptedInstallationStore
    settings: OAuthSettings
    authorize: Authorize


def oauth_parts(settings: Settings, engine: Engine, client: WebClient,
                sessions: sessionmaker[Session]) -> OAuthParts:
    """The stores, bolt's OAuthSettings, and the authorize every request goes through (bot tokens only,
    refreshed ``TOKEN_ROTATION_MINUTES`` before they expire, through ``client``'s Web API; the workspace whose
    reviews live in the channel, in a Slack Connect channel: ``ChannelOwnerAuthorize``)."""
    store = installation_store(settings, engine)
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    secret = settings.slack_client_secret.get_secret_value()
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id, client_secret=secret, scopes=scopes(settings),
        redirect_uri=settings.public_url.rstrip("/") + REDIRECT_PATH, install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH, authorization_url=authorization_url(settings),
        installation_store=store, installation_store_bot_only=True, state_store=state_store(engine),
        token_rotation_expiration_minutes=settings.token_rotation_minutes,
    )
    authorize = InstallationStoreAuthorize(
        logger=log, installation_store=store, client_id=settings.slack_client_id, client_secret=secret,
        token_rotation_expiration_minutes=settings.token_rotation_minutes, bot_only=True, client=client,
    )
    return OAuthParts(store, oauth_settings, ChannelOwnerAuthorize(authorize, sessions, store.enterprise_of))


MESSAGE_CLICK = "readiness_message_click"  # set before the authorize: the request is a click on a message


def note_message_click(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> None:  # noqa: A002
    """bolt's ``before_authorize``: whether the request is a click on a message (the one kind of request that
    ``ChannelOwnerAuthorize`` may authorise for the channel's workspace)."""
    context[MESSAGE_CLICK] = body.get("type") == "block_actions" and \
        (body.get("container") or {}).get("type") == "message"
    next()


class ChannelOwnerAuthorize(Authorize):
    """bolt's authorize, for the workspace whose review message was clicked.

    In a Slack Connect channel a person of another workspace may click on a review's message; the payload then
    names their workspace (or ours, with theirs as ``user.team_id``), which holds none of the review's rows. So
    when the channel of the request is one where exactly one workspace other than the one named keeps its
    reviews (our own records, ``workspaces.using_channel``; Slack's channel ids are unique), that workspace is
    authorised instead, with its own installation. Safe by construction: only a workspace with a live
    installation of this app can be chosen (bolt's authorize finds it or the request falls back to the
    workspace the payload names, as without this), only through a channel in which Slack delivered the
    request and in which that workspace's reviews live, and only for clicks on messages: a slash command
    stays its sender's workspace's (a settings form opened from a shared channel must never be another
    workspace's, where that person's admin rights mean nothing), and a form's submission already names the
    workspace that opened it (``view.app_installed_team_id``)."""

    def __init__(self, inner: Authorize, sessions: sessionmaker[Session],
                 enterprise_of: Callable[[str], str | None]) -> None:
        super().__init__()
        self.inner, self.sessions, self.enterprise_of = inner, sessions, enterprise_of

    def __call__(self, *, context: BoltContext, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, actor_enterprise_id: str | None = None, actor_team_id: str | None = None,
                 actor_user_id: str | None = None) -> AuthorizeResult | None:
        owner = self.owner(context.channel_id, team_id) if context.get(MESSAGE_CLICK) else None
        if owner is not None:
            found = self.inner(context=context, enterprise_id=self.enterprise_of(owner), team_id=owner,
                               user_id=user_id)
            if found is not None:
                log.info("request from workspace %s in %s, a channel of workspace %s: acting on %s", team_id,
                         context.channel_id, owner, owner, extra={"team_id": owner})
                return found
        return self.inner(context=context, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                          actor_enterprise_id=actor_enterprise_id, actor_team_id=actor_team_id,
                          actor_user_id=actor_user_id)

    def owner(self, channel_id: str | None, team_id: str | None) -> str | None:
        """The one other workspace whose reviews live in ``channel_id``, when the named one has none there."""
        if not channel_id:
            return None
        with session_scope(self.sessions) as session:
            using = workspaces.using_channel(session, channel_id)
        if team_id in using or len(using) != 1:  # ours, nobody's, or several workspaces': as the payload says
            return None
        return next(iter(using))


class ReadinessOAuthFlow(OAuthFlow):
    """bolt's flow, with a self-contained install page and the install recorded in the workspace's data."""

    def __init__(self, *, sessions: sessionmaker[Session], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.sessions = sessions

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return INSTALL_PAGE.format(url=html.escape(url, quote=True))

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        super().store_installation(request, installation)
        if installation.team_id:
            with session_scope(self.sessions) as session:
                workspaces.installed(session, installation.team_id, installation.team_name,
                                     installer=installation.user_id or "slack")


INSTALL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Install Readiness</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #1d1c1d; }}
a.add {{ display: inline-block; padding: .7rem 1.2rem; border-radius: 6px; background: #4a154b; color: #fff;
         text-decoration: none; font-weight: 600; }}
</style></head>
<body>
<h1>Readiness</h1>
<p>Rollout-readiness reviews for AI features, in your Slack workspace: the checklist, owners and due dates,
reminders until every gap is closed, sign-off and a release gate for your pipelines.</p>
<p><a class="add" id="add-to-slack" href="{url}">Add to Slack</a></p>
</body></html>
"""
