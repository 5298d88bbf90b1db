"""Failure injection and the optional rate limiting."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.sandbox import SlackSandbox
from tests.sandbox.ids import ALICE, CHANNEL


def test_ratelimited_is_a_429_with_retry_after(sandbox: SlackSandbox, client: WebClient) -> None:
    sandbox.inject_failure("chat.postMessage", "ratelimited", times=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel=CHANNEL, text="x")
        response = caught.value.response
        assert response.status_code == 429 and response.headers["Retry-After"] == "7"
        assert response.data == {"ok": False, "error": "ratelimited"}
    assert client.chat_postMessage(channel=CHANNEL, text="third time")["ok"]
    assert sandbox.ratelimited_count == 2 and sandbox.ratelimited_by_method == {"chat.postMessage": 2}
    assert [c.status for c in sandbox.calls] == [429, 429, 200]
    assert [m["text"] for m in sandbox.messages(CHANNEL)] == ["third time"]


def test_server_error(sandbox: SlackSandbox, client: WebClient) -> None:
    sandbox.inject_failure("users.info", "server_error")
    with pytest.raises(SlackApiError) as caught:
        client.users_info(user=ALICE)
    assert caught.value.response.status_code == 500
    assert client.users_info(user=ALICE)["ok"]


def test_drop_closes_the_connection_without_effect(sandbox: SlackSandbox, client: WebClient) -> None:
    sandbox.inject_failure("chat.postMessage", "drop")
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        client.chat_postMessage(channel=CHANNEL, text="lost")
    assert sandbox.messages(CHANNEL) == []
    (call,) = sandbox.calls
    assert call.dropped and not call.ok and call.error == "connection_dropped"


def test_accept_then_drop_takes_effect_and_a_retry_duplicates(sandbox: SlackSandbox) -> None:
    retrying = WebClient(token=sandbox.token, base_url=sandbox.api_url,
                         retry_handlers=[ConnectionErrorRetryHandler(
                             max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01))])
    sandbox.inject_failure("chat.postMessage", "accept_then_drop")
    retrying.chat_postMessage(channel=CHANNEL, text="reminder")
    assert [m["text"] for m in sandbox.messages(CHANNEL)] == ["reminder", "reminder"]
    first, second = sandbox.calls
    assert first.dropped and first.ok and not second.dropped


def test_wildcard_and_response_url_failures(sandbox: SlackSandbox, client: WebClient) -> None:
    sandbox.inject_failure("*", "server_error")
    with pytest.raises(SlackApiError):
        client.auth_test()
    sandbox.inject_failure("response_url", "ratelimited", retry_after=3)
    url = sandbox.new_response_url(CHANNEL, ALICE)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(url, data=b'{"text": "x"}', method="POST",
                                                      headers={"Content-Type": "application/json"}), timeout=5)
    assert caught.value.code == 429 and caught.value.headers["Retry-After"] == "3"
    assert sandbox.ephemerals(ALICE) == []
    with pytest.raises(ValueError):
        sandbox.inject_failure("auth.test", "explode")


@pytest.fixture
def limited() -> Iterator[SlackSandbox]:
    with SlackSandbox(rate_limits=True) as box:
        box.add_channel(CHANNEL, "ai-rollout", bot_is_member=True)
        box.add_channel("C0OTHER", "other", bot_is_member=True)
        box.add_user(ALICE, "alice")
        yield box


def test_post_message_is_limited_per_channel(limited: SlackSandbox) -> None:
    client = WebClient(token=limited.token, base_url=limited.api_url, retry_handlers=[])
    outcomes = []
    for index in range(5):
        try:
            client.chat_postMessage(channel=CHANNEL, text=str(index))
            outcomes.append(200)
        except SlackApiError as exc:
            outcomes.append(exc.response.status_code)
            assert int(exc.response.headers["Retry-After"]) >= 1
    assert outcomes[:3] == [200, 200, 200] and 429 in outcomes[3:]
    assert client.chat_postMessage(channel="C0OTHER", text="other channel")["ok"]
    limited.advance(1.0)
    assert client.chat_postMessage(channel=CHANNEL, text="after a second")["ok"]
    assert limited.ratelimited_count == outcomes.count(429)


def test_tiers_limit_other_methods(limited: SlackSandbox) -> None:
    client = WebClient(token=limited.token, base_url=limited.api_url, retry_handlers=[])
    # conversations.open is tier 3: 50 per minute
    for _ in range(50):
        client.conversations_open(users=ALICE)
    with pytest.raises(SlackApiError) as caught:
        client.conversations_open(users=ALICE)
    assert caught.value.response.status_code == 429
    limited.advance(60)
    assert client.conversations_open(users=ALICE)["ok"]
    assert limited.ratelimited_by_method == {"conversations.open": 1}


def test_history_limits_of_an_app_outside_the_marketplace(sandbox: SlackSandbox, client: WebClient) -> None:
    for n in range(20):
        sandbox.add_message(CHANNEL, f"m{n}", ALICE)
    sandbox.limit_history(per_call=15, calls=1, seconds=60)
    first = client.conversations_history(channel=CHANNEL, limit=100)
    assert len(first["messages"]) == 15 and first["has_more"] and first["response_metadata"]["next_cursor"]
    with pytest.raises(SlackApiError) as caught:  # one call a minute
        client.conversations_history(channel=CHANNEL, cursor=first["response_metadata"]["next_cursor"])
    assert caught.value.response.status_code == 429 and int(caught.value.response.headers["Retry-After"]) >= 59
    sandbox.advance(60)
    rest = client.conversations_history(channel=CHANNEL, cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == [f"m{n}" for n in range(4, -1, -1)] and not rest["has_more"]
    assert sandbox.ratelimited_by_method == {"conversations.history": 1}
