"""First contact with a real Slack: channels the bot is not in, permanent errors, expired triggers, W user ids,
message metadata, Slack Connect; through a sandbox that keeps Slack's rules for these (contract ``rules``)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

import handlers.lazy
from bot.cli.doctor import run as doctor
from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, Conversation, LocalSlack
from bot.services import config
from models import Assessment, OutboxMessage
from models.outbox import DEAD, SENT
from scheduler.delivery import METADATA_EVENT, keys_of
from tests.e2e.test_doctor import settings_for

DUE = (date.today() + timedelta(days=10)).isoformat()
ELSEWHERE, SECRET = "C0ELSEWHERE", "C0SECRET"


def start_form(local: LocalSlack, convo: Conversation, channel: str, **values: str) -> dict:
    """/readiness start typed in ``channel``; the form submitted with ``values``; the app's answer."""
    local.driver.slash_command("/readiness", "start", user=local.people.lead, channel=channel)
    local.settle()
    answer = local.driver.submit_view(local.people.lead, convo.last_view_id(), {
        "system": "copilot", "version": "2.0", "release_channel": RELEASE_CHANNEL, **values})
    local.settle()
    return json.loads(answer.body) if answer.body.strip() else {}


def reviews(local: LocalSlack) -> list[Assessment]:
    with session_scope(local.sessions) as s:
        return list(s.scalars(select(Assessment)))


def outbox(local: LocalSlack, kind: str) -> list[OutboxMessage]:
    with session_scope(local.sessions) as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def test_a_review_is_refused_in_a_channel_the_bot_is_not_in_until_it_may_join(local, convo):
    local.sandbox.add_channel(ELSEWHERE, "elsewhere")  # public, the bot not invited
    refused = start_form(local, convo, ELSEWHERE)
    assert refused["response_action"] == "errors"
    assert "Invite @Readiness there" in refused["errors"]["review_channel"]
    assert reviews(local) == [] and local.sandbox.messages(ELSEWHERE) == []
    with session_scope(local.sessions) as s:  # an admin lets Readiness join public channels by itself
        config.update(s, "T0READY", config.Config(join_channels=True), actor="test")
    assert start_form(local, convo, ELSEWHERE) == {}
    assert local.sandbox.channel_info(ELSEWHERE)["is_member"] is True
    assert [a.channel_id for a in reviews(local)] == [ELSEWHERE]
    assert local.sandbox.messages(ELSEWHERE)[0]["text"].startswith("Rollout readiness")


def test_a_private_release_channel_is_refused_even_when_joining_is_allowed(local, convo):
    local.sandbox.add_channel(SECRET, "secret-release", is_private=True)
    with session_scope(local.sessions) as s:
        config.update(s, "T0READY", config.Config(join_channels=True), actor="test")
    refused = start_form(local, convo, REVIEW_CHANNEL, release_channel=SECRET)
    assert "cannot see" in refused["errors"]["release_channel"] and "/invite @Readiness" in \
        refused["errors"]["release_channel"]
    assert reviews(local) == []
    assert local.sandbox.calls_to("conversations.join") == []  # a private channel cannot be joined: not tried
    local.sandbox.invite_bot(SECRET)
    assert start_form(local, convo, REVIEW_CHANNEL, release_channel=SECRET) == {}
    assert [a.release_channel_id for a in reviews(local)] == [SECRET]


def test_an_alert_to_an_archived_channel_is_dead_at_once_and_the_lead_is_told(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.archive_channel(RELEASE_CHANNEL)
    convo.mark(p.quality, thread, "s14", "partial", owner=p.engineer, due=DUE, note="prompts only")
    local.drain()
    [alert] = outbox(local, "blocker_alert")
    assert (alert.status, alert.attempts, alert.last_error) == (DEAD, 1, "permanent: is_archived")
    told = [m for m in local.sandbox.dm_messages(p.lead) if "could not post the blocker alert" in m["text"]]
    assert len(told) == 1 and "is archived" in json.dumps(told[0]["blocks"])
    lines, healthy = doctor(settings_for(local))
    assert not healthy and any("by error: is_archived 1" in line for line in lines)
    # unarchived; the lead presses Post it again: the alert goes out once
    with local.sandbox._state.lock:
        local.sandbox._state.channels[RELEASE_CHANNEL].is_archived = False
    local.driver.click(p.lead, p.lead, told[0]["ts"], "delivery_retry")
    local.drain()
    [alert] = outbox(local, "blocker_alert")
    assert alert.status == SENT
    assert len([m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Blocker in")]) == 1


def test_a_review_slack_refuses_to_show_waits_for_an_invitation_then_posts(local, convo):
    p = local.people
    local.sandbox.add_channel(ELSEWHERE, "elsewhere", bot_is_member=True)
    local.sandbox.inject_failure("chat.postMessage", "error:channel_not_found")  # removed after the form's check
    assert start_form(local, convo, ELSEWHERE) == {}
    [review] = reviews(local)
    assert review.thread_ts is None and review.post_error == "channel_not_found"
    told = [m for m in local.sandbox.dm_messages(p.lead) if "could not be posted" in m["text"]]
    assert len(told) == 1 and "/invite @Readiness" in json.dumps(told[0]["blocks"])
    assert local.delivery.reconciler.repair() == 0  # not tried every minute meanwhile
    local.sandbox.remove_bot(ELSEWHERE)  # (removed after the form's check: why Slack refused the post)
    local.sandbox.invite_bot(ELSEWHERE, inviter=p.lead)  # Slack tells the app: member_joined_channel
    local.settle()
    assert [(e["type"], e["user"], e["channel"]) for e, _ in local.sandbox.events_sent] == [
        ("member_joined_channel", local.sandbox.bot_user_id, ELSEWHERE)]
    with session_scope(local.sessions) as s:
        s.execute(Assessment.__table__.update().values(created_at=datetime.now(UTC) - timedelta(minutes=5)))
    assert local.delivery.reconciler.repair() == 1
    assert local.sandbox.messages(ELSEWHERE)[0]["text"].startswith("Rollout readiness")


def test_a_form_built_in_time_opens_with_one_views_open(local, convo, monkeypatch):
    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 2.0)  # well inside the trigger's three seconds
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    before = len(local.sandbox.calls)
    ts = convo.item_message(REVIEW_CHANNEL, thread, "s2")
    local.driver.click(p.engineer, REVIEW_CHANNEL, ts, "mark_no", block_id="item:s2")
    local.settle()
    calls = [c for c in local.sandbox.calls[before:] if c.method.startswith("views.")]
    assert [c.method for c in calls] == ["views.open"] and calls[0].ok  # the form itself, read from the database
    assert calls[0].args["view"]["callback_id"] == "mark_item" and "Loading" not in json.dumps(calls[0].args)


def test_a_form_not_built_in_time_opens_as_a_loading_view_then_the_form(local, convo, monkeypatch):
    """The trigger cannot wait for a slow read: a loading view opens when the budget is spent, and the form
    replaces it (the view's id and hash) when it is built."""
    import handlers.actions

    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    ts = convo.item_message(REVIEW_CHANNEL, thread, "s2")
    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 0.1)
    read, go_on = handlers.actions.mark_modal, threading.Event()

    def slow(*args, **kwargs):
        assert go_on.wait(10)  # the read ends only once the loading view is on screen
        return read(*args, **kwargs)

    monkeypatch.setattr(handlers.actions, "mark_modal", slow)
    before = len(local.sandbox.calls)
    local.driver.click(p.engineer, REVIEW_CHANNEL, ts, "mark_no", block_id="item:s2")
    for _ in range(500):
        calls = [c for c in local.sandbox.calls[before:] if c.method.startswith("views.")]
        if calls:
            break
        time.sleep(0.01)
    assert [c.method for c in calls] == ["views.open"] and "Loading" in json.dumps(calls[0].args["view"])
    go_on.set()
    local.settle()
    calls = [c for c in local.sandbox.calls[before:] if c.method.startswith("views.")]
    assert [c.method for c in calls] == ["views.open", "views.update"]
    update = calls[1]
    assert update.args["view"]["callback_id"] == "mark_item" and update.args["view_id"] == \
        calls[0].response["view"]["id"] and update.args["hash"] == calls[0].response["view"]["hash"]
    assert convo.last_view()["callback_id"] == "mark_item"


def test_an_expired_trigger_asks_the_person_to_click_again_and_saves_nothing(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    ts = convo.item_message(REVIEW_CHANNEL, thread, "s2")
    local.sandbox._state.trigger_ttl = 0.0  # the app took longer than Slack allows
    local.driver.click(p.engineer, REVIEW_CHANNEL, ts, "mark_no", block_id="item:s2")
    local.settle()
    [opened] = [c for c in local.sandbox.calls_to("views.open") if not c.ok]
    assert opened.error == "expired_trigger_id"
    [said] = [c.args["text"] for c in local.sandbox.calls_to("response_url")]
    assert "click again" in said and "saved" not in said.replace("nothing was changed", "")


@pytest.mark.parametrize("owner", ["W0WANDA"])
def test_a_w_user_owners_dm_that_timed_out_is_found_in_history_not_sent_twice(local, convo, owner):
    p = local.people
    local.sandbox.add_user(owner, "wanda", tz="Europe/Paris")
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.inject_failure("chat.postMessage", "accept_then_drop", times=1)  # posted, answer lost
    convo.mark(p.quality, thread, "s3", "yes", owner=owner, due=DUE, note="no cohort split")
    local.drain()
    sent = [m for m in local.sandbox.dm_messages(owner) if "You own" in m["text"]]
    assert len(sent) == 1
    meta = sent[0]["metadata"]
    assert meta["event_type"] == METADATA_EVENT and all(isinstance(k, dict) for k in meta["event_payload"]["keys"])
    [row] = outbox(local, "owner_assigned")
    assert row.status == SENT and row.dedupe_key in keys_of(meta)
    assert any(c.method == "conversations.history" for c in local.sandbox.calls)  # looked up, then recorded


def test_metadata_slack_would_drop_is_dropped_with_a_warning(local):
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-local-sandbox", base_url=local.sandbox.api_url)
    answer = client.chat_postMessage(channel=REVIEW_CHANNEL, text="x",
                                     metadata={"event_type": "t", "event_payload": {"keys": ["a", "b"]}})
    assert answer["response_metadata"]["warnings"] == ["invalid_metadata_schema"]
    assert "metadata" not in local.sandbox.find_message(REVIEW_CHANNEL, answer["ts"])


def test_a_date_field_starts_on_the_persons_own_day(local, convo):
    p = local.people
    local.sandbox.add_user("U0KIRI", "kiri", tz="Pacific/Kiritimati")  # UTC+14: usually a day ahead of UTC
    thread = convo.start_review(p.lead, "copilot", "2.0")
    ts = convo.item_message(REVIEW_CHANNEL, thread, "s3")
    local.driver.click("U0KIRI", REVIEW_CHANNEL, ts, "mark_yes", block_id="item:s3")
    local.settle()
    form = json.dumps(convo.last_view()["blocks"])
    from zoneinfo import ZoneInfo

    # a new gap is proposed two weeks out, counted from the person's own day (not the server's)
    two_weeks = datetime.now(ZoneInfo("Pacific/Kiritimati")).date() + timedelta(days=14)
    assert f'"initial_date": "{two_weeks.isoformat()}"' in form


def test_post_it_again_that_fails_again_tells_the_lead_again(local, convo):
    """The retry's answer promises "you will hear if it fails again": each failure of the same message is a
    notice of its own."""
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.archive_channel(RELEASE_CHANNEL)
    convo.mark(p.quality, thread, "s14", "partial", owner=p.engineer, due=DUE, note="prompts only")
    local.drain()
    def told() -> list[dict]:
        return [m for m in local.sandbox.dm_messages(p.lead) if "could not post the blocker alert" in m["text"]]

    assert len(told()) == 1
    local.driver.click(p.lead, p.lead, told()[0]["ts"], "delivery_retry")  # still archived: it fails again
    local.drain()
    [said] = [c.args["text"] for c in local.sandbox.calls_to("response_url")]
    assert "you will hear if it fails again" in said
    assert len(told()) == 2
    [alert] = outbox(local, "blocker_alert")
    assert (alert.status, alert.last_error) == (DEAD, "permanent: is_archived")
    # the second notice's button works too, and only for the person it went to
    with local.sandbox._state.lock:
        local.sandbox._state.channels[RELEASE_CHANNEL].is_archived = False
    local.driver.click(p.lead, p.lead, told()[1]["ts"], "delivery_retry")
    local.drain()
    [alert] = outbox(local, "blocker_alert")
    assert alert.status == SENT
    assert len([m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Blocker in")]) == 1


def _alert_posted_but_answer_lost(local, convo) -> None:
    """A blocker alert to a public release channel the bot was removed from: chat:write.public lets it post, the
    answer is lost on the way (so its fate is unknown), and the channel's history is closed to the bot."""
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.remove_bot(RELEASE_CHANNEL)
    local.sandbox.inject_failure("chat.postMessage", "accept_then_drop", times=1)
    convo.mark(p.engineer, thread, "s14", "partial", owner=p.engineer, due=DUE, note="prompts only")  # no DM: own
    local.drain()


def _alerts(local) -> list[dict]:
    return [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Blocker in")]


def test_an_unknown_alert_in_a_channel_the_bot_cannot_read_is_never_posted_twice(local, convo):
    p = local.people
    _alert_posted_but_answer_lost(local, convo)
    assert len(_alerts(local)) == 1  # it did reach Slack
    [alert] = outbox(local, "blocker_alert")
    assert alert.status == DEAD and alert.last_error.startswith("permanent: not_in_channel")
    def told() -> list[dict]:
        return [m for m in local.sandbox.dm_messages(p.lead) if "may have posted the blocker alert" in m["text"]]

    [notice] = told()
    shown = json.dumps(notice["blocks"])
    assert "cannot check" in shown and "/invite @Readiness" in shown and "posts it only if it is not there" in shown
    assert "could not post" not in notice["text"]

    # Post it again before the bot is back: still nothing can be checked, so nothing is posted; told again
    local.driver.click(p.lead, p.lead, notice["ts"], "delivery_retry")
    local.drain()
    assert "look for it" in local.sandbox.calls_to("response_url")[-1].args["text"]
    assert len(_alerts(local)) == 1 and len(told()) == 2
    # invited; Post it again looks first, finds the alert and records it: still one copy
    local.sandbox.invite_bot(RELEASE_CHANNEL)
    local.driver.click(p.lead, p.lead, told()[1]["ts"], "delivery_retry")
    local.drain()
    [alert] = outbox(local, "blocker_alert")
    assert alert.status == SENT and alert.sent_ts == _alerts(local)[0]["ts"]
    assert len(_alerts(local)) == 1


def test_an_unknown_alert_is_looked_up_after_joining_when_the_workspace_allows_it(local, convo):
    with session_scope(local.sessions) as s:
        config.update(s, "T0READY", config.Config(join_channels=True), actor="test")
    _alert_posted_but_answer_lost(local, convo)
    [alert] = outbox(local, "blocker_alert")
    assert alert.status == SENT and alert.sent_ts == _alerts(local)[0]["ts"]
    assert len(_alerts(local)) == 1
    assert [c.args["channel"] for c in local.sandbox.calls_to("conversations.join")] == [RELEASE_CHANNEL]
    assert outbox(local, "delivery_failed") == []  # nobody needs to do anything


def test_a_form_that_fails_while_it_is_built_says_so_in_the_modal_with_the_error_id(local, convo, monkeypatch, caplog):
    """Not left on "Loading…": the modal shows a short message with the error id, and the log has the traceback
    under the same id."""
    import handlers.actions

    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    ts = convo.item_message(REVIEW_CHANNEL, thread, "s2")

    def broken(*_args, **_kwargs):
        raise RuntimeError("the checklist could not be read")

    monkeypatch.setattr(handlers.actions, "mark_modal", broken)
    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 2.0)  # failing at once: the modal opens with the notice
    before = len(local.sandbox.calls)
    with caplog.at_level("ERROR"):
        local.driver.click(p.engineer, REVIEW_CHANNEL, ts, "mark_no", block_id="item:s2")
        local.settle()
    shown = json.dumps(convo.last_view())
    assert "Loading" not in shown and "Something went wrong on our side" in shown
    assert [c.method for c in local.sandbox.calls[before:] if c.method.startswith("views.")] == ["views.open"]
    [error_id] = [r.error_id for r in caplog.records if getattr(r, "error_id", None)]
    assert f"error id {error_id}" in shown
    assert any("the checklist could not be read" in (r.exc_text or "") or
               (r.exc_info and "the checklist could not be read" in str(r.exc_info[1])) for r in caplog.records)
    assert local.sandbox.calls_to("response_url") == []  # said once, where the person is looking


OTHER_RELEASE = "C0OTHERREL"


def _two_channels_to_join(local) -> None:
    """The start form's worst case before its ack: two public channels the bot is not in, joining allowed, so
    conversations.info and conversations.join for each."""
    local.sandbox.add_channel(ELSEWHERE, "elsewhere")
    local.sandbox.add_channel(OTHER_RELEASE, "other-releases")
    with session_scope(local.sessions) as s:
        config.update(s, "T0READY", config.Config(join_channels=True), actor="test")


def _submit_start(local, convo, channel: str, release: str):
    local.driver.slash_command("/readiness", "start", user=local.people.lead, channel=channel)
    local.settle()
    return local.driver.submit_view(local.people.lead, convo.last_view_id(), {
        "system": "copilot", "version": "2.0", "release_channel": release})


def test_the_start_forms_checks_with_slack_run_at_once_before_the_ack(local, convo):
    _two_channels_to_join(local)
    for method in ("conversations.info", "conversations.join"):  # each answer takes 0.6 s: 2.4 s one by one
        local.sandbox.inject_failure(method, "slow:0.6", times=2)
    answer = _submit_start(local, convo, ELSEWHERE, OTHER_RELEASE)
    local.settle()
    assert answer.status == 200 and not answer.body.strip(), answer.body
    assert answer.elapsed < 2.0, f"the checks ran one after another: {answer.elapsed:.2f}s"
    assert [(a.channel_id, a.release_channel_id) for a in reviews(local)] == [(ELSEWHERE, OTHER_RELEASE)]
    assert local.sandbox.channel_info(OTHER_RELEASE)["is_member"] is True


def test_a_slack_too_slow_for_the_start_forms_ack_is_said_under_the_fields_in_time(local, convo):
    _two_channels_to_join(local)
    local.sandbox.inject_failure("conversations.info", "slow:2.5", times=2)  # no answer within the budget
    answer = _submit_start(local, convo, ELSEWHERE, OTHER_RELEASE)
    local.settle()
    assert answer.elapsed < 2.5, f"the ack waited for Slack: {answer.elapsed:.2f}s"  # Slack's limit is 3 s
    errors = json.loads(answer.body)["errors"]
    assert set(errors) == {"review_channel", "release_channel"}
    assert all("did not answer in time" in e and "try again" in e for e in errors.values()), errors
    assert reviews(local) == []
