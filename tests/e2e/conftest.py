"""End-to-end: the real app over HTTP (waitress) against the Slack sandbox, on SQLite and PostgreSQL.

A module marked ``pytest.mark.clocked`` runs the app on a settable clock (the ``clock`` fixture, starting
now): tests move it forward to see waivers expire or links run out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.sandbox.local import Conversation, LocalSlack


class Clock:
    """The app's clock, moved by hand: ``clock.now += timedelta(days=4)``."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def local(engine, request: pytest.FixtureRequest) -> Iterator[LocalSlack]:
    clocked = request.node.get_closest_marker("clocked") is not None
    with LocalSlack(engine=engine, clock=request.getfixturevalue("clock") if clocked else None) as running:
        yield running
        assert running.sandbox.violations == [], "the bot broke Slack's contract"


@pytest.fixture
def convo(local: LocalSlack) -> Conversation:
    return Conversation(local)
