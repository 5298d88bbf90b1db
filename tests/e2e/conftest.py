"""End-to-end: the real app over HTTP (waitress) against the Slack sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.local import Conversation, LocalSlack


@pytest.fixture
def local(engine) -> Iterator[LocalSlack]:
    with LocalSlack(engine=engine) as running:
        yield running
        assert running.sandbox.violations == [], "the bot broke Slack's contract"


@pytest.fixture
def convo(local: LocalSlack) -> Conversation:
    return Conversation(local)
