"""Events API: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.core.surface_hash import content_hash
from bot.services import reviews, surfaces
from bot.services.home import desk
from handlers.blocks.home import home_view
from handlers.common import team_of
from handlers.lazy import after_ack, listen


def home_tab(event: dict[str, Any], context: BoltContext) -> None:
    """Events are acked by bolt; the Home tab (not the Messages tab) is drawn after the ack."""
    context["publish_home"] = event.get("tab") in (None, "home")


def publish_home(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The person's desk, drawn and published; a retried delivery of the same event is claimed once, in the
    transaction that notes the opening."""
    if not context.get("publish_home"):
        return
    team_id = team_of(body, context)
    user_id = body["event"]["user"]
    now = deps_of(context).now()
    with db_of(context).transaction() as session:
        if not reviews.claim_interaction(session, team_id, f"event:{body.get('event_id')}", "app_home_opened"):
            return
        view = home_view(desk(session, team_id, user_id, now))
        surfaces.home_opened(session, team_id, user_id, now)
    client.views_publish(user_id=user_id, view=view)
    with db_of(context).transaction() as session:
        surfaces.home_shown(session, team_id, user_id, content_hash(view))


def bot_joined(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    """Someone added the bot to a channel: reviews that could not be posted there are tried again (by the
    reconcile, within a minute)."""
    if context.bot_user_id is None or event.get("user") != context.bot_user_id:
        return
    with db_of(context).transaction() as session:
        reviews.retry_posts_in(session, team_of(body, context), str(event.get("channel") or ""))


def register(app: App) -> None:
    app.event("app_home_opened")(listen(home_tab, after_ack(publish_home)))
    app.event("member_joined_channel")(listen(bot_joined))
