"""Events API: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.core.marking import earliest_today
from bot.services import reviews
from handlers.blocks.home import home_view
from handlers.lazy import after_ack, listen


def claim_home_event(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    """Events are acked by bolt; a retried delivery of the same event is claimed once."""
    if event.get("tab") not in (None, "home"):
        return
    team_id = context.team_id or body["team_id"]
    with db_of(context).transaction() as session:
        context["publish_home"] = reviews.claim_interaction(
            session, team_id, f"event:{body.get('event_id')}", "app_home_opened"
        )


def publish_home(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if not context.get("publish_home"):
        return
    team_id = context.team_id or body["team_id"]
    user_id = body["event"]["user"]
    with db_of(context).transaction() as session:
        gaps = reviews.open_gaps_for(session, team_id, user_id, earliest_today(deps_of(context).now()))
        rows = reviews.review_rows(session, team_id, active_only=True)
    client.views_publish(user_id=user_id, view=home_view(gaps, rows))


def register(app: App) -> None:
    app.event("app_home_opened")(listen(claim_home_event, after_ack(publish_home)))
