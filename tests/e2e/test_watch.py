"""Go-live and the first-week watch list through the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, Conversation, LocalSlack
from models import GoLive, OutboxMessage, WatchCheckin
from tests.e2e.conftest import allow_golive_before_signoff

FAR = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
def local(engine):
    with LocalSlack(engine=engine) as running:
        yield running
        assert running.sandbox.violations == [], "the bot broke Slack's contract"


def due_now(local: LocalSlack, *suffixes: str) -> None:
    """Hold every watch row back, then let only those whose key ends with one of ``suffixes`` come due."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(local.sessions) as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key.like("watch:%"),
                                              OutboxMessage.status == "pending").values(next_attempt_at=FAR))
        for suffix in suffixes:
            s.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"watch:%:{suffix}"),
                                                  OutboxMessage.status == "pending").values(next_attempt_at=past))


def go_live(local: LocalSlack, convo: Conversation) -> str:
    p = local.people
    convo.start_review(p.lead, "copilot", "2.0")
    allow_golive_before_signoff(local)
    response = local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    assert response.status == 200 and not response.body.strip()
    local.settle()
    view_id = convo.last_view_id()
    refused = json.loads(local.driver.submit_view(p.lead, view_id, {
        "alerts": "p99 > 6 s", "cadence": "daily", "escalation_owner": p.operations, "watch_items": "  \n - \n"}).body)
    assert "watch_items" in refused["errors"]
    response = local.driver.submit_view(p.lead, view_id, {
        "alerts": "p99 latency over 6 s for 10 minutes", "cadence": "daily for a week",
        "escalation_owner": p.operations, "watch_items": "jp-support task success\nrefund tool timeouts"})
    local.settle()
    assert response.status == 200 and not response.body.strip()
    announcement = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Go-live")]
    assert len(announcement) == 1
    return str(announcement[0]["ts"])


def test_go_live_plans_a_week_of_check_ins_nudges_and_a_summary(local):
    convo, p = Conversation(local), local.people
    thread = go_live(local, convo)
    with session_scope(local.sessions) as s:
        golive = s.scalar(select(GoLive))
        keys = sorted(r.dedupe_key.split(":", 2)[2] for r in s.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("watch:%"))))
    assert golive is not None and golive.thread_ts == thread and golive.watch_items == [
        "jp-support task success", "refund tool timeouts"]
    assert keys == sorted([f"checkin:{d}" for d in range(1, 8)] + [f"nudge:{d}" for d in range(1, 8)] + ["summary"])

    due_now(local, "checkin:1", "checkin:2", "checkin:3")
    local.drain()
    checkins = [m for m in local.sandbox.thread(RELEASE_CHANNEL, thread) if m["text"].startswith("Day ")]
    assert [m["text"].split(" ")[1] for m in checkins] == ["1", "2", "3"]
    assert "refund tool timeouts" in json.dumps(checkins[0]["blocks"])

    local.driver.click(p.engineer, RELEASE_CHANNEL, checkins[0]["ts"], "watch_clear")
    local.driver.click(p.engineer, RELEASE_CHANNEL, checkins[0]["ts"], "watch_clear")  # a double click
    local.settle()
    local.driver.click(p.quality, RELEASE_CHANNEL, checkins[1]["ts"], "watch_issue")
    local.settle()
    view_id = convo.last_view_id()
    local.driver.submit_view(p.quality, view_id, {"description": "refund tool timeouts doubled",
                                                  "link": "https://grafana.example/d/refunds"})
    local.settle()
    with session_scope(local.sessions) as s:
        answers = [(a.day, a.user_id, a.answer) for a in s.scalars(select(WatchCheckin).order_by(WatchCheckin.id))]
    assert answers == [(1, p.engineer, "clear"), (2, p.quality, "issue")]
    alert = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Issue in")]
    assert len(alert) == 1 and "grafana.example" in json.dumps(alert[0]["blocks"])
    assert f"<@{p.operations}>" in json.dumps(alert[0]["blocks"])
    day1 = local.sandbox.find_message(RELEASE_CHANNEL, checkins[0]["ts"])
    assert "all clear" in json.dumps(day1["blocks"])

    due_now(local, "nudge:1", "nudge:2", "nudge:3")
    local.drain()
    nudges = [m for m in local.sandbox.dm_messages(p.operations) if "check-in" in m["text"]]
    assert [n["text"].split(" ")[1] for n in nudges] == ["3"]

    due_now(local, "summary")
    local.drain()
    summary = [m for m in local.sandbox.thread(RELEASE_CHANNEL, thread) if m["text"].startswith("First-week")]
    assert len(summary) == 1
    body = json.dumps(summary[0]["blocks"])
    assert "Day 1: :white_check_mark:" in body and "Day 2: :warning:" in body and "Day 4: :grey_question:" in body


def test_go_live_needs_an_open_review_and_happens_once(local):
    convo, p = Conversation(local), local.people
    none = local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    assert "No open review" in none.body
    go_live(local, convo)
    local.driver.slash_command("/readiness", "golive 1", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    assert "already recorded" in json.dumps(convo.last_view()["blocks"])  # said in the form, before any typing
    with session_scope(local.sessions) as s:
        assert len(list(s.scalars(select(GoLive)))) == 1


def test_go_live_waits_for_the_sign_off_unless_the_workspace_allows_it(local):
    convo, p = Conversation(local), local.people
    convo.start_review(p.lead, "copilot", "2.0")
    local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    refused = json.dumps(convo.last_view()["blocks"])
    assert "sign-off of review #1 is not approved yet" in refused and "/readiness config" in refused
    assert "alerts" not in refused  # the plan's fields are not offered
    allow_golive_before_signoff(local)
    local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    assert "not approved yet" not in json.dumps(convo.last_view()["blocks"])
