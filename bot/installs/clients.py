"""The Web API client of each workspace, for everything that calls Slack outside a Slack request.

Single-token mode: the one bot token (``SLACK_BOT_TOKEN``) serves every workspace. OAuth mode: the
workspace's installation, its bot token refreshed first when it is about to expire (slack_sdk's
``TokenRotator``, as bolt's ``authorize`` does for requests). Either way a workspace that uninstalled the
app gets no client: nothing may be sent there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.installs.store import EncryptedInstallationStore
from bot.services.workspaces import uninstalled_of

log = logging.getLogger(__name__)

MakeClient = Callable[[str | None], WebClient]
NO_INSTALLATION, UNINSTALLED, ROTATION_FAILED = "no installation", "uninstalled", "token refresh failed"


@dataclass(frozen=True)
class Resolved:
    client: WebClient | None
    why_not: str | None = None  # when there is no client: one of the reasons above


class WorkspaceClients:
    def __init__(self, sessions: sessionmaker[Session], make: MakeClient, *, token: str | None = None,
                 store: EncryptedInstallationStore | None = None, rotator: TokenRotator | None = None,
                 rotate_minutes: int = 120) -> None:
        self.sessions, self.make, self.token = sessions, make, token
        self.store, self.rotator, self.rotate_minutes = store, rotator, rotate_minutes
        self._single: WebClient | None = make(token) if store is None else None

    @property
    def oauth(self) -> bool:
        return self.store is not None

    def __call__(self, team_id: str) -> WebClient | None:
        return self.resolve(team_id).client

    def resolve(self, team_id: str, *, uninstalled: bool | None = None) -> Resolved:
        """The workspace's client, or why there is none. ``uninstalled``: whether the workspace uninstalled the
        app, when the caller has just read it (the sweep does, in the transaction that claimed its rows)."""
        if uninstalled is None:
            with session_scope(self.sessions) as session:
                uninstalled = bool(uninstalled_of(session, [team_id]))
        if uninstalled:
            return Resolved(None, UNINSTALLED)
        if self.store is None:
            return Resolved(self._single)
        bot = self.find_bot(team_id)
        if bot is None or not bot.bot_token:
            return Resolved(None, NO_INSTALLATION)
        if bot.bot_refresh_token and self.rotator is not None:
            try:
                refreshed = self.rotator.perform_bot_token_rotation(bot=bot,
                                                                    minutes_before_expiration=self.rotate_minutes)
            except (SlackTokenRotationError, SlackApiError, OSError) as exc:
                log.warning("workspace %s: the bot token could not be refreshed: %s", team_id, exc,
                            extra={"team_id": team_id})
                return Resolved(None, ROTATION_FAILED)
            if refreshed is not None:
                self.store.save_bot(refreshed)
                bot = refreshed
        return Resolved(self.make(bot.bot_token))

    def find_bot(self, team_id: str) -> Bot | None:
        """The workspace's latest bot installation, whichever Enterprise Grid org it belongs to."""
        assert self.store is not None
        return self.store.find_bot(enterprise_id=self.store.enterprise_of(team_id), team_id=team_id)
