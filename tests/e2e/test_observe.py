"""What an operator sees: GET /metrics (Prometheus text format) and the JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.cli import logs
from bot.db import session_scope
from bot.observe.logcontext import about
from bot.sandbox.local import TEAM, Conversation, LocalSlack
from bot.services import outbox, tokens


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(figures, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_enabled(engine):
    with LocalSlack(engine=engine) as local:
        try:
            urllib.request.urlopen(local.server.url + "/metrics", timeout=10)
            raise AssertionError("GET /metrics answered without METRICS_ENABLED")
        except urllib.error.HTTPError as error:
            assert error.code == 404


def test_metrics_count_requests_deliveries_gate_answers_and_read_the_outbox(engine):
    with LocalSlack(engine=engine, metrics_enabled=True) as local:
        before = scrape(local.server.url)
        convo, p = Conversation(local), local.people
        thread = convo.start_review(p.lead, "copilot", "2.0")
        convo.mark(p.lead, thread, "s1", "yes", owner=p.quality, due="2030-01-01", note="n")
        local.sandbox.inject_failure("chat.update", "ratelimited", times=1, retry_after=1)
        convo.mark(p.lead, thread, "s2", "no", evidence="https://evals.example.com/1")  # its refresh waits a 429 out
        with session_scope(local.sessions) as s:
            token = tokens.create(s, TEAM, "ci", actor="t")
            outbox.enqueue(s, TEAM, dedupe_key="late", kind="overdue", recipient=p.quality,
                           due_at=datetime.now(UTC) - timedelta(minutes=5))
        local.driver.send_raw(b"forged", {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"})
        request = urllib.request.Request(local.server.url + "/api/v1/gate?system=copilot&version=2.0",
                                         headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(request, timeout=10).read()
        waiting = scrape(local.server.url)
        local.delivery.deliverer.sweep()
        after = scrape(local.server.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("readiness_slack_requests_total", kind="command", outcome="ok") >= 1
    assert grew("readiness_slack_requests_total", kind="view_submission", outcome="ok") >= 2
    assert grew("readiness_slack_requests_total", kind="unverified", outcome="refused") == 1
    assert grew("readiness_ack_seconds_count", kind="command") >= 1
    assert grew("readiness_time_to_screen_seconds_count", kind="view_submission") >= 1
    assert grew("readiness_gate_answers_total", verdict="incomplete", passed="false") == 1
    assert grew("readiness_slack_ratelimited_total", method="chat.update") == 1
    assert sum(v for (n, _), v in after.items() if n == "readiness_deliveries_total") > \
        sum(v for (n, _), v in before.items() if n == "readiness_deliveries_total")
    assert value(waiting, "readiness_outbox_backlog", kind="overdue") == 1
    assert value(waiting, "readiness_outbox_oldest_due_seconds") >= 240
    assert grew("readiness_deliveries_total", kind="overdue", outcome="cancelled") == 1  # its gap does not exist
    assert value(after, "readiness_installations", mode="single_token") == 1


def test_json_logs_carry_the_error_id_team_interaction_and_outbox_row():
    stream = io.StringIO()
    logs.configure("INFO", "json")
    root = logging.getLogger()
    root.handlers[0].stream = stream  # type: ignore[attr-defined]
    try:
        with about(team_id="T0JSON", interaction="block_actions", outbox_row_id=[4, 5]):
            logging.getLogger("scheduler.delivery").warning("outbox row %s not delivered", 4)
        logging.getLogger("handlers.errors").error("error %s while handling x", "ab12cd34",
                                                   extra={"error_id": "ab12cd34"}, exc_info=ValueError("boom"))
        logging.getLogger("apscheduler.scheduler").info("Running job sweep")  # per-run chatter: not at INFO
        logging.getLogger("apscheduler.scheduler").warning(
            'Execution of job "sweep" skipped: maximum number of running instances reached (1)')
    finally:
        logs.configure("WARNING")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2, lines
    first, second = lines
    assert first["team_id"] == "T0JSON" and first["interaction"] == "block_actions"
    assert first["outbox_row_id"] == [4, 5] and first["level"] == "WARNING" and first["logger"] == "scheduler.delivery"
    assert second["error_id"] == "ab12cd34" and "ValueError: boom" in second["exception"] and "time" in second
    assert "team_id" not in second


def test_metrics_count_dead_rows_by_slack_error_and_kind_as_the_doctor_does(engine):
    from bot.cli.doctor import run as doctor
    from bot.services.workspaces import ensure_workspace
    from tests.e2e.test_doctor import settings_for

    with LocalSlack(engine=engine, metrics_enabled=True) as local:
        p = local.people
        with session_scope(local.sessions) as s:
            ensure_workspace(s, TEAM)
            now = datetime.now(UTC) - timedelta(minutes=1)
            for key, kind, recipient in (("a", "blocker_alert", "C0GONE"), ("b", "blocker_alert", "C0GONE"),
                                         ("c", "owner_assigned", p.quality), ("d", "overdue", p.quality)):
                outbox.enqueue(s, TEAM, dedupe_key=key, kind=kind, recipient=recipient, due_at=now)
        with session_scope(local.sessions) as s:
            rows = {row.dedupe_key: row for row, _ in outbox.claim_due(s, owner="w", lease=timedelta(seconds=30))}
            outbox.give_up(s, rows["a"].id, "w", "is_archived")
            outbox.give_up(s, rows["b"].id, "w", "is_archived")
            outbox.give_up(s, rows["c"].id, "w", "user_not_found")
            outbox.retry_later(s, rows["d"].id, "w", after=timedelta(0), error="unknown: HTTP 500 (after 8)",
                               unknown=True, max_attempts=1)
        figures = scrape(local.server.url)
        lines, _ = doctor(settings_for(local))
    name = "readiness_outbox_dead_by_error"
    assert value(figures, name, error="is_archived", kind="blocker_alert") == 2
    assert value(figures, name, error="user_not_found", kind="owner_assigned") == 1
    assert value(figures, name, error="unknown: HTTP 500", kind="overdue") == 1
    assert value(figures, "readiness_outbox_dead", kind="blocker_alert") == 2
    # the same figures as `readiness doctor`, from the same query
    [by_error] = [line.split("by error: ")[1] for line in lines if "by error: " in line]
    assert sorted(by_error.split(", ")) == ["is_archived 2", "unknown: HTTP 500 1", "user_not_found 1"]
