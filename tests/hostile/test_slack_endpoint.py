"""POST /slack/events: nothing unverified gets an answer or causes a call; nothing reaches a 500."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.local import REVIEW_CHANNEL, LocalSlack
from tests.hostile.conftest import tried

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Catcher:
    """An HTTP server that records every request: where an unsigned body's response_url points."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        catcher = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                catcher.hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    running = Catcher()
    yield running
    running.close()


def command_body(catcher: Catcher, text: str = "close 1") -> bytes:
    return urlencode({"command": "/readiness", "text": text, "team_id": "T0READY", "user_id": "U0LEAD",
                      "channel_id": REVIEW_CHANNEL, "trigger_id": "1.2.x", "response_url": catcher.url}).encode()


def click_body(catcher: Catcher) -> bytes:
    payload = {"type": "block_actions", "team": {"id": "T0READY"}, "user": {"id": "U0LEAD"},
               "response_url": catcher.url, "actions": [{"action_id": "mark_no", "value": "garbage"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


BAD_TIMESTAMPS = ["abc", "", "1e9", "9" * 400, "-1", " 1", "1.5", str(int(time.time()) - 3600)]


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
def test_an_unverifiable_timestamp_gets_401_and_causes_no_call(local: LocalSlack, catcher: Catcher, timestamp: str,
                                                                caplog: pytest.LogCaptureFixture):
    calls_before = len(local.sandbox.calls)
    for body in (command_body(catcher), click_body(catcher)):
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
                   "X-Slack-Signature": local.driver.sign(body)["X-Slack-Signature"]}
        with caplog.at_level(logging.INFO):
            answer = local.driver.send_raw(body, headers)
        assert (answer.status, answer.body) == (401, "")
    local.settle()
    assert catcher.hits == [] and len(local.sandbox.calls) == calls_before
    refused = [r for r in caplog.records if "refused an unverified request" in r.getMessage()]
    assert len(refused) == 2 and all(r.exc_info is None for r in refused)
    assert catcher.url not in caplog.text and "response_url" not in caplog.text


@pytest.mark.parametrize("body", [b"payload=notjson", b"payload=%7B%22type%22", b"\xff\xfe\x00garbage",
                                  b"{\"type\": \"event_callback\"", b""])
def test_unsigned_malformed_bodies_get_401_without_a_traceback(local: LocalSlack, body: bytes,
                                                               caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO):
        answer = local.driver.send_raw(body, {"Content-Type": "application/x-www-form-urlencoded",
                                              "X-Slack-Request-Timestamp": str(int(time.time())),
                                              "X-Slack-Signature": "v0=" + "0" * 64})
    assert (answer.status, answer.body) == (401, "")
    assert "Traceback" not in caplog.text and len(caplog.text) < 400


@pytest.mark.parametrize("body", [b"payload=notjson", b"payload=%7B%22type%22", b"\xff\xfe garbage"])
def test_signed_but_unreadable_bodies_get_400_never_500(local: LocalSlack, body: bytes,
                                                        caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO):
        answer = local.driver.send_raw(body, {"Content-Type": "application/x-www-form-urlencoded",
                                              **local.driver.sign(body)})
    assert answer.status in (400, 401, 404) and "Traceback" not in answer.body
    assert "Traceback" not in caplog.text


def test_a_body_larger_than_slacks_is_refused_unread(local: LocalSlack):
    body = b"payload=" + b"x" * (1024 * 1024 + 10)
    answer = local.driver.send_raw(body, {"Content-Type": "application/x-www-form-urlencoded", **local.driver.sign(body)})
    assert (answer.status, answer.body) == (401, "")


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)  # what HTTP carries


@FUZZ
@given(body=st.binary(max_size=600), timestamp=header_text, signature=header_text)
def test_fuzz_unsigned_requests_are_always_401_and_silent(local: LocalSlack, catcher: Catcher, body: bytes,
                                                          timestamp: str, signature: str):
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": signature}
    answer = local.driver.send_raw(body, headers)
    tried("slack events, unsigned", answer.status)
    assert (answer.status, answer.body) == (401, "")
    assert catcher.hits == []


payload_text = st.text(st.characters(codec="utf-8"), max_size=60)
commands = st.builds(lambda sub, rest: f"{sub} {rest}",
                     st.sampled_from(["start", "status", "list", "gaps", "close", "signoff", "golive", "evidence",
                                      "packet", "trace", "rollout", "config", "help", "x"]), payload_text)


@FUZZ
@given(text=commands)
def test_fuzz_signed_commands_never_get_a_5xx(local: LocalSlack, text: str):
    answer = local.driver.slash_command("/readiness", text, user="U0LEAD", channel=REVIEW_CHANNEL)
    tried("slack events, signed commands", answer.status)
    assert answer.status < 500 and "Traceback" not in answer.body
    local.settle()


@FUZZ
@given(action=st.sampled_from(["mark_no", "mark_partial", "mark_yes", "approve", "reject", "apply_suggestion",
                               "checkin_ok", "snooze"]), value=payload_text)
def test_fuzz_signed_clicks_with_forged_values_never_get_a_5xx(local: LocalSlack, action: str, value: str):
    body = urlencode({"payload": json.dumps({
        "type": "block_actions", "team": {"id": "T0READY"}, "user": {"id": "U0LEAD", "team_id": "T0READY"},
        "api_app_id": "A0READY", "trigger_id": local.sandbox.issue_trigger_id("U0LEAD"), "container": {"type": "message"},
        "channel": {"id": REVIEW_CHANNEL}, "actions": [{"action_id": action, "block_id": "b", "value": value,
                                                        "type": "button", "action_ts": "1.0"}]})}).encode()
    answer = local.driver.send_raw(body, {"Content-Type": "application/x-www-form-urlencoded",
                                          **local.driver.sign(body)})
    tried("slack events, signed clicks", answer.status)
    assert answer.status < 500 and "Traceback" not in answer.body


NOT_OBJECTS = ["[]", "1", '"text"', "null", "true", '[{"type": "block_actions"}]']


@pytest.mark.parametrize("payload", NOT_OBJECTS)
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_a_signed_body_that_is_json_but_not_an_object_gets_400(local: LocalSlack, catcher: Catcher, payload: str,
                                                               content_type: str, caplog: pytest.LogCaptureFixture):
    """Regression: `payload=[]` or `payload=1`, validly signed, gave 500 with a traceback in the log."""
    body = (urlencode({"payload": payload}) if "form" in content_type else payload).encode()
    calls_before = len(local.sandbox.calls)
    with caplog.at_level(logging.INFO):
        answer = local.driver.send_raw(body, {"Content-Type": content_type, **local.driver.sign(body)})
    assert (answer.status, answer.body) == (400, "")
    assert "Traceback" not in caplog.text and "error " not in caplog.text
    local.settle()
    assert catcher.hits == [] and len(local.sandbox.calls) == calls_before
