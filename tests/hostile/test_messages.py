"""What people are told: user text never pings or links, and errors tell the truth."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.db import make_engine, session_scope, upgrade
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, Conversation, LocalSlack
from bot.sandbox.methods import rendered_mrkdwn
from models import MarkChange

HOSTILE_SYSTEM = "<!channel> x"
HOSTILE_VERSION = "<@U0ZZZZZZ>"
HOSTILE_NOTE = "<!here> see <https://evil.example|the fix> & <#C0EVIL>"
FORBIDDEN = ("<!channel", "<!here", "<!everyone", "<@U0ZZZZZZ>", "<https://evil", "<#C0EVIL>")


def test_a_hostile_review_name_and_note_never_ping_or_link(local: LocalSlack, convo: Conversation):
    p = local.people
    due = (date.today() + timedelta(days=9)).isoformat()
    local.driver.slash_command("/readiness", "start", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    local.driver.submit_view(p.lead, convo.last_view_id(), {"system": HOSTILE_SYSTEM, "version": HOSTILE_VERSION,
                                                            "release_channel": RELEASE_CHANNEL})
    local.settle()
    thread = local.sandbox.messages(REVIEW_CHANNEL)[0]["ts"]
    convo.mark(p.quality, thread, "s16", "partial", owner=p.operations, due=due, note=HOSTILE_NOTE)  # a blocker
    for item_id in local.app_checklist_ids():
        if item_id != "s16":
            convo.mark(p.engineer, thread, item_id, "no", evidence=HOSTILE_NOTE)
    local.drain()
    local.driver.slash_command("/readiness", f"status {HOSTILE_SYSTEM}", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    alerts = local.sandbox.messages(RELEASE_CHANNEL)
    assert alerts and any("&lt;!channel&gt; x" in m["text"] for m in alerts)  # the name is shown, escaped
    sent = [call for call in local.sandbox.calls if call.method in ("chat.postMessage", "chat.update",
                                                                     "chat.postEphemeral", "views.publish",
                                                                     "views.open", "views.update", "response_url")]
    assert len(sent) > 25
    for call in sent:
        for text in rendered_mrkdwn(call.args):
            assert not any(bad in text for bad in FORBIDDEN), (call.method, text[:200])


def test_review_numbers_no_review_can_have_are_a_usage_answer_not_an_outage(local: LocalSlack, convo: Conversation):
    p = local.people
    for text in ("close 99999999999", "signoff 99999999999", "golive 99999999999", "evidence 99999999999",
                 "packet 99999999999", "close ²", "signoff #0"):
        before = len(local.sandbox.calls)
        answer = local.driver.slash_command("/readiness", text, user=p.lead, channel=REVIEW_CHANNEL)
        local.settle()
        said = answer.body + json.dumps([c.args for c in local.sandbox.calls[before:]])
        assert answer.status == 200, text
        assert "not reachable" not in said and "request was saved" not in said, (text, said)
        assert "Usage" in said or "no assessment" in said.lower() or "no review" in said.lower(), (text, said)


def test_text_slack_cannot_store_is_refused_with_a_clear_message(local: LocalSlack):
    p = local.people
    answer = local.driver.slash_command("/readiness", "evidence sys\u0000tem 1.0", user=p.lead, channel=REVIEW_CHANNEL)
    assert answer.status == 200
    assert "cannot take" in answer.body and "not reachable" not in answer.body


def test_a_due_date_far_away_is_refused_under_the_due_field(local: LocalSlack, convo: Conversation):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    refused = json.loads(convo.mark(p.engineer, thread, "s3", "yes", owner=p.engineer, due="9999-12-31",
                                    note="no tests").body)
    assert refused["response_action"] == "errors"
    assert "years away" in refused["errors"]["due"]
    with session_scope(local.sessions) as s:
        assert s.query(MarkChange).count() == 0


def test_nothing_is_called_saved_when_the_database_is_down(tmp_path: Path):
    path = tmp_path / "readiness.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with LocalSlack(engine=engine) as local:
        convo = Conversation(local)
        p = local.people
        thread = convo.start_review(p.lead, "copilot", "2.0")
        ts = convo.item_message(REVIEW_CHANNEL, thread, "s2")
        # the database goes away: its file is replaced by a folder, and no open connection is kept
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                os.rename(f"{path}{suffix}", f"{path}{suffix}.away")
        os.mkdir(path)
        engine.dispose()
        answer = local.driver.click(p.engineer, REVIEW_CHANNEL, ts, "mark_no", block_id="item:s2")
        local.settle()
        told = json.dumps(convo.last_view()["blocks"])  # the form that was opening says it, where they look
        answer_close = local.driver.slash_command("/readiness", "close 1", user=p.lead, channel=REVIEW_CHANNEL)
        local.settle()
        assert answer.status == 200
        assert "not reachable" in told and "request was saved" not in told
        assert "not reachable" in answer_close.body and "request was saved" not in answer_close.body
        local.sandbox.violations.clear()  # the app could not answer in time while its database was away


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_default_logs_keep_the_scheduler_quiet(level: str):
    import logging

    from bot.cli import logs

    logs.configure(level)
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("slack_bolt.App").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("readiness").getEffectiveLevel() == getattr(logging, level)
    logs.configure("DEBUG")
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == logging.DEBUG
    logging.basicConfig(level=logging.WARNING, force=True)


def broadcasts(local: LocalSlack) -> list[str]:
    return [str(v) for v in local.sandbox.violations if v.error == "broadcast_mention"]


def test_refusals_and_the_grid_of_a_review_named_to_ping_the_channel_ping_nobody(local: LocalSlack,
                                                                                  convo: Conversation):
    """Regression: a refusal naming the review's system (no policy applies to it) reached the command's answer
    raw, and the cohort grid's notification text embedded the label raw: both pinged the channel."""
    from bot.core.evidence import evidence_from_data, load_policy
    from bot.sandbox.local import TEAM
    from bot.services import evidence, policies

    p = local.people
    local.driver.slash_command("/readiness", "start", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    local.driver.submit_view(p.lead, convo.last_view_id(), {"system": HOSTILE_SYSTEM, "version": "1.0",
                                                            "release_channel": RELEASE_CHANNEL})
    local.settle()
    rows = [{"cohort": c, "metric": "task_success_rate", "value": 0.95, "n": 500} for c in ("eu", "us")]
    with session_scope(local.sessions) as s:
        evidence.push(s, TEAM, evidence_from_data({"system": HOSTILE_SYSTEM, "version": "1.0", "rows": rows}),
                      actor="test")
    local.drain()
    refused = local.driver.slash_command("/readiness", "evidence", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    assert "no release policy applies to &lt;!channel&gt; x" in refused.body, refused.body
    with session_scope(local.sessions) as s:  # now a policy judges it: the grid is posted in the channel
        policies.store(s, TEAM, load_policy().model_copy(update={"system": None}), system=HOSTILE_SYSTEM, actor="t")
    answered = local.driver.slash_command("/readiness", "evidence", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    grids = [m for m in local.sandbox.messages(REVIEW_CHANNEL) if m["text"].startswith("Cohort scorecard for")]
    assert answered.status == 200 and grids
    assert grids[0]["text"].startswith("Cohort scorecard for &lt;!channel&gt; x 1.0"), grids[0]["text"]
    assert broadcasts(local) == []
    for answer in (refused, answered):  # plain_text (the header) shows the name as typed; mrkdwn never pings
        assert not any("<!channel" in text for text in rendered_mrkdwn(json.loads(answer.body)))
