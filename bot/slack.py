"""Slack Web API clients, configured once: which base URL, which token, which retries."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.observe.metrics import counting_429s
from bot.settings import Settings


def bot_token(settings: Settings) -> str | None:
    return settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None


def make_client(settings: Settings) -> WebClient:
    return shape_client(WebClient(token=bot_token(settings)), settings)


def shape_client(client: WebClient, settings: Settings) -> WebClient:
    """A Web API client as every one of ours is: the settings' API address, a 10 s timeout, and only 429s
    retried (after Retry-After): Slack did nothing with those. A 5xx or a dropped connection may hide a post
    that went through, so it is never resent blindly. (Also for the client bolt makes from the token.)"""
    client.timeout = 10
    if settings.slack_api_url:
        client.base_url = settings.slack_api_url
    client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=2)]
    return counting_429s(client)


def make_modal_client(settings: Settings) -> WebClient:
    """views.open runs before the ack with a trigger that lives three seconds: no retries, a short timeout."""
    client = make_client(settings)
    client.timeout = 2
    client.retry_handlers = []
    return counting_429s(client)
