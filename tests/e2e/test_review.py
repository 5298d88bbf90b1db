"""A whole review through Slack: start, mark, change marks, alerts, DMs, result, slash commands, home."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import func, select

from bot.core.checklist import Verdict
from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, LocalSlack
from bot.services.assessments import history, scorecard
from models import Assessment, MarkChange

DUE = (date.today() + timedelta(days=10)).isoformat()


def db_count(local: LocalSlack, model) -> int:
    with session_scope(local.sessions) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def only_assessment(local: LocalSlack) -> Assessment:
    with session_scope(local.sessions) as s:
        rows = list(s.scalars(select(Assessment)))
    assert len(rows) == 1
    return rows[0]


def texts(messages) -> str:
    return "\n".join(json.dumps(m.get("blocks")) + (m.get("text") or "") for m in messages)


def test_start_posts_parent_and_one_reply_per_section(local, convo, checklist):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0", cohorts="eu, jp")
    parent = local.sandbox.find_message(REVIEW_CHANNEL, thread)
    assert parent is not None and "0/22 marked" in json.dumps(parent["blocks"])
    replies = [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if m["ts"] != thread]
    assert len(replies) == 6
    for item_id in checklist.item_ids:
        assert f'"item:{item_id}"' in texts(replies)
    a = only_assessment(local)
    assert (a.system, a.version, a.cohorts, a.release_channel_id) == ("copilot", "2.0", ["eu", "jp"], RELEASE_CHANNEL)
    assert a.thread_ts == thread and len(a.section_messages) == 6


def test_start_modal_is_validated_in_the_ack(local, convo):
    p = local.people
    local.driver.slash_command("/readiness", "start", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    response = local.driver.submit_view(p.lead, convo.last_view_id(), {"system": "  ", "version": "1"})
    body = json.loads(response.body)
    assert body["response_action"] == "errors" and set(body["errors"]) == {"system"}
    assert db_count(local, Assessment) == 0


def test_marks_update_the_parent_and_raise_and_clear_blocker_alerts(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.quality, thread, "s16", "partial", owner=p.operations, due=DUE, note="staging only")
    parent = local.sandbox.find_message(REVIEW_CHANNEL, thread)
    assert "1/22 marked" in json.dumps(parent["blocks"]) and "No-go" in json.dumps(parent["blocks"])
    alerts = local.sandbox.messages(RELEASE_CHANNEL)
    assert len(alerts) == 1
    alert = json.dumps(alerts[0]["blocks"])
    assert "s16" in alert and f"<@{p.quality}>" in alert and f"<@{p.operations}>" in alert and DUE in alert
    # The link is this thread's permalink, as Slack gave it for the parent message.
    permalink = f"https://sandbox.slack.com/archives/{REVIEW_CHANNEL}/p{thread.replace('.', '')}"
    answered = [c.response["permalink"] for c in local.sandbox.calls_to("chat.getPermalink")
                if c.args.get("message_ts") == thread and c.ok]
    assert answered and set(answered) == {permalink}
    assert f"<{permalink}|Open the thread>" in alerts[0]["blocks"][-1]["elements"][0]["text"]
    dms = local.sandbox.dm_messages(p.operations)
    assert len(dms) == 1 and "s16" in dms[0]["text"]

    convo.mark(p.operations, thread, "s16", "no", evidence="rehearsed", reason="rollback rehearsed")
    alerts = local.sandbox.messages(RELEASE_CHANNEL)
    assert len(alerts) == 2 and "cleared" in alerts[1]["text"].lower()
    assert f"<{permalink}|Open the thread>" in json.dumps(alerts[1]["blocks"])
    item_msg = local.sandbox.find_message(REVIEW_CHANNEL, convo.item_message(REVIEW_CHANNEL, thread, "s16"))
    status = next(b for b in item_msg["blocks"] if b.get("block_id") == "item:s16")
    assert "No" in json.dumps(status) and f"<@{p.operations}>" in json.dumps(status)
    with session_scope(local.sessions) as s:
        changes = history(s, "T0READY", only_assessment(local).id)
    assert [(c.from_mark, c.to_mark, c.changed_by, c.reason) for c in changes] == [
        (None, "partial", p.quality, None), ("partial", "no", p.operations, "rollback rehearsed"),
    ]


def test_blank_evidence_and_past_due_dates_are_refused_in_the_modal(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    refused = json.loads(convo.mark(p.engineer, thread, "s2", "no", evidence="   ").body)
    assert refused["response_action"] == "errors" and "evidence" in refused["errors"]
    past = (date.today() - timedelta(days=3)).isoformat()
    refused = json.loads(convo.mark(p.engineer, thread, "s3", "yes", owner=p.engineer, due=past, note="no tests").body)
    assert "due" in refused["errors"] and "past" in refused["errors"]["due"]
    assert db_count(local, MarkChange) == 0
    assert local.sandbox.messages(RELEASE_CHANNEL) == []


def test_a_cancelled_modal_sends_nothing_and_changes_nothing(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    view_id = convo.open_mark(p.engineer, thread, "s5", "yes")
    calls_before = len(local.sandbox.calls)
    response = local.driver.close_view(p.engineer, view_id)  # Slack sends nothing: notify_on_close is off
    local.settle()
    assert response is None or response.status == 200
    assert not local.sandbox.is_view_open(view_id)
    assert db_count(local, MarkChange) == 0
    assert [c.method for c in local.sandbox.calls[calls_before:]] == []


def test_full_review_posts_the_result_in_thread_and_release_channel(local, convo, checklist):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    for item_id in checklist.item_ids:
        if item_id in ("s1", "s5"):
            convo.mark(p.quality, thread, item_id, "partial", owner=p.engineer, due=DUE, note="some cohorts")
        else:
            convo.mark(p.engineer, thread, item_id, "no", evidence=f"proof of {item_id}")
    result_in_thread = [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if m["text"].startswith("Result")]
    result_in_release = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Result")]
    assert len(result_in_thread) == 1 and len(result_in_release) == 1
    body = json.dumps(result_in_release[0]["blocks"])
    assert "2 of 42" in body and "0-4" in body and "Go" in body
    assert "s1" in body and "s5" in body and DUE in body and f"<@{p.engineer}>" in body
    with session_scope(local.sessions) as s:
        card = scorecard(s, "T0READY", only_assessment(local).id)
    assert (card.score, card.verdict) == (2, Verdict.GO)
    # one DM for the engineer per assigned gap
    assert len(local.sandbox.dm_messages(p.engineer)) == 2


def test_slash_subcommands_answer_ephemerally(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.quality, thread, "s4", "yes", owner=p.quality, due=DUE, note="manual checks")
    calls_before = len(local.sandbox.calls)
    for text, expect in [
        ("status copilot", "copilot 2.0"), ("list", "copilot 2.0"), ("gaps", "s4"), ("help", "/readiness start"),
        ("frobnicate", "Usage"), ("", "/readiness start"),
    ]:
        response = local.driver.slash_command("/readiness", text, user=p.quality, channel=REVIEW_CHANNEL)
        assert response.status == 200
        assert expect in response.body, (text, response.body)
    local.settle()
    assert local.sandbox.calls[calls_before:] == []  # answered in the ack, nothing posted


def test_app_home_shows_my_gaps_by_due_date_and_reviews_in_progress(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.quality, thread, "s4", "yes", owner=p.quality, due=DUE, note="x")
    convo.mark(p.quality, thread, "s1", "partial", owner=p.quality,
               due=(date.today() + timedelta(days=1)).isoformat(), note="y")
    local.driver.app_home_opened(p.quality)
    local.settle()
    home = json.dumps(local.sandbox.home_view(p.quality))
    assert home.index("|s1>*") < home.index("|s4>*")  # by due date, each linked to its message
    assert "copilot 2.0" in home
