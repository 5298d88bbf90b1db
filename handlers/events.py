"""Events API: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.app import db_of, deps_of
from bot.marking import earliest_today
from bot.services import reviews
from handlers.blocks.home import home_view


def publish_home(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab") not in (None, "home"):
        return
    team_id = context.team_id or body["team_id"]
    user_id = event["user"]
    scope = db_of(context)
    with scope.transaction() as session:
        if not reviews.claim_interaction(session, team_id, f"event:{body.get('event_id')}", "app_home_opened"):
            return
        gaps = reviews.open_gaps_for(session, team_id, user_id, earliest_today(deps_of(context).now()))
        rows = reviews.review_rows(session, team_id, active_only=True)
    client.views_publish(user_id=user_id, view=home_view(gaps, rows))


def register(app: App) -> None:
    app.event("app_home_opened")(publish_home)
