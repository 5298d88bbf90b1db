"""Never twice, never lost: replays, double submits, forged or stale requests, Slack and database failures."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot.core.checklist import Mark
from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL
from models import Assessment, ItemMark, MarkChange

DUE = (date.today() + timedelta(days=10)).isoformat()


def count(local, model) -> int:
    with session_scope(local.sessions) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_replayed_start_submission_creates_one_review(local, convo):
    p = local.people
    convo.start_review(p.lead, "copilot", "2.0")
    local.driver.replay(retry_num=1)
    local.driver.replay(retry_num=2)
    local.settle()
    assert count(local, Assessment) == 1
    top = [m for m in local.sandbox.messages(REVIEW_CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
    assert len(top) == 1


def test_a_double_submitted_mark_is_one_change_and_one_alert(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.quality, thread, "s14", "partial", owner=p.engineer, due=DUE, note="gate covers prompts only")
    local.driver.replay(retry_num=1)
    local.settle()
    assert count(local, MarkChange) == 1
    assert len(local.sandbox.messages(RELEASE_CHANNEL)) == 1
    assert len(local.sandbox.dm_messages(p.engineer)) == 1


def test_an_event_retry_has_one_effect(local):
    p = local.people
    local.driver.app_home_opened(p.quality)
    local.settle()
    local.driver.replay(retry_num=1, retry_reason="http_timeout")
    local.settle()
    assert len(local.sandbox.calls_to("views.publish")) == 1


def _signed_mark_body(local, convo, thread: str) -> bytes:
    p = local.people
    view_id = convo.open_mark(p.engineer, thread, "s2", "no")
    view = local.sandbox.view(view_id)
    payload = {
        "type": "view_submission", "team": {"id": "T0READY", "domain": "sandbox"},
        "user": {"id": p.engineer, "team_id": "T0READY"}, "api_app_id": "A0READY",
        "view": {**view, "state": {"values": {"evidence": {"value": {"type": "plain_text_input", "value": "x"}}}}},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_forged_and_stale_requests_get_401_and_change_nothing(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    body = _signed_mark_body(local, convo, thread)
    content = {"Content-Type": "application/x-www-form-urlencoded"}
    unsigned = local.driver.send_raw(body, content)
    forged = local.driver.send_raw(body, {**content, **local.driver.sign(body + b"tampered")})
    wrong_secret = local.driver.send_raw(
        body, {**content, "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64})
    stale = local.driver.send_raw(body, {**content, **local.driver.sign(body, timestamp=int(time.time()) - 600)})
    assert [r.status for r in (unsigned, forged, wrong_secret, stale)] == [401, 401, 401, 401]
    local.settle()
    assert count(local, MarkChange) == 0
    # the same body, signed properly, does take effect: the 401s were about the signature alone
    good = local.driver.send_raw(body, {**content, **local.driver.sign(body)})
    local.settle()
    assert good.status == 200 and count(local, MarkChange) == 1


def test_a_slack_server_error_on_an_alert_is_retried_and_it_arrives_once(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.inject_failure("chat.postMessage", "server_error", times=1)
    convo.mark(p.quality, thread, "s18", "yes", owner=p.engineer, due=DUE, note="no traces yet")
    local.drain()
    alerts = local.sandbox.messages(RELEASE_CHANNEL)
    assert len(alerts) == 1 and "s18" in alerts[0]["text"]


def test_rate_limits_are_honoured(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.inject_failure("chat.update", "ratelimited", times=1, retry_after=2)
    convo.mark(p.quality, thread, "s3", "no", evidence="all workflows measured")
    local.drain()  # the refresh waits out the Retry-After in the outbox
    updates = local.sandbox.calls_to("chat.update")
    (limited,) = [c for c in updates if c.status == 429]
    # The same update is sent again, once, and not before the Retry-After the 429 carried.
    again = [c for c in updates if c.timestamp > limited.timestamp and c.args.get("ts") == limited.args.get("ts")]
    assert again and again[0].ok and again[0].args == limited.args
    assert again[0].timestamp - limited.timestamp >= 2.0
    assert len([c for c in updates if c.args == limited.args]) == 2
    parent = local.sandbox.find_message(REVIEW_CHANNEL, thread)
    assert "1/22 marked" in json.dumps(parent["blocks"])


def test_a_lost_connection_on_an_update_keeps_the_mark_and_the_outbox_brings_the_message_up_to_date(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.sandbox.inject_failure("chat.update", "drop", times=1)
    response = convo.mark(p.quality, thread, "s3", "no", evidence="all workflows measured")
    assert response.status == 200 and not response.body.strip()  # the modal closed: the mark was acknowledged
    assert count(local, MarkChange) == 1
    dropped = [c for c in local.sandbox.calls_to("chat.update") if c.status != 200]
    assert len(dropped) == 1
    local.drain()
    parent = local.sandbox.find_message(REVIEW_CHANNEL, thread)
    assert "1/22 marked" in json.dumps(parent["blocks"])  # the update was sent again
    assert local.sandbox.dm_messages(p.quality) == []  # nothing for the person to do: nobody is bothered


def test_database_down_refuses_the_mark_clearly_and_leaves_nothing_half_written(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    view_id = convo.open_mark(p.quality, thread, "s7", "no")
    engine = local.engine

    def refuse(*_args, **_kwargs):
        raise OperationalError("connect", {}, Exception("database is down"))

    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    try:
        response = local.driver.submit_view(p.quality, view_id, {"evidence": "tool runbook"})
        local.settle()
    finally:
        event.remove(engine, "do_connect", refuse)
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    assert "not reachable" in body["errors"]["evidence"] and "error id" in body["errors"]["evidence"]
    assert count(local, MarkChange) == 0
    with session_scope(local.sessions) as s:
        assert s.scalar(select(ItemMark.mark).where(ItemMark.item_id == "s7")) is None
    # once the database is back, the same modal submits fine
    response = local.driver.submit_view(p.quality, view_id, {"evidence": "tool runbook"})
    local.settle()
    assert response.status == 200 and count(local, MarkChange) == 1


def test_health_check_reports_the_database(local):
    import urllib.request

    with urllib.request.urlopen(local.server.url + "/healthz") as answer:  # noqa: S310 - loopback
        assert answer.status == 200 and json.loads(answer.read())["database"] == "ok"


def test_a_review_slack_could_not_post_is_repaired_by_the_reconcile(local, convo):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    p = local.people
    local.sandbox.inject_failure("chat.postMessage", "server_error", times=1)
    local.driver.slash_command("/readiness", "start copilot 2.0", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    local.driver.submit_view(p.lead, convo.last_view_id(), {"system": "copilot", "version": "2.0",
                                                            "release_channel": RELEASE_CHANNEL})
    local.settle()
    assert count(local, Assessment) == 1
    assert [m for m in local.sandbox.messages(REVIEW_CHANNEL) if "blocks" in m] == []
    assert "was saved" in local.sandbox.dm_messages(p.lead)[-1]["text"]
    with session_scope(local.sessions) as s:
        s.execute(update(Assessment).values(created_at=datetime.now(UTC) - timedelta(minutes=2)))
    assert local.delivery.reconciler.repair() == 1
    parents = [m for m in local.sandbox.messages(REVIEW_CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
    assert len(parents) == 1
    assert len(local.sandbox.thread(REVIEW_CHANNEL, parents[0]["ts"])) == 7
    assert local.delivery.reconciler.repair() == 0


def test_a_rate_limited_history_look_up_waits_for_retry_after_uses_no_attempt_and_resumes_its_page(engine):
    """An app outside the Slack Marketplace gets 15 messages a history call and one call a minute (here: two
    seconds). A look-up that needs a second page is answered 429; it waits the Retry-After without using one of
    the row's attempts, and goes on from the page it had reached (not from the first, which would meet the
    limit again every time)."""
    from bot.sandbox.local import Conversation, LocalSlack
    from models import OutboxMessage

    with LocalSlack(engine=engine, max_attempts=3) as local:
        local.sandbox.limit_history(per_call=15, calls=1, seconds=2)
        convo, p = Conversation(local), local.people
        thread = convo.start_review(p.lead, "copilot", "2.0")
        local.sandbox.inject_failure("chat.postMessage", "accept_then_drop", times=1)  # posted, answer lost
        convo.mark(p.engineer, thread, "s14", "partial", owner=p.engineer, due=DUE, note="prompts only")
        for n in range(20):  # the channel goes on: the alert is on the second page of its history
            local.sandbox.add_message(RELEASE_CHANNEL, f"chatter {n}", p.quality)
        local.drain(timeout=30)
        alerts = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Blocker in")]
        with session_scope(local.sessions) as s:
            row = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "blocker_alert"))
        history = local.sandbox.calls_to("conversations.history")
    assert len(alerts) == 1 and (row.status, row.sent_ts) == ("sent", alerts[0]["ts"])
    assert row.attempts == 2  # the lost post and the look-up that found it; the 429 counted nothing
    assert [c.status for c in history] == [200, 429, 200]
    limited, resumed = history[1], history[2]
    assert resumed.timestamp - limited.timestamp >= 2.0  # Retry-After honoured
    assert resumed.args.get("cursor") and resumed.args.get("cursor") == limited.args.get("cursor")
    assert all(int(c.args["limit"]) <= 15 for c in history)


def test_a_burst_of_kicks_shares_sweeps_and_each_returns_after_a_sweep_that_began_after_it(local):
    """Twenty requests ask for delivery at once while a sweep takes its time: a few sweeps serve them all,
    and none is told "done" by a sweep that began before it asked."""
    deliverer = local.delivery.deliverer
    real_sweep, sweeps = deliverer.sweep, []

    def slow_sweep(kinds=None) -> int:
        began = time.monotonic()
        time.sleep(0.5)  # longer than starting the twenty threads takes, even on a loaded machine
        done = real_sweep(kinds)
        sweeps.append((began, time.monotonic()))
        return done

    deliverer.sweep = slow_sweep
    kicks: list[tuple[float, float]] = []

    def kick() -> None:
        asked = time.monotonic()
        deliverer.kick()
        kicks.append((asked, time.monotonic()))

    threads = [threading.Thread(target=kick) for _ in range(20)]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join(10)
    assert len(kicks) == 20
    assert 1 <= len(sweeps) <= 3, sweeps
    for asked, returned in kicks:
        assert any(asked <= began and ended <= returned for began, ended in sweeps), (asked, returned, sweeps)


def _transactions_of(local, work) -> tuple[int, object]:
    begun: list[object] = []

    def began(conn) -> None:
        begun.append(conn)

    event.listen(local.engine, "begin", began)
    try:
        result = work()
    finally:
        event.remove(local.engine, "begin", began)
    return len(begun), result


def test_a_refresh_takes_a_transaction_to_claim_one_to_draw_and_one_to_record(local, convo):
    """The claim also reads whether the workspace is still served; the drawing renews the claim for the first
    update; the last update is recorded as the row ends. A refresh that finds everything current ends in the
    transaction that drew it."""
    from bot.core.marking import earliest_today
    from bot.services import surfaces
    from bot.services.assessments import MarkRequest
    from bot.services.marks import record_mark

    convo.start_review(local.people.lead, "copilot", "2.0")
    local.settle()
    deliverer = local.delivery.deliverer
    while deliverer.sweep():
        pass
    with session_scope(local.sessions) as s:
        review = s.scalar(select(Assessment))
        record_mark(s, review.team_id, review.id, MarkRequest("s2", Mark.NO, evidence="https://evals.example.com/9"),
                    actor=local.people.lead, today=earliest_today(datetime.now(UTC)))
    updates = len(local.sandbox.calls_to("chat.update"))
    transactions, claimed = _transactions_of(local, deliverer.sweep)
    shown = len(local.sandbox.calls_to("chat.update")) - updates  # the item's message, and what counts marks
    assert claimed == 1 and shown >= 1
    assert transactions == 2 + shown  # the claim, the drawing, then one recording each update

    with session_scope(local.sessions) as s:
        surfaces.owe_refresh(s, review.team_id, review.id)
    transactions, claimed = _transactions_of(local, deliverer.sweep)
    assert claimed == 1
    assert len(local.sandbox.calls_to("chat.update")) == updates + shown
    assert transactions == 2


def test_an_app_home_opening_takes_one_transaction_to_draw_and_one_to_record_what_was_published(local):
    """The retried-delivery claim shares the transaction that draws the desk and notes the opening; the ack
    itself reads and writes nothing."""
    def open_home() -> None:
        local.driver.app_home_opened(local.people.quality)
        local.settle()

    transactions, _ = _transactions_of(local, open_home)
    assert len(local.sandbox.calls_to("views.publish")) == 1
    assert transactions == 2
    local.driver.replay(retry_num=1, retry_reason="http_timeout")
    local.settle()
    assert len(local.sandbox.calls_to("views.publish")) == 1
