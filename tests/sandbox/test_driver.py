"""The signed-request driver, against a tiny local receiver and against a real Bolt app."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.sandbox import DriverError, SlackDriver, SlackSandbox
from tests.sandbox.ids import ALICE, BOB, CHANNEL

SECRET = "sandbox-signing-secret"
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.form["payload"])


@dataclass
class Receiver:
    """A stand-in app: verifies every signature, records the request, answers with ``answer``."""

    answer: Callable[[Received], Answer] = lambda _r: (200, {}, b"")
    requests: list[Received] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    verifier = SignatureVerifier(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received = Received({k.lower(): v for k, v in self.headers.items()}, body)
            state.requests.append(received)
            state.verified.append(verifier.is_valid_request(body, dict(self.headers.items())))
            status, headers, answer = state.answer(received)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


@pytest.fixture
def driver(sandbox: SlackSandbox, receiver: tuple[Receiver, str]) -> SlackDriver:
    return SlackDriver(receiver[1], SECRET, sandbox)


def json_answer(body: dict[str, Any]) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


ACTIONS_MESSAGE: list[dict[str, Any]] = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "Readiness: 72"}},
    {"type": "actions", "block_id": "decide", "elements": [
        {"type": "button", "action_id": "approve", "value": "review-7", "style": "primary",
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "static_select", "action_id": "risk", "placeholder": {"type": "plain_text", "text": "Risk"},
         "options": [{"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                     {"text": {"type": "plain_text", "text": "High"}, "value": "high"}]},
    ]},
]


def test_signatures_verify_and_stale_or_forged_ones_do_not(driver: SlackDriver,
                                                           receiver: tuple[Receiver, str]) -> None:
    state, _ = receiver
    driver.app_home_opened(ALICE)
    driver.app_home_opened(ALICE, timestamp=int(time.time()) - 600)
    forged = {**driver.sign(b'{"x": 1}'), "Content-Type": "application/json"}
    driver.send_raw(b'{"x": 2}', forged)
    assert state.verified == [True, False, False]
    headers = driver.sign(b"body", timestamp=1_700_000_000)
    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    assert SignatureVerifier(SECRET, clock=type("C", (), {"now": staticmethod(lambda: 1_700_000_000)})()).is_valid(
        b"body", headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])


def test_retry_headers_and_replay(driver: SlackDriver, receiver: tuple[Receiver, str]) -> None:
    state, _ = receiver
    driver.app_home_opened(ALICE, retry_num=1, retry_reason="http_error")
    assert state.requests[0].headers["x-slack-retry-num"] == "1"
    assert state.requests[0].headers["x-slack-retry-reason"] == "http_error"
    driver.replay(retry_num=2)
    assert state.requests[1].body == state.requests[0].body and state.requests[1].headers["x-slack-retry-num"] == "2"
    assert all(state.verified)


def test_slash_command_payload_and_immediate_answer(sandbox: SlackSandbox, driver: SlackDriver,
                                                    receiver: tuple[Receiver, str], client: WebClient) -> None:
    state, _ = receiver
    state.answer = lambda _r: json_answer({"text": "Starting the review"})
    response = driver.slash_command("/readiness", "start", ALICE, CHANNEL)
    assert response.status == 200
    sent = state.requests[0]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    form = sent.form
    assert form["command"] == "/readiness" and form["text"] == "start" and form["user_id"] == ALICE
    assert form["user_name"] == "alice" and form["channel_id"] == CHANNEL and form["channel_name"] == "ai-rollout"
    assert form["team_id"] == "T0SANDBOX" and form["api_app_id"] == "A0READY" and form["team_domain"] == "sandbox"
    assert form["response_url"].startswith(sandbox.url + "/response/")
    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["Starting the review"]
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Start"},
             "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    assert client.views_open(trigger_id=form["trigger_id"], view=modal)["ok"]
    assert sandbox.violations == []


def test_click_builds_block_actions_from_the_stored_message(sandbox: SlackSandbox, driver: SlackDriver,
                                                            receiver: tuple[Receiver, str],
                                                            client: WebClient) -> None:
    state, _ = receiver
    posted = client.chat_postMessage(channel=CHANNEL, text="Readiness: 72", blocks=ACTIONS_MESSAGE)
    driver.click(BOB, CHANNEL, posted["ts"], "approve")
    payload = state.requests[0].payload
    assert payload["type"] == "block_actions" and payload["user"]["id"] == BOB and payload["user"]["name"] == "bob"
    assert payload["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": CHANNEL,
                                    "is_ephemeral": False}
    assert payload["channel"] == {"id": CHANNEL, "name": "ai-rollout"}
    assert payload["message"]["ts"] == posted["ts"] and payload["message"]["blocks"][1]["block_id"] == "decide"
    (action,) = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == \
        ("approve", "decide", "review-7", "button")
    assert payload["state"]["values"]["decide"]["risk"] == {"type": "static_select", "selected_option": None}
    assert payload["trigger_id"] and payload["api_app_id"] == "A0READY"
    driver.click(BOB, CHANNEL, posted["ts"], "risk", value="high")
    select = state.requests[1].payload["actions"][0]
    assert select["selected_option"] == {"text": {"type": "plain_text", "text": "High"}, "value": "high"}
    assert state.requests[1].payload["state"]["values"]["decide"]["risk"]["selected_option"]["value"] == "high"
    assert all(state.verified)
    # the click's response_url can replace the clicked message; its buttons are then gone
    WebhookClient(payload["response_url"]).send(text="Approved by bob", replace_original=True)
    assert sandbox.messages(CHANNEL)[0]["text"] == "Approved by bob"
    with pytest.raises(DriverError):
        driver.click(BOB, CHANNEL, posted["ts"], "approve")


def test_click_refuses_what_slack_would_not_show(sandbox: SlackSandbox, driver: SlackDriver,
                                                 client: WebClient, receiver: tuple[Receiver, str]) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="Readiness", blocks=ACTIONS_MESSAGE)
    with pytest.raises(DriverError, match="no interactive element with action_id='reject'"):
        driver.click(BOB, CHANNEL, posted["ts"], "reject")
    with pytest.raises(DriverError, match="block_id='summary'"):
        driver.click(BOB, CHANNEL, posted["ts"], "approve", block_id="summary")
    with pytest.raises(DriverError, match="value"):
        driver.click(BOB, CHANNEL, posted["ts"], "approve", value="review-8")
    with pytest.raises(DriverError, match="not offered"):
        driver.click(BOB, CHANNEL, posted["ts"], "risk", value="medium")
    with pytest.raises(DriverError, match="no message"):
        driver.click(BOB, CHANNEL, "1.000001", "approve")
    client.chat_postEphemeral(channel=CHANNEL, user=ALICE, text="only alice", blocks=ACTIONS_MESSAGE)
    ephemeral_ts = sandbox.ephemerals(ALICE)[0]["ts"]
    with pytest.raises(DriverError):
        driver.click(BOB, CHANNEL, ephemeral_ts, "approve")
    driver.click(ALICE, CHANNEL, ephemeral_ts, "approve")
    payload = receiver[0].requests[-1].payload
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload
    assert len(receiver[0].requests) == 1


FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "assessment",
    "private_metadata": "review-7",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Assessment"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
         "element": {"type": "plain_text_input", "action_id": "value", "max_length": 20}},
        {"type": "input", "block_id": "owner", "label": {"type": "plain_text", "text": "Owner"},
         "element": {"type": "users_select", "action_id": "pick"}},
        {"type": "input", "block_id": "reviewers", "optional": True, "label": {"type": "plain_text", "text": "R"},
         "element": {"type": "multi_users_select", "action_id": "pick"}},
        {"type": "input", "block_id": "channel", "optional": True, "label": {"type": "plain_text", "text": "C"},
         "element": {"type": "conversations_select", "action_id": "pick"}},
        {"type": "input", "block_id": "announce", "optional": True, "label": {"type": "plain_text", "text": "A"},
         "element": {"type": "channels_select", "action_id": "pick", "initial_channel": CHANNEL}},
        {"type": "input", "block_id": "level", "label": {"type": "plain_text", "text": "Level"},
         "element": {"type": "static_select", "action_id": "choose", "options": [
             {"text": {"type": "plain_text", "text": "Pilot"}, "value": "pilot"},
             {"text": {"type": "plain_text", "text": "Org-wide"}, "value": "org"}]}},
        {"type": "input", "block_id": "mode", "optional": True, "label": {"type": "plain_text", "text": "M"},
         "element": {"type": "radio_buttons", "action_id": "choose", "options": [
             {"text": {"type": "plain_text", "text": "Fast"}, "value": "fast"},
             {"text": {"type": "plain_text", "text": "Careful"}, "value": "careful"}]}},
        {"type": "input", "block_id": "checks", "optional": True, "label": {"type": "plain_text", "text": "K"},
         "element": {"type": "checkboxes", "action_id": "tick", "options": [
             {"text": {"type": "plain_text", "text": "DPA"}, "value": "dpa"},
             {"text": {"type": "plain_text", "text": "SSO"}, "value": "sso"}]}},
        {"type": "input", "block_id": "due", "optional": True, "label": {"type": "plain_text", "text": "D"},
         "element": {"type": "datepicker", "action_id": "date"}},
        {"type": "input", "block_id": "seats", "optional": True, "label": {"type": "plain_text", "text": "S"},
         "element": {"type": "number_input", "action_id": "n", "is_decimal_allowed": False}},
        {"type": "input", "block_id": "policy", "optional": True, "label": {"type": "plain_text", "text": "P"},
         "element": {"type": "url_text_input", "action_id": "url"}},
    ],
}


def open_form(sandbox: SlackSandbox, client: WebClient, user: str = ALICE) -> str:
    return client.views_open(trigger_id=sandbox.issue_trigger_id(user), view=FORM_VIEW)["view"]["id"]


def test_submit_view_builds_exact_state_shapes(sandbox: SlackSandbox, driver: SlackDriver,
                                               receiver: tuple[Receiver, str], client: WebClient) -> None:
    view_id = open_form(sandbox, client)
    driver.submit_view(ALICE, view_id, {
        "name": "Copilot rollout", ("owner", "pick"): BOB, "reviewers": [ALICE, BOB], "level": "org",
        "checks": ["sso"], "due": "2026-01-31", "seats": 250, "policy": "https://example.com/ai-policy",
    })
    payload = receiver[0].requests[0].payload
    assert payload["type"] == "view_submission" and payload["user"]["id"] == ALICE
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"], view["type"]) == \
        (view_id, "assessment", "review-7", "modal")
    assert view["hash"] and view["team_id"] == "T0SANDBOX" and view["title"]["text"] == "Assessment"
    values = view["state"]["values"]
    assert values["name"]["value"] == {"type": "plain_text_input", "value": "Copilot rollout"}
    assert values["owner"]["pick"] == {"type": "users_select", "selected_user": BOB}
    assert values["reviewers"]["pick"] == {"type": "multi_users_select", "selected_users": [ALICE, BOB]}
    assert values["channel"]["pick"] == {"type": "conversations_select", "selected_conversation": None}
    assert values["announce"]["pick"] == {"type": "channels_select", "selected_channel": CHANNEL}
    assert values["level"]["choose"] == {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "Org-wide"}, "value": "org"}}
    assert values["mode"]["choose"] == {"type": "radio_buttons", "selected_option": None}
    assert values["checks"]["tick"] == {"type": "checkboxes", "selected_options": [
        {"text": {"type": "plain_text", "text": "SSO"}, "value": "sso"}]}
    assert values["due"]["date"] == {"type": "datepicker", "selected_date": "2026-01-31"}
    assert values["seats"]["n"] == {"type": "number_input", "value": "250"}
    assert values["policy"]["url"] == {"type": "url_text_input", "value": "https://example.com/ai-policy"}
    assert not sandbox.is_view_open(view_id)  # an empty answer closes the modal
    assert sandbox.violations == []


def test_submit_view_refuses_impossible_input(sandbox: SlackSandbox, driver: SlackDriver,
                                              client: WebClient, receiver: tuple[Receiver, str]) -> None:
    view_id = open_form(sandbox, client)
    good = {"name": "x", "owner": BOB, "level": "pilot"}
    with pytest.raises(DriverError, match="required input"):
        driver.submit_view(ALICE, view_id, {"name": "x", "owner": BOB})
    with pytest.raises(DriverError, match="max_length"):
        driver.submit_view(ALICE, view_id, {**good, "name": "x" * 21})
    with pytest.raises(DriverError, match="not in the sandbox"):
        driver.submit_view(ALICE, view_id, {**good, "owner": "U0GHOST"})
    with pytest.raises(DriverError, match="no input"):
        driver.submit_view(ALICE, view_id, {**good, "nope": 1})
    with pytest.raises(DriverError, match="not offered"):
        driver.submit_view(ALICE, view_id, {**good, "level": "galaxy"})
    with pytest.raises(DriverError, match="shown to"):
        driver.submit_view(BOB, view_id, good)
    assert receiver[0].requests == []
    driver.submit_view(ALICE, view_id, {"name": "x"}, enforce_required=False)
    assert receiver[0].requests[0].payload["view"]["state"]["values"]["owner"]["pick"]["selected_user"] is None


def test_view_submission_answers_are_applied(sandbox: SlackSandbox, driver: SlackDriver,
                                             receiver: tuple[Receiver, str], client: WebClient) -> None:
    state, _ = receiver
    view_id = open_form(sandbox, client)
    good = {"name": "x", "owner": BOB, "level": "pilot"}
    state.answer = lambda _r: json_answer({"response_action": "errors", "errors": {"name": "Too short"}})
    assert driver.submit_view(ALICE, view_id, good).json["response_action"] == "errors"
    assert sandbox.is_view_open(view_id) and sandbox.violations == []
    state.answer = lambda _r: json_answer({"response_action": "errors", "errors": {"not_a_block": "x"}})
    driver.submit_view(ALICE, view_id, good)
    assert "not_a_block" in str(sandbox.violations[-1])
    done = {"type": "modal", "title": {"type": "plain_text", "text": "Done"}, "notify_on_close": True,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved"}}]}
    state.answer = lambda _r: json_answer({"response_action": "update", "view": done})
    driver.submit_view(ALICE, view_id, good)
    updated = sandbox.view(view_id)
    assert updated is not None and updated["title"]["text"] == "Done"
    driver.close_view(ALICE, view_id)
    closed = state.requests[-1].payload
    assert closed["type"] == "view_closed" and closed["view"]["id"] == view_id and closed["is_cleared"] is False
    assert not sandbox.is_view_open(view_id)
    with pytest.raises(DriverError, match="closed"):
        driver.submit_view(ALICE, view_id, good)
    quiet = client.views_open(trigger_id=sandbox.issue_trigger_id(ALICE), view=dict(done, notify_on_close=False))
    sent = len(state.requests)
    assert driver.close_view(ALICE, quiet["view"]["id"]) is None  # Slack does not tell the app
    assert len(state.requests) == sent and not sandbox.is_view_open(quiet["view"]["id"])


def test_click_in_view_and_app_home_opened(sandbox: SlackSandbox, driver: SlackDriver,
                                           receiver: tuple[Receiver, str], client: WebClient) -> None:
    home = {"type": "home", "blocks": ACTIONS_MESSAGE}
    client.views_publish(user_id=ALICE, view=home)
    published = sandbox.home_view(ALICE)
    assert published is not None
    home_id = published["id"]
    driver.click_in_view(ALICE, home_id, "risk", value="low")
    payload = receiver[0].requests[0].payload
    assert payload["container"] == {"type": "view", "view_id": home_id} and payload["view"]["type"] == "home"
    assert payload["actions"][0]["selected_option"]["value"] == "low"
    driver.app_home_opened(ALICE)
    event = json.loads(receiver[0].requests[1].body)
    assert event["type"] == "event_callback" and event["event_id"].startswith("Ev")
    assert event["event"]["type"] == "app_home_opened" and event["event"]["tab"] == "home"
    assert event["event"]["user"] == ALICE and event["event"]["channel"] == sandbox.dm_channel(ALICE)
    assert event["event"]["view"]["id"] == home_id and event["team_id"] == "T0SANDBOX"
    assert receiver[0].requests[1].headers["content-type"] == "application/json"


def test_slow_or_failing_app_is_recorded(sandbox: SlackSandbox, driver: SlackDriver,
                                         receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch) -> None:
    receiver[0].answer = lambda _r: (500, {}, b"boom")
    assert driver.app_home_opened(ALICE).status == 500
    assert sandbox.violations[-1].error == "app_error"
    monkeypatch.setattr("bot.sandbox.driver.ACK_DEADLINE_SECONDS", 0.0)
    receiver[0].answer = lambda _r: (200, {}, b"")
    driver.app_home_opened(ALICE)
    assert sandbox.violations[-1].error == "ack_timeout"


# -- a real Bolt app, dispatched by the receiver ------------------------------------------------


def test_bolt_app_handles_driver_requests_end_to_end(sandbox: SlackSandbox, receiver: tuple[Receiver, str]) -> None:
    client = WebClient(token=sandbox.token, base_url=sandbox.api_url)
    app = App(signing_secret=SECRET, client=client, process_before_response=True)
    seen: list[str] = []

    @app.command("/readiness")
    def command(ack: Any, body: dict[str, Any], respond: Any, client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=FORM_VIEW)
        respond("Opened the assessment")

    @app.view("assessment")
    def submitted(ack: Any, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        if len(values["name"]["value"]["value"]) < 3:
            ack(response_action="errors", errors={"name": "At least 3 characters"})
            return
        ack()
        seen.append(values["level"]["choose"]["selected_option"]["value"])
        client.chat_postMessage(channel=CHANNEL, text="Assessment saved", blocks=ACTIONS_MESSAGE)

    @app.action("approve")
    def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        respond(text=f"Approved by <@{body['user']['id']}>", replace_original=True)

    def dispatch(received: Received) -> Answer:
        headers_in: dict[str, str | Sequence[str]] = dict(received.headers)
        response = app.dispatch(BoltRequest(body=received.body.decode(), headers=headers_in))
        headers = {k: v[0] for k, v in response.headers.items()}
        return response.status, headers, response.body.encode()

    receiver[0].answer = dispatch
    driver = SlackDriver(receiver[1], SECRET, sandbox)
    assert driver.slash_command("/readiness", "", ALICE, CHANNEL).status == 200
    (modal,) = sandbox.open_views(ALICE)
    answer = driver.submit_view(ALICE, modal["id"], {"name": "AI", "owner": BOB, "level": "pilot"})
    assert answer.json == {"response_action": "errors", "errors": {"name": "At least 3 characters"}}
    driver.submit_view(ALICE, modal["id"], {"name": "AI pilot", "owner": BOB, "level": "pilot"})
    assert seen == ["pilot"] and sandbox.open_views(ALICE) == []
    posted = sandbox.messages(CHANNEL)[-1]
    driver.click(BOB, CHANNEL, posted["ts"], "approve")
    assert sandbox.messages(CHANNEL)[-1]["text"] == f"Approved by <@{BOB}>"
    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["Opened the assessment"]
    stale = driver.slash_command("/readiness", "", ALICE, CHANNEL, timestamp=int(time.time()) - 600)
    assert stale.status == 401
    assert sandbox.violations == []


def test_choices_made_in_a_modal_are_kept_until_submit(sandbox: SlackSandbox, driver: SlackDriver,
                                                       receiver: tuple[Receiver, str], client: WebClient) -> None:
    view_id = open_form(sandbox, client)
    with pytest.raises(DriverError, match="dispatch_action"):
        driver.click_in_view(ALICE, view_id, "choose", block_id="level", value="org")
    blocks = [dict(b, dispatch_action=True) if b["block_id"] == "level" else b for b in FORM_VIEW["blocks"]]
    view_id = client.views_open(trigger_id=sandbox.issue_trigger_id(ALICE),
                                view=dict(FORM_VIEW, blocks=blocks))["view"]["id"]
    driver.click_in_view(ALICE, view_id, "choose", block_id="level", value="org")
    assert receiver[0].requests[0].payload["actions"][0]["selected_option"]["value"] == "org"
    driver.submit_view(ALICE, view_id, {"name": "Copilot", "owner": BOB})
    values = receiver[0].requests[1].payload["view"]["state"]["values"]
    assert values["level"]["choose"]["selected_option"]["value"] == "org"


def test_click_on_a_thread_reply(sandbox: SlackSandbox, driver: SlackDriver, receiver: tuple[Receiver, str],
                                 client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="review")
    reply = client.chat_postMessage(channel=CHANNEL, text="decide", thread_ts=parent["ts"], blocks=ACTIONS_MESSAGE)
    driver.click(ALICE, CHANNEL, reply["ts"], "approve")
    container = receiver[0].requests[0].payload["container"]
    assert container["message_ts"] == reply["ts"] and container["thread_ts"] == parent["ts"]


def test_enterprise_grid_and_slack_connect_fields_in_payloads(sandbox: SlackSandbox, receiver: tuple[Receiver, str],
                                                             client: WebClient) -> None:
    """W user ids, the organisation of an Enterprise Grid install, and a person of another workspace (Slack
    Connect), whose ``user.team_id`` is their own workspace while ``team.id`` is the driver's."""
    state, url = receiver
    sandbox.add_user("W0GRID", "wanda", tz="UTC")
    sandbox.add_user("U0GUEST", "gus", tz="UTC", team_id="T0ELSEWHERE")
    grid = SlackDriver(url, SECRET, sandbox, team_id="T0SANDBOX", enterprise_id="E0GRID", enterprise_install=True)
    posted = client.chat_postMessage(channel=CHANNEL, text="Readiness: 72", blocks=ACTIONS_MESSAGE)
    grid.click("W0GRID", CHANNEL, posted["ts"], "approve")
    grid.slash_command("/readiness", "status", "W0GRID", CHANNEL)
    grid.event({"type": "member_joined_channel", "user": "W0GRID", "channel": CHANNEL})
    click, command, event = state.requests[0].payload, state.requests[1].form, json.loads(state.requests[2].body)
    assert click["user"] == {"id": "W0GRID", "username": "wanda", "name": "wanda", "team_id": "T0SANDBOX"}
    assert click["enterprise"] == {"id": "E0GRID", "name": "Sandbox Grid"} and click["is_enterprise_install"] is True
    assert command["user_id"] == "W0GRID" and command["enterprise_id"] == "E0GRID"
    assert command["is_enterprise_install"] == "true"
    assert event["enterprise_id"] == "E0GRID" and event["authorizations"][0]["enterprise_id"] == "E0GRID"
    assert event["authorizations"][0]["is_enterprise_install"] is True

    plain = SlackDriver(url, SECRET, sandbox)
    plain.click("U0GUEST", CHANNEL, posted["ts"], "approve")
    guest = state.requests[3].payload
    assert guest["team"]["id"] == "T0SANDBOX" and guest["user"]["team_id"] == "T0ELSEWHERE"
    assert guest["enterprise"] is None and guest["is_enterprise_install"] is False
    assert all(state.verified)
