"""Each recorded call says when it arrived, on the system-wide monotonic clock (for time-to-screen figures)."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackSandbox
from tests.sandbox.ids import CHANNEL


def test_each_call_records_when_it_arrived_in_order(sandbox: SlackSandbox, client: WebClient) -> None:
    before = time.monotonic()
    client.chat_postMessage(channel=CHANNEL, text="first")
    between = time.monotonic()
    client.chat_postMessage(channel=CHANNEL, text="second")
    after = time.monotonic()

    first, second = sandbox.calls_to("chat.postMessage")
    assert before <= first.received <= between <= second.received <= after


def test_a_refused_call_records_its_arrival_too(sandbox: SlackSandbox, client: WebClient) -> None:
    before = time.monotonic()
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0NOWHERE", text="lost")
    (call,) = sandbox.calls_to("chat.postMessage")
    assert not call.ok
    assert before <= call.received <= time.monotonic()
