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


def allow_golive_before_signoff(local: LocalSlack) -> None:
    """The workspace setting an admin sets in /readiness config: a go-live may be recorded before sign-off
    (for tests about the first week, not about the sign-off)."""
    from bot.db import session_scope
    from bot.sandbox.local import TEAM
    from tests.conftest import allow_golive_before_signoff as allow

    with session_scope(local.sessions) as s:
        allow(s, TEAM)


def forge_last_click(local: LocalSlack, edit) -> int:
    """Re-send the last click with its payload edited (validly signed: the app must not trust the payload)."""
    import json
    from urllib.parse import parse_qs, urlencode

    sent = local.driver.last_request
    payload = json.loads(parse_qs(sent.body.decode())["payload"][0])
    edit(payload)
    if "trigger_id" in payload:  # a new click carries a new trigger (a reused one Slack refuses)
        payload["trigger_id"] = local.sandbox.issue_trigger_id(payload["user"]["id"])
    body = urlencode({"payload": json.dumps(payload)}).encode()
    response = local.driver.send_raw(body, {"Content-Type": sent.content_type, **local.driver.sign(body)})
    local.settle()
    return response.status
