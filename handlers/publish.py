"""What Slack shows after a change: messages posted or updated after the ack, from the stored state."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import RequestScope
from bot.review import Review, message_parts, part_of_item
from bot.services import reviews
from bot.services.assessments import MarkOutcome
from handlers.blocks import review as rb

log = logging.getLogger(__name__)


def _load(scope: RequestScope, team_id: str, assessment_id: int) -> Review:
    with scope.transaction() as session:
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
    return _load(scope, team_id, assessment_id)


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


def refresh_parent(client: WebClient, review: Review) -> None:
    if review.channel_id and review.thread_ts:
        text, blocks = rb.parent_message(review)
        client.chat_update(channel=review.channel_id, ts=review.thread_ts, text=text, blocks=blocks)


def refresh_messages(client: WebClient, scope: RequestScope, review: Review, item_id: str) -> None:
    """Update the parent message and the message that holds the item, in place."""
    if not (review.channel_id and review.thread_ts):
        return
    refresh_parent(client, review)
    with scope.transaction() as session:
        posted = reviews.section_messages(session, review.team_id, review.assessment_id)
    part = part_of_item(review.checklist, item_id)
    ts = posted.get(part.key)
    if ts:
        text, blocks = rb.section_message(review, part)
        client.chat_update(channel=review.channel_id, ts=ts, text=text, blocks=blocks)


def after_mark(client: WebClient, scope: RequestScope, team_id: str, outcome: MarkOutcome, actor: str) -> None:
    review = _load(scope, team_id, outcome.assessment_id)
    refresh_messages(client, scope, review, outcome.item_id)
    needs_link = outcome.became_blocker or outcome.cleared_blocker or outcome.completed or _new_owner(outcome)
    link = thread_link(client, review) if needs_link else None
    release = review.release_channel_id
    if release and outcome.became_blocker:
        text, blocks = rb.blocker_alert(review, outcome.item_id, actor, link)
        client.chat_postMessage(channel=release, text=text, blocks=blocks)
    if release and outcome.cleared_blocker:
        text, blocks = rb.blocker_cleared(review, outcome.item_id, actor, link)
        client.chat_postMessage(channel=release, text=text, blocks=blocks)
    owner = _new_owner(outcome)
    if owner:
        text, blocks = rb.owner_assigned(review, outcome.item_id, actor, link)
        client.chat_postMessage(channel=owner, text=text, blocks=blocks)
    if outcome.completed:
        text, blocks = rb.result_message(review, link)
        same_channel = release == review.channel_id
        if review.channel_id and review.thread_ts:
            client.chat_postMessage(channel=review.channel_id, thread_ts=review.thread_ts, text=text, blocks=blocks,
                                    reply_broadcast=same_channel)
        if release and not same_channel:
            client.chat_postMessage(channel=release, text=text, blocks=blocks)


def _new_owner(outcome: MarkOutcome) -> str | None:
    current, previous = outcome.current, outcome.previous
    if not current.is_gap or not current.owner:
        return None
    if previous is not None and previous.is_gap and previous.owner == current.owner:
        return None
    return current.owner
