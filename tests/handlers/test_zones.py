"""A form's first date needs the person's time zone: users.info is asked once an hour per person, not at every
click, and a failed look-up is not kept."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

import bot.context
from bot.context import ZONE_SECONDS, Deps


class Users:
    """users.info as Slack answers it, counting the questions."""

    token, base_url, timeout, retry_handlers = "xoxb-test", "http://slack.invalid/api/", 2, []

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.down = False

    def users_info(self, user: str) -> dict[str, Any]:
        self.asked.append(user)
        if self.down:
            raise SlackApiError("ratelimited", {"ok": False, "error": "ratelimited"})
        return {"user": {"id": user, "tz": "Asia/Tokyo" if user == "U1" else None}}


def deps_with(users: Users) -> Deps:
    return Deps(settings=None, checklist=None, sessions=None, modal_client=users)  # type: ignore[arg-type]


def test_a_time_zone_is_asked_once_an_hour_per_person_and_workspace(monkeypatch):
    users, now = Users(), [1000.0]
    monkeypatch.setattr(bot.context.time, "monotonic", lambda: now[0])
    deps = deps_with(users)
    assert [deps.slack_zone("T1", "U1") for _ in range(3)] == ["Asia/Tokyo"] * 3
    assert deps.slack_zone("T1", "U2") is None and deps.slack_zone("T1", "U2") is None  # Slack has none: kept
    assert deps.slack_zone("T2", "U1") == "Asia/Tokyo"  # another workspace is another person
    assert users.asked == ["U1", "U2", "U1"]
    now[0] += ZONE_SECONDS + 1
    assert deps.slack_zone("T1", "U1") == "Asia/Tokyo"
    assert users.asked == ["U1", "U2", "U1", "U1"]


def test_a_failed_look_up_is_asked_again_at_the_next_click():
    users = Users()
    deps = deps_with(users)
    users.down = True
    assert deps.slack_zone("T1", "U1") is None
    users.down = False
    assert deps.slack_zone("T1", "U1") == "Asia/Tokyo"
    assert users.asked == ["U1", "U1"]
