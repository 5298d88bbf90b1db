"""Events API: the app uninstalled from a workspace, or its bot token revoked.

Everything still owed to the workspace is cancelled at once (with the reason), the installation is deleted
from the store (OAuth mode), and the event is audited. A retried delivery of the same event counts once.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.context import db_of, deps_of
from bot.services import reviews, workspaces

log = logging.getLogger(__name__)


def _stop_workspace(body: dict[str, Any], context: BoltContext, reason: str) -> None:
    team_id = context.team_id or body.get("team_id")
    if not team_id:
        return
    deps = deps_of(context)
    with db_of(context).transaction() as session:
        if not reviews.claim_interaction(session, team_id, f"event:{body.get('event_id')}", reason):
            return
        cancelled = workspaces.uninstalled(session, team_id, reason, now=deps.now())
    store = deps.installation_store
    if store is not None:
        store.delete_bot(enterprise_id=context.enterprise_id, team_id=team_id)
        store.delete_installation(enterprise_id=context.enterprise_id, team_id=team_id)
    log.warning("workspace %s: %s; %d outbox row(s) cancelled, nothing more is sent there", team_id, reason,
                cancelled, extra={"team_id": team_id})


def app_uninstalled(body: dict[str, Any], context: BoltContext) -> None:
    _stop_workspace(body, context, workspaces.APP_UNINSTALLED)


def tokens_revoked(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    if (event.get("tokens") or {}).get("bot"):  # the bot's token: the app can no longer act there
        _stop_workspace(body, context, workspaces.TOKENS_REVOKED)


def register(app: App) -> None:
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
