"""A review's messages, first posted after the ack; from then on the outbox keeps them current (see
``scheduler.refresh``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.context import RequestScope
from bot.core.review import Review, message_parts
from bot.core.slack_failures import permanent
from bot.core.surface_hash import content_hash
from bot.services import reviews, surfaces
from handlers.blocks import review as rb
from handlers.blocks.delivery import review_not_posted
from models.surface import PARENT, SECTION

log = logging.getLogger(__name__)


def _load(scope: RequestScope, team_id: str, assessment_id: int) -> Review:
    with scope.read() as session:
        return reviews.load_review(session, team_id, assessment_id)


def post_review(client: WebClient, scope: RequestScope, team_id: str, assessment_id: int, channel_id: str) -> Review:
    """Post the parent message and one threaded message per section (or part of a long section).

    Each ts is stored as soon as Slack returns it, so a second run posts only what is missing.
    """
    review = _load(scope, team_id, assessment_id)
    thread_ts = review.thread_ts
    if thread_ts is None:
        text, blocks = rb.parent_message(review)
        thread_ts = client.chat_postMessage(channel=channel_id, text=text, blocks=blocks)["ts"]
        with scope.transaction() as session:
            reviews.record_thread(session, team_id, assessment_id, channel_id=channel_id, thread_ts=thread_ts)
            _register(session, review, PARENT, "parent", channel_id, thread_ts, text, blocks)
        link = permalink(client, channel_id, thread_ts)
        if link:
            with scope.transaction() as session:
                reviews.record_thread(session, team_id, assessment_id, channel_id=channel_id, thread_link=link)
    with scope.transaction() as session:
        posted = reviews.section_messages(session, team_id, assessment_id)
    for part in message_parts(review.checklist):
        if part.key in posted:
            continue
        text, blocks = rb.section_message(review, part)
        ts = client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text, blocks=blocks)["ts"]
        with scope.transaction() as session:
            reviews.record_thread(session, team_id, assessment_id, channel_id=channel_id, message_key=part.key,
                                  message_ts=ts)
            _register(session, review, SECTION, part.key, channel_id, ts, text, blocks)
    return _load(scope, team_id, assessment_id)


def _register(session: Session, review: Review, role: str, key: str, channel_id: str, ts: str, text: str,
              blocks: list[Any]) -> None:
    """The message is a surface of the review from now on; drawn from an older state than the review's now
    (a mark came in while it was posted), it is refreshed at once."""
    surfaces.register(session, review.team_id, review.assessment_id, role, key, channel_id, ts, rev=review.rev,
                      shown_hash=content_hash(text, blocks))
    if reviews.get_assessment(session, review.team_id, review.assessment_id).state_rev != review.rev:
        surfaces.owe_refresh(session, review.team_id, review.assessment_id)


def permalink(client: WebClient, channel_id: str, ts: str) -> str | None:
    try:
        return str(client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"])
    except SlackApiError as exc:  # a missing link must not stop the review
        log.warning("no permalink for %s/%s: %s", channel_id, ts, exc.response.get("error"))
        return None


def thread_link(client: WebClient, review: Review) -> str | None:
    if review.thread_link or not (review.channel_id and review.thread_ts):
        return review.thread_link
    return permalink(client, review.channel_id, review.thread_ts)


def post_or_explain(client: WebClient, scope: RequestScope, team_id: str, assessment_id: int, channel_id: str,
                    lead: str | None = None) -> None:
    """Post the review; when Slack refuses for good (the bot is not in the channel, it is archived), remember
    why, so nothing retries it every minute, and tell the release lead what to do. Inviting the bot to the
    channel (Slack's member_joined_channel) tries again."""
    try:
        post_review(client, scope, team_id, assessment_id, channel_id)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if permanent(error) is None:
            raise
        with scope.transaction() as session:
            reviews.record_post_error(session, team_id, assessment_id, error)
            lead = lead or reviews.get_assessment(session, team_id, assessment_id).started_by
        log.warning("review #%s cannot be posted in %s: %s", assessment_id, channel_id, error)
        text, blocks = review_not_posted(assessment_id, channel_id, error)
        client.chat_postMessage(channel=lead, text=text, blocks=blocks)


def repair_reviews(clients: Callable[[str], WebClient | None], scope: RequestScope, settled_before: datetime) -> int:
    """Post what a review's start could not (Slack was down, the process died): run by the reconcile.

    ``clients`` gives each workspace's client (None where the workspace is not served)."""
    with scope.read() as session:
        todo = reviews.unposted_reviews(session, settled_before=settled_before)
    for team_id, assessment_id, channel_id in todo:
        client = clients(team_id)
        if client is None:
            continue
        try:
            post_or_explain(client, scope, team_id, assessment_id, channel_id)
        except SlackApiError as exc:  # one review's channel must not stop the others' repair
            log.warning("review #%s still cannot be posted: %s", assessment_id, exc.response.get("error"))
    return len(todo)
