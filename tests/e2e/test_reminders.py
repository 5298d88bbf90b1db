"""Reminders through the sandbox: digests, escalation, closing and reassigning gaps, Slack failures."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.db import db_now, session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, Conversation, LocalSlack
from bot.services import outbox
from models import Assessment, OutboxMessage
from scheduler.delivery import keys_of


class Clock:
    """The app's clock, a month back on a Wednesday (so every planned reminder is already due by the
    database's clock)."""

    def __init__(self) -> None:
        start = datetime.now(UTC) - timedelta(days=30)
        start -= timedelta(days=start.weekday() - 2)  # a Wednesday
        # 08:00 UTC: inside the working hours of every owner of the demo team (Berlin, Kolkata, Tokyo)
        self.now = start.replace(hour=8, minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def day(self, offset: int) -> str:
        return (self.now + timedelta(days=offset)).date().isoformat()


@pytest.fixture
def clock() -> Clock:
    return Clock()


ALWAYS = {"working_hours": "00:00-23:59:59", "working_days": "mon,tue,wed,thu,fri,sat,sun"}


@pytest.fixture
def local(engine, clock):
    # Working hours are the plan's business (tests/core/test_reminder_plan.py) and one test below;
    # here every moment is a working one, so what is tested is delivery.
    with LocalSlack(engine=engine, clock=clock, **ALWAYS) as running:
        yield running
        assert running.sandbox.violations == [], "the bot broke Slack's contract"


def sweep(local: LocalSlack, times: int = 1) -> int:
    total = 0
    for _ in range(times):
        total += local.delivery.deliverer.sweep()
    return total


def rows(local: LocalSlack) -> list[OutboxMessage]:
    with session_scope(local.sessions) as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def reminder_dms(local: LocalSlack, user: str) -> list[dict]:
    """Reminder digests (their metadata keys are gap keys), not the owner-assigned notices."""
    return [m for m in local.sandbox.dm_messages(user) if any(k.startswith("gap:") for k in keys_of(m.get("metadata")))]


def test_one_digest_per_owner_and_nothing_twice(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s1", "yes", owner=p.quality, due=clock.day(1), note="a")
    convo.mark(p.lead, thread, "s5", "partial", owner=p.quality, due=clock.day(2), note="b")
    convo.mark(p.lead, thread, "s7", "yes", owner=p.engineer, due=clock.day(1), note="c")
    assert sweep(local) > 0
    dana, priya = reminder_dms(local, p.quality), reminder_dms(local, p.engineer)
    assert len(dana) == 1 and len(priya) == 1
    body = json.dumps(dana[0]["blocks"])
    assert body.count("*s1*") == 1 and body.count("*s5*") == 1 and "*s7*" not in body  # (Slack's block ids are random)
    assert "reminder_remark" in body and "reminder_new_due" in body and "thread_ts=" in body
    keys = keys_of(dana[0]["metadata"])
    assert keys and all(k.startswith("gap:") and k.endswith(p.quality) for k in keys)
    assert sweep(local, 3) == 0
    assert len(reminder_dms(local, p.quality)) == 1
    assert {r.status for r in rows(local)} == {"sent"}


def test_closing_a_gap_cancels_it_and_reassigning_moves_it(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s1", "yes", owner=p.quality, due=clock.day(1), note="a")
    convo.mark(p.lead, thread, "s2", "yes", owner=p.quality, due=clock.day(1), note="b")
    convo.mark(p.quality, thread, "s1", "no", evidence="fixed", reason="closed")
    convo.mark(p.lead, thread, "s2", "yes", owner=p.operations, due=clock.day(1), note="b", reason="sam owns it")
    sweep(local)
    assert reminder_dms(local, p.quality) == []
    sam = reminder_dms(local, p.operations)
    assert len(sam) == 1 and "*s2*" in json.dumps(sam[0]["blocks"])
    assert all(r.recipient == p.operations for r in rows(local) if r.status == "sent" and r.dedupe_key.startswith("gap:")
               and r.recipient.startswith("U"))


def test_overdue_gaps_escalate_to_the_thread_and_the_release_channel(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s12", "yes", owner=p.operations, due=clock.day(1), note="a")
    sweep(local)
    clock.now += timedelta(days=6)
    local.delivery.reconciler.run()
    sweep(local)
    in_thread = [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if "overdue" in m.get("text", "").lower()]
    in_release = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if "overdue" in m.get("text", "").lower()]
    assert len(in_thread) == 1 and f"<@{p.operations}>" in json.dumps(in_thread[0]["blocks"])
    assert len(in_release) == 1
    local.delivery.reconciler.run()
    sweep(local, 2)
    assert len([m for m in local.sandbox.messages(RELEASE_CHANNEL) if "overdue" in m.get("text", "").lower()]) == 1


def test_owner_time_zone_comes_from_users_info(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s3", "yes", owner=p.operations, due=clock.day(1), note="a")
    local.delivery.reconciler.run()
    assert [c.args["user"] for c in local.sandbox.calls_to("users.info")].count(p.operations) == 1
    due_today = [r for r in rows(local) if ":due_today:" in r.dedupe_key][0]
    assert due_today.due_at.astimezone(ZoneInfo("Asia/Tokyo")).hour == 0  # the window's start, Tokyo time


@pytest.mark.parametrize("kind", ["ratelimited", "server_error", "drop", "accept_then_drop"])
def test_slack_failures_still_deliver_exactly_once(local, clock, kind):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s4", "yes", owner=p.engineer, due=clock.day(1), note="a")
    local.sandbox.inject_failure("chat.postMessage", kind, times=1, retry_after=1)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and {r.status for r in rows(local)} != {"sent"}:
        sweep(local)
        time.sleep(0.2)
    assert {r.status for r in rows(local)} == {"sent"}
    # exactly once: every reminder in one message, none twice (a retried batch may go out as more than one digest)
    posted = [k for m in reminder_dms(local, p.engineer) for k in keys_of(m.get("metadata"))]
    sent = [r.dedupe_key for r in rows(local) if r.dedupe_key.startswith("gap:") and r.recipient == p.engineer]
    assert sorted(posted) == sorted(sent) and len(set(posted)) == len(posted)


def _digest(local: LocalSlack, user: str) -> dict:
    dms = reminder_dms(local, user)
    assert dms, f"no reminder for {user}"
    return dms[-1]


def test_owner_proposes_a_new_date_and_only_the_lead_can_accept(local, clock):
    from bot.services.assessments import history

    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s6", "partial", owner=p.quality, due=clock.day(1), note="citations")
    sweep(local)
    dm_channel = local.sandbox.dm_channel(p.quality)
    message = _digest(local, p.quality)
    local.driver.click(p.quality, dm_channel, message["ts"], "reminder_new_due")
    local.settle()
    view_id = convo.last_view_id()
    refused = json.loads(local.driver.submit_view(p.quality, view_id, {"new_due": clock.day(1)}).body)
    assert "already due" in refused["errors"]["new_due"]
    response = local.driver.submit_view(p.quality, view_id, {"new_due": clock.day(9), "reason": "vendor fix"})
    local.settle()
    assert response.status == 200 and "Sent to <@U0LEAD>" in response.body  # said in the form, not in a DM
    assert not [m for m in local.sandbox.dm_messages(p.quality) if "proposal" in m.get("text", "").lower()]
    lead_dm = [m for m in local.sandbox.dm_messages(p.lead) if "proposal:" in json.dumps(m.get("blocks"))]
    assert len(lead_dm) == 1 and "vendor fix" in json.dumps(lead_dm[0]["blocks"])
    lead_channel = local.sandbox.dm_channel(p.lead)
    # someone else clicking Accept is refused, privately, and nothing changes
    local.driver.click(p.engineer, lead_channel, lead_dm[0]["ts"], "due_accept")
    local.settle()
    assert any("release lead" in e.get("text", "") for e in local.sandbox.ephemerals(p.engineer))
    local.driver.click(p.lead, lead_channel, lead_dm[0]["ts"], "due_accept")
    local.settle()
    with session_scope(local.sessions) as s:
        changes = history(s, "T0READY", 1)
    assert changes[-1].due.isoformat() == clock.day(9) and "owner's request" in (changes[-1].reason or "")
    old = [r for r in rows(local) if clock.day(1) in r.dedupe_key and r.status == "pending"]
    assert old == []
    assert any("accepted" in m.get("text", "") for m in local.sandbox.dm_messages(p.quality))


def test_closing_from_the_reminder_marks_no_and_stops_reminders(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s8", "yes", owner=p.quality, due=clock.day(1), note="handoffs")
    sweep(local)
    message = _digest(local, p.quality)
    local.driver.click(p.quality, local.sandbox.dm_channel(p.quality), message["ts"], "reminder_remark")
    local.settle()
    local.driver.submit_view(p.quality, convo.last_view_id(), {"evidence": "handoff tests pass"})
    local.settle()
    clock.now += timedelta(days=5)
    local.delivery.reconciler.run()
    assert sweep(local) == 0
    assert len(reminder_dms(local, p.quality)) == 1


def test_closing_the_review_stops_its_reminders_and_only_the_lead_may(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s9", "yes", owner=p.quality, due=clock.day(1), note="x")
    refused = local.driver.slash_command("/readiness", "close 1", user=p.quality, channel=REVIEW_CHANNEL)
    assert "Only the release lead" in refused.body
    assert {r.status for r in rows(local) if r.dedupe_key.startswith("gap:")} == {"pending"}
    done = local.driver.slash_command("/readiness", "close 1", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    assert "closed" in done.body
    assert {r.status for r in rows(local) if r.dedupe_key.startswith("gap:")} == {"cancelled"}
    assert sweep(local) == 0 and reminder_dms(local, p.quality) == []
    assert "Closed" in json.dumps(local.sandbox.find_message(REVIEW_CHANNEL, thread)["blocks"])
    bad = local.driver.slash_command("/readiness", "close twelve", user=p.lead, channel=REVIEW_CHANNEL)
    assert "Usage" in bad.body


def test_retry_after_is_honoured(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s13", "yes", owner=p.engineer, due=clock.day(1), note="a")
    local.sandbox.inject_failure("chat.postMessage", "ratelimited", times=1, retry_after=2)
    before = len(local.sandbox.calls_to("chat.postMessage"))

    def refused_and_resent() -> tuple[list, list]:
        posts = local.sandbox.calls_to("chat.postMessage")[before:]
        refused = [c for c in posts if c.status == 429]
        channel = refused[0].args.get("channel") if refused else None
        return refused, [c for c in posts if c.ok and refused and c.args.get("channel") == channel
                         and c.timestamp > refused[0].timestamp]

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (reminder_dms(local, p.engineer) and refused_and_resent()[1]):
        sweep(local)
        time.sleep(0.1)
    refused, after = refused_and_resent()
    assert len(refused) == 1
    assert after
    assert after[0].timestamp - refused[0].timestamp >= 2.0
    assert len(reminder_dms(local, p.engineer)) == 1


def test_reminders_wait_for_the_owners_working_hours(engine):
    clock = Clock()
    clock.now = clock.now.replace(hour=12)  # 21:00 in Tokyo: after sam's working day
    with LocalSlack(engine=engine, clock=clock) as local:
        convo, p = Conversation(local), local.people
        thread = convo.start_review(p.lead, "copilot", "2.0")
        convo.mark(p.lead, thread, "s11", "yes", owner=p.operations, due=clock.day(1), note="load")
        local.delivery.reconciler.run()  # learns that sam is in Asia/Tokyo
        sweep(local)
        assert reminder_dms(local, p.operations) == []
        held = [r for r in rows(local) if r.dedupe_key.startswith("gap:") and r.recipient == p.operations]
        assert held and all(r.status == "pending" and r.attempts == 0 for r in held)
        # held until 09:00 in Tokyo, twelve hours on (counted from the database's clock)
        assert all(r.next_attempt_at > datetime.now(UTC) + timedelta(hours=11) for r in held)


def test_a_reopened_gap_is_reminded_again(local, clock):
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s2", "yes", owner=p.quality, due=clock.day(1), note="a")
    convo.mark(p.quality, thread, "s2", "no", evidence="handled", reason="closed")
    assert {r.status for r in rows(local) if r.dedupe_key.startswith("gap:")} == {"cancelled"}
    convo.mark(p.lead, thread, "s2", "yes", owner=p.quality, due=clock.day(1), note="a", reason="regressed")
    assert "pending" in {r.status for r in rows(local) if r.dedupe_key.startswith("gap:")}
    sweep(local)
    assert len(reminder_dms(local, p.quality)) == 1


def _reminders_of(local: LocalSlack, user: str) -> list[dict]:
    return [m for m in local.sandbox.dm_messages(user) if m.get("text", "").startswith(("Reminder", "Replaced"))]


def test_a_simulated_month_gives_at_most_one_reminder_a_working_day_and_none_at_weekends(engine):
    """Default working days and hours; the app's clock walks a month, day by day, at several hours a day."""
    start = datetime.now(UTC) - timedelta(days=40)
    clock = Clock()
    clock.now = start.replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=start.weekday())  # a Monday
    with LocalSlack(engine=engine, clock=clock) as local:
        convo, p = Conversation(local), local.people
        thread = convo.start_review(p.lead, "copilot", "2.0")
        for n, item in enumerate(("s1", "s3", "s5", "s8", "s12")):  # due on different days, several overdue
            convo.mark(p.lead, thread, item, "partial", owner=p.quality, due=clock.day(2 + 3 * n), note="open")
        local.drain()
        per_day: dict[date, int] = {}
        seen = 0
        later_gaps = {3: "s2", 9: "s4", 16: "s6"}  # new gaps mid-day, after that morning's reminder went out
        for day in range(30):
            for hour in (6, 9, 12, 16):  # UTC: 07:00, 10:00, 13:00, 17:00 in Berlin
                clock.now = clock.now.replace(hour=hour)
                if hour == 12 and day in later_gaps:
                    convo.mark(p.lead, thread, later_gaps[day], "yes", owner=p.quality, due=clock.day(1),
                               note="found later")
                local.delivery.reconciler.run()
                sweep(local, 2)
                posted = reminder_dms(local, p.quality)[seen:]
                seen += len(posted)
                local_day = clock.now.astimezone(ZoneInfo("Europe/Berlin")).date()
                per_day[local_day] = per_day.get(local_day, 0) + len(posted)
            clock.now += timedelta(days=1)
        assert local.sandbox.violations == []
        weekend = {d: n for d, n in per_day.items() if d.weekday() >= 5 and n}
        assert weekend == {}, weekend
        assert max(per_day.values()) == 1, per_day
        assert sum(per_day.values()) >= 10  # overdue gaps are reminded each working day
        dms = _reminders_of(local, p.quality)
        live = [m for m in dms if any(b["type"] == "actions" for b in m.get("blocks") or [])]
        assert len(live) == 1 and live[0]["ts"] == dms[-1]["ts"]  # only the newest reminder can be clicked


def test_snooze_quiets_a_gap_until_the_chosen_day_and_never_past_its_due_date(local, clock):
    from bot.services.audit import events

    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.lead, thread, "s6", "partial", owner=p.quality, due=clock.day(2), note="citations")
    sweep(local)
    digest = _digest(local, p.quality)
    [menu] = [e for b in digest["blocks"] if b.get("block_id") == "gap:1:s6" for e in b["elements"]
              if e["action_id"] == "reminder_snooze"]
    labels = [o["text"]["text"] for o in menu["options"]]
    assert labels == ["Snooze 1 day", "Snooze until it is due"]  # 3 and 7 days would pass the due date
    local.driver.click(p.quality, local.sandbox.dm_channel(p.quality), digest["ts"], "reminder_snooze",
                       block_id="gap:1:s6", value=menu["options"][1]["value"])
    local.settle()
    assert any(f"before {clock.day(2)}" in e.get("text", "") for e in local.sandbox.ephemerals(p.quality))
    with session_scope(local.sessions) as s:
        assert [e.action for e in events(s, 1)].count("gap.snoozed") == 1
    before = len(reminder_dms(local, p.quality))
    clock.now += timedelta(days=1)
    local.delivery.reconciler.run()
    sweep(local, 2)
    assert len(reminder_dms(local, p.quality)) == before  # quiet while snoozed
    clock.now += timedelta(days=1)
    local.delivery.reconciler.run()
    sweep(local, 2)
    assert len(reminder_dms(local, p.quality)) == before + 1  # due today: reminded again


def test_a_nudge_links_to_the_check_in_it_is_about(local, clock):
    from tests.e2e.conftest import allow_golive_before_signoff

    convo, p = Conversation(local), local.people
    convo.start_review(p.lead, "copilot", "2.0")
    allow_golive_before_signoff(local)
    local.driver.slash_command("/readiness", "golive", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    local.driver.submit_view(p.lead, convo.last_view_id(), {
        "alerts": "p99", "cadence": "daily", "escalation_owner": p.operations, "watch_items": "refunds"})
    local.settle()
    clock.now += timedelta(days=3)
    sweep(local, 3)
    checkin = next(m for m in local.sandbox.all_messages(RELEASE_CHANNEL) if m["text"].startswith("Day 1 "))
    nudge = next(m for m in local.sandbox.dm_messages(p.operations) if "unanswered" in m["text"])
    assert f"p{checkin['ts'].replace('.', '')}" in json.dumps(nudge["blocks"])  # the check-in's own link


def test_a_burst_to_one_channel_holds_up_no_other_channels_post(local, clock):
    """Five escalations to the release channel go out a second apart (Slack's pace for a channel); one to another
    channel, claimed after them, does not wait behind them."""
    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    items = ["s1", "s2", "s3", "s4", "s5", "s6"]
    for item in items:
        convo.mark(p.lead, thread, item, "yes", owner=p.operations, due=clock.day(1), note="a")
    sweep(local, 2)
    with session_scope(local.sessions) as s:
        s.execute(OutboxMessage.__table__.update().where(OutboxMessage.status == "pending")
                  .values(status="cancelled"))
        review = s.scalars(select(Assessment)).one()
        now = db_now(s) - timedelta(seconds=1)
        for n, item in enumerate(items):  # the release channel's five first, by id and due time
            outbox.enqueue(s, review.team_id, dedupe_key=f"burst:{item}", kind="escalation_channel",
                           recipient=RELEASE_CHANNEL if n < 5 else REVIEW_CHANNEL, due_at=now, assessment_id=review.id,
                           item_id=item, payload={"owner": p.operations, "due": clock.day(1), "day": clock.day(1),
                                                  "reminder": "escalation"})
    before = len(local.sandbox.calls_to("chat.postMessage"))
    sweep(local)
    posts = [c for c in local.sandbox.calls_to("chat.postMessage")[before:] if c.ok]
    keys = [k for c in posts for k in keys_of(json.loads(c.args["metadata"]) if isinstance(c.args.get("metadata"), str)
                                              else c.args.get("metadata"))]
    assert sorted(keys) == sorted(f"burst:{i}" for i in items)  # each once
    release = [c.timestamp for c in posts if c.args.get("channel") == RELEASE_CHANNEL]
    other = [c.timestamp for c in posts if c.args.get("channel") == REVIEW_CHANNEL]
    assert len(release) == 5 and len(other) == 1
    assert all(b - a >= 0.9 for a, b in zip(release, release[1:], strict=False)), release  # still paced
    assert other[0] - release[0] < 1.0, (other[0] - release[0], release)  # not behind the burst
