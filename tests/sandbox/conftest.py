"""Fixtures for the Slack sandbox tests: a started sandbox with a small workspace, and clients."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.sandbox import SlackSandbox
from tests.sandbox.ids import ALICE, BOB, CHANNEL


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as box:
        box.add_channel(CHANNEL, "ai-rollout", bot_is_member=True)
        box.add_user(ALICE, "alice", real_name="Alice Adams", tz="Europe/Berlin", is_admin=True)
        box.add_user(BOB, "bob", real_name="Bob Brown", tz="America/New_York")
        yield box


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    """The real slack_sdk client, without retries so every failure is visible."""
    return WebClient(token=sandbox.token, base_url=sandbox.api_url, retry_handlers=[])


@pytest.fixture(autouse=True)
def _quiet_missing_text_warning() -> Iterator[None]:
    # slack_sdk warns when blocks are sent without fallback text; some tests do that on purpose.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The top-level `text` argument is missing")
        yield
