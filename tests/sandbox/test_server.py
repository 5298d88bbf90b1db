"""The sandbox server driven by the real slack_sdk WebClient."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.sandbox import SlackSandbox
from tests.sandbox.ids import ALICE, BOB, CHANNEL


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        call()
    return dict(caught.value.response.data)


def raw_post(sandbox: SlackSandbox, method: str, body: bytes, content_type: str,
             token: str | None = "default", verb: str = "POST") -> dict[str, Any]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {sandbox.token if token == 'default' else token}"
    request = urllib.request.Request(sandbox.api_url + method, data=body if verb == "POST" else None,
                                     headers=headers, method=verb)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "review_modal",
    "private_metadata": '{"review": 7}',
    "title": {"type": "plain_text", "text": "Review"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [{"type": "input", "block_id": "owner", "label": {"type": "plain_text", "text": "Owner"},
                "element": {"type": "users_select", "action_id": "pick"}}],
}


def test_good_calls_succeed_and_are_recorded(sandbox: SlackSandbox, client: WebClient) -> None:
    blocks = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    posted = client.chat_postMessage(channel=CHANNEL, text="hi", blocks=blocks,
                                     metadata={"event_type": "review_posted", "event_payload": {"id": 7}})
    assert posted["channel"] == CHANNEL and posted["message"]["blocks"][0]["block_id"] == "s"
    auth = client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0SANDBOX", "U0BOT", "B0BOT")
    (call, _auth_call) = sandbox.calls
    assert call.method == "chat.postMessage" and call.ok and call.error is None and call.http_method == "POST"
    assert call.args["blocks"] == blocks and call.args["metadata"]["event_type"] == "review_posted"
    assert sandbox.calls_to("auth.test")[0].response["user_id"] == "U0BOT"
    assert sandbox.violations == []
    sandbox.clear_calls()
    assert sandbox.calls == []


def test_messages_threads_history_and_metadata(sandbox: SlackSandbox, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="parent",
                                     metadata={"event_type": "review", "event_payload": {"id": 1}})
    reply = client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])
    later = client.chat_postMessage(channel=CHANNEL, text="later")
    assert float(parent["ts"]) < float(reply["ts"]) < float(later["ts"])
    history = client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in history["messages"]] == ["later", "parent"]
    assert "metadata" not in history["messages"][1]
    assert history["messages"][1]["reply_count"] == 1
    with_meta = client.conversations_history(channel=CHANNEL, include_all_metadata=True, limit=1,
                                             oldest=parent["ts"], inclusive=True)
    assert [m["text"] for m in with_meta["messages"]] == ["later"] and with_meta["has_more"]
    page2 = client.conversations_history(channel=CHANNEL, include_all_metadata=True, limit=1,
                                         cursor=with_meta["response_metadata"]["next_cursor"])
    assert page2["messages"][0]["metadata"] == {"event_type": "review", "event_payload": {"id": 1}}
    replies = client.conversations_replies(channel=CHANNEL, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    assert [m["text"] for m in sandbox.thread(CHANNEL, reply["ts"])] == ["parent", "reply"]
    assert [m["text"] for m in sandbox.messages(CHANNEL)] == ["parent", "later"]
    link = client.chat_getPermalink(channel=CHANNEL, message_ts=reply["ts"])["permalink"]
    assert link.startswith(f"https://sandbox.slack.com/archives/{CHANNEL}/p") and "thread_ts=" in link
    updated = client.chat_update(channel=CHANNEL, ts=later["ts"], text="edited")
    edited = sandbox.find_message(CHANNEL, later["ts"])
    assert updated["message"]["text"] == "edited" and edited is not None and edited["edited"]
    assert error_of(lambda: client.chat_update(channel=CHANNEL, ts="1.000001", text="x"))["error"] == \
        "message_not_found"
    assert sandbox.violations == []


def test_dm_ephemeral_users_and_channels(sandbox: SlackSandbox, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=ALICE, text="hello alice")
    opened = client.conversations_open(users=ALICE)
    assert posted["channel"] == opened["channel"]["id"] and posted["channel"].startswith("D")
    assert [m["text"] for m in sandbox.dm_messages(ALICE)] == ["hello alice"]
    client.chat_postEphemeral(channel=CHANNEL, user=BOB, text="only bob")
    assert [m["text"] for m in sandbox.ephemerals(BOB)] == ["only bob"] and sandbox.ephemerals(ALICE) == []
    assert sandbox.messages(CHANNEL) == []
    user = client.users_info(user=BOB)["user"]
    assert user["tz"] == "America/New_York" and user["tz_offset"] in (-18000, -14400)
    assert user["tz_label"] in ("Eastern Standard Time", "Eastern Daylight Time") and user["real_name"] == "Bob Brown"
    assert client.users_info(user=ALICE)["user"]["is_admin"] is True
    assert error_of(lambda: client.users_info(user="U0NOBODY"))["error"] == "user_not_found"
    assert error_of(lambda: client.chat_postMessage(channel="C0MISSING", text="x"))["error"] == "channel_not_found"
    assert sandbox.violations == []


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"channel": CHANNEL}, "no_text", "text"),
        ({"channel": CHANNEL, "text": "a", "markdown_text": "b"}, "invalid_arguments", "markdown_text"),
        ({"channel": CHANNEL, "text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                                                  "text": "x" * 3001}}]},
         "invalid_blocks", "3000"),
        ({"channel": CHANNEL, "text": "x", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks", "50"),
        ({"channel": CHANNEL, "text": "x", "blocks": [{"type": "actions", "elements": [
            {"type": "button", "action_id": "a", "value": "v" * 2001, "text": {"type": "plain_text", "text": "b"}}]}]},
         "invalid_blocks", "2000"),
        ({"channel": CHANNEL, "text": "x", "blocks": [{"type": "paragraph"}]}, "invalid_blocks", "paragraph"),
        ({"channel": CHANNEL, "text": "x", "metadata": {"event_type": "x"}}, "invalid_metadata_format",
         "event_payload"),
    ],
)
def test_post_message_contract_violations(sandbox: SlackSandbox, client: WebClient, kwargs: dict[str, Any],
                                          error: str, named: str) -> None:
    data = error_of(lambda: client.chat_postMessage(**kwargs))
    assert data["error"] == error
    assert any(named in m for m in data["response_metadata"]["messages"])
    assert sandbox.violations and sandbox.violations[0].error == error
    assert named in str(sandbox.violations[0])
    assert sandbox.calls[-1].ok is False and sandbox.calls[-1].error == error
    assert sandbox.messages(CHANNEL) == []


def test_missing_argument_unknown_method_and_auth(sandbox: SlackSandbox, client: WebClient) -> None:
    data = error_of(lambda: client.api_call("conversations.history", params={}))
    assert data["error"] == "invalid_arguments" and "channel" in data["response_metadata"]["messages"][0]
    assert error_of(lambda: client.api_call("chat.postMesage", json={"channel": CHANNEL}))["error"] == \
        "unknown_method"
    bad = WebClient(token="xoxb-wrong", base_url=sandbox.api_url)
    assert error_of(bad.auth_test)["error"] == "invalid_auth"
    anonymous = WebClient(base_url=sandbox.api_url)
    assert error_of(anonymous.auth_test)["error"] == "not_authed"
    assert [v.error for v in sandbox.violations] == ["invalid_arguments", "unknown_method", "invalid_auth",
                                                     "not_authed"]


def test_wire_formats(sandbox: SlackSandbox) -> None:
    form = raw_post(sandbox, "chat.postMessage", f"channel={CHANNEL}&text=form".encode(),
                    "application/x-www-form-urlencoded")
    assert form["ok"]
    token_in_form = raw_post(sandbox, "auth.test", f"token={sandbox.token}".encode(),
                             "application/x-www-form-urlencoded", token=None)
    assert token_in_form["ok"]
    get = raw_post(sandbox, f"users.info?user={ALICE}", b"", "", verb="GET")
    assert get["ok"] and get["user"]["id"] == ALICE
    assert raw_post(sandbox, f"chat.postMessage?channel={CHANNEL}&text=x", b"", "", verb="GET")["error"] == \
        "invalid_http_method"
    assert raw_post(sandbox, "users.info", json.dumps({"user": ALICE}).encode(), "application/json")["error"] == \
        "invalid_post_type"
    assert raw_post(sandbox, "chat.postMessage", b"{not json", "application/json")["error"] == "invalid_json"
    json_token = raw_post(sandbox, "auth.test", json.dumps({"token": sandbox.token}).encode(), "application/json",
                          token=None)
    assert json_token["error"] == "not_authed"
    assert [c.error for c in sandbox.calls if not c.ok] == ["invalid_http_method", "invalid_post_type",
                                                           "invalid_json", "not_authed"]


def test_views_and_trigger_ids(sandbox: SlackSandbox, client: WebClient) -> None:
    trigger = sandbox.issue_trigger_id(ALICE)
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    stored = sandbox.view(view["id"])
    assert stored is not None and stored["callback_id"] == "review_modal"
    assert stored["private_metadata"] == '{"review": 7}' and stored["hash"] == view["hash"]
    assert [v["id"] for v in sandbox.open_views(ALICE)] == [view["id"]]
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL))["error"] == "exchanged_trigger_id"
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=MODAL))["error"] == "invalid_trigger_id"
    stale = sandbox.issue_trigger_id(ALICE)
    sandbox.advance(3.5)
    assert error_of(lambda: client.views_open(trigger_id=stale, view=MODAL))["error"] == "expired_trigger_id"
    pushed = client.views_push(trigger_id=sandbox.issue_trigger_id(ALICE), view=MODAL)["view"]
    assert pushed["previous_view_id"] == view["id"] and pushed["root_view_id"] == view["id"]
    changed = dict(MODAL, private_metadata="v2")
    assert error_of(lambda: client.views_update(view_id=view["id"], hash="stale", view=changed))["error"] == \
        "hash_conflict"
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=changed)["view"]
    assert updated["private_metadata"] == "v2" and updated["hash"] != view["hash"]
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "home"}}]}
    client.views_publish(user_id=BOB, view=home)
    published = sandbox.home_view(BOB)
    assert published is not None and published["blocks"][0]["text"]["text"] == "home"
    too_long = dict(MODAL, private_metadata="x" * 3001)
    data = error_of(lambda: client.views_open(trigger_id=sandbox.issue_trigger_id(ALICE), view=too_long))
    assert data["error"] == "invalid_blocks" and "private_metadata" in data["response_metadata"]["messages"][0]
    many = dict(MODAL, blocks=[{"type": "divider"}] * 101)
    assert error_of(lambda: client.views_open(trigger_id=sandbox.issue_trigger_id(ALICE), view=many))["error"] == \
        "invalid_blocks"
    # an expired trigger is Slack's answer to a slow app, not a broken rule; a reused or made-up one is
    assert {v.error for v in sandbox.violations} == {"exchanged_trigger_id", "invalid_trigger_id", "invalid_blocks"}


def test_files_upload_v2_round_trip(sandbox: SlackSandbox, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="report follows")
    done = client.files_upload_v2(channel=CHANNEL, thread_ts=parent["ts"], content=b"score,72\n",
                                  filename="scorecard.csv", title="Scorecard", initial_comment="Scorecard attached")
    file_id = done["file"]["id"]
    stored = sandbox.files[file_id]
    assert stored["content"] == b"score,72\n" and stored["title"] == "Scorecard" and stored["channels"] == [CHANNEL]
    share = sandbox.thread(CHANNEL, parent["ts"])[-1]
    assert share["text"] == "Scorecard attached" and share["files"][0]["id"] == file_id
    assert [c.method for c in sandbox.calls][1:] == ["files.getUploadURLExternal", "file_upload",
                                                     "files.completeUploadExternal"]
    assert sandbox.violations == []


def test_response_urls(sandbox: SlackSandbox, client: WebClient) -> None:
    original = client.chat_postMessage(channel=CHANNEL, text="vote")
    url = sandbox.new_response_url(CHANNEL, ALICE, original["ts"])
    assert url.startswith(f"{sandbox.url}/response/")
    hook = WebhookClient(url)
    assert hook.send(text="just for you").status_code == 200
    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["just for you"]
    assert hook.send(text="for everyone", response_type="in_channel").status_code == 200
    assert hook.send(text="vote closed", replace_original=True).status_code == 200
    assert [m["text"] for m in sandbox.messages(CHANNEL)] == ["vote closed", "for everyone"]
    assert hook.send(text="", delete_original=True).status_code == 200
    assert [m["text"] for m in sandbox.messages(CHANNEL)] == ["for everyone"]
    bad = hook.send(text="x", blocks=[{"type": "section"}])
    assert bad.status_code == 400 and bad.body == "invalid_blocks"
    calls = sandbox.calls_to("response_url")
    assert len(calls) == 5 and calls[0].args["text"] == "just for you" and not calls[-1].ok
    assert WebhookClient(url).send(text="sixth use").status_code == 404  # a response URL works five times
    assert [v.error for v in sandbox.violations] == ["invalid_blocks", "expired_url"]


def test_a_ping_in_a_reply_is_a_violation_too(sandbox: SlackSandbox, client: WebClient) -> None:
    """A command's answer and a response URL post are messages: a broadcast in either is recorded, as in a post."""
    WebhookClient(sandbox.new_response_url(CHANNEL, ALICE)).send(text="see <!here>")
    sandbox.apply_command_response(CHANNEL, ALICE, '{"text": "hi <!channel>"}', "application/json")
    sandbox.apply_command_response(CHANNEL, ALICE, "escaped &lt;!channel&gt; is fine", "text/plain")
    assert [(v.method, v.error) for v in sandbox.violations] == [("response_url", "broadcast_mention"),
                                                                 ("command_response", "broadcast_mention")]


def test_unsupported_method_is_loud(sandbox: SlackSandbox, client: WebClient) -> None:
    assert error_of(lambda: client.pins_add(channel=CHANNEL, timestamp="1.1"))["error"] == \
        "sandbox_unsupported_method"
    assert sandbox.violations[0].error == "sandbox_unsupported_method"


def test_unknown_path_is_404(sandbox: SlackSandbox) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(sandbox.url + "/nowhere", timeout=5)
    assert caught.value.code == 404


def test_multipart_bodies_are_read(sandbox: SlackSandbox, client: WebClient) -> None:
    answer = client.api_call("chat.postMessage", files={"file": io.BytesIO(b"bytes")},
                             data={"channel": CHANNEL, "text": "multipart", "token": sandbox.token})
    assert answer["ok"] and sandbox.messages(CHANNEL)[0]["text"] == "multipart"
    assert sandbox.calls[-1].args == {"channel": CHANNEL, "text": "multipart"}


def test_people_messages_delete_and_schedule(sandbox: SlackSandbox, client: WebClient) -> None:
    human = sandbox.add_message(CHANNEL, "is the DPA signed?", ALICE)
    bot = client.chat_postMessage(channel=CHANNEL, text="checking", thread_ts=human)
    history = client.conversations_history(channel=CHANNEL)["messages"]
    assert [(m["user"], m["text"]) for m in history] == [(ALICE, "is the DPA signed?")]
    assert error_of(lambda: client.chat_update(channel=CHANNEL, ts=human, text="x"))["error"] == \
        "cant_update_message"
    client.chat_delete(channel=CHANNEL, ts=bot["ts"])
    assert sandbox.find_message(CHANNEL, bot["ts"]) is None
    later = int(time.time()) + 3600
    scheduled = client.chat_scheduleMessage(channel=CHANNEL, text="reminder", post_at=later)
    assert scheduled["scheduled_message_id"] and sandbox.scheduled_messages[0]["post_at"] == later
    assert error_of(lambda: client.chat_scheduleMessage(channel=CHANNEL, text="x", post_at=1))["error"] == \
        "time_in_past"
    assert error_of(lambda: client.conversations_open(users="U0GHOST"))["error"] == "user_not_found"
    assert sandbox.violations == []


def test_concurrent_posts_get_unique_increasing_ts(sandbox: SlackSandbox) -> None:
    def post(worker: int) -> list[str]:
        client = WebClient(token=sandbox.token, base_url=sandbox.api_url)
        return [client.chat_postMessage(channel=CHANNEL, text=f"{worker}-{i}")["ts"] for i in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        stamps = [ts for batch in pool.map(post, range(8)) for ts in batch]
    assert len(set(stamps)) == 80
    stored = [m["ts"] for m in sandbox.messages(CHANNEL)]
    assert sorted(stored, key=float) == stored and len(sandbox.calls) == 80


def test_a_connected_app_hears_when_the_bot_joins_or_is_invited(sandbox: SlackSandbox, client: WebClient) -> None:
    """Slack's member_joined_channel, pushed to the app (here a list) after the call that caused it."""
    heard: list[tuple[dict[str, Any], str]] = []
    sandbox.add_channel("C0PUBLIC", "public")
    sandbox.add_channel("G0PRIVATE", "private", is_private=True)
    assert client.conversations_join(channel="C0PUBLIC")["ok"]  # not connected yet: nothing is pushed
    sandbox.connect_app(lambda event, team: heard.append((event, team)))
    sandbox.remove_bot("C0PUBLIC")
    client.conversations_join(channel="C0PUBLIC")
    client.conversations_join(channel="C0PUBLIC")  # already in: Slack says so, and tells nobody
    sandbox.invite_bot("G0PRIVATE", inviter=ALICE)
    sandbox.invite_bot("G0PRIVATE")  # already in
    assert sandbox.events_idle(timeout=5)
    assert heard == [
        ({"type": "member_joined_channel", "user": sandbox.bot_user_id, "channel": "C0PUBLIC", "channel_type": "C",
          "team": sandbox.team_id}, sandbox.team_id),
        ({"type": "member_joined_channel", "user": sandbox.bot_user_id, "channel": "G0PRIVATE", "channel_type": "G",
          "team": sandbox.team_id, "inviter": ALICE}, sandbox.team_id),
    ]
    assert [e for e, _ in sandbox.events_sent] == [e for e, _ in heard]


def test_an_app_that_cannot_be_reached_is_a_violation(sandbox: SlackSandbox) -> None:
    def unreachable(event: dict[str, Any], team: str) -> None:
        raise ConnectionRefusedError("nobody listens")

    sandbox.connect_app(unreachable)
    sandbox.add_channel("C0PUBLIC", "public")
    sandbox.invite_bot("C0PUBLIC")
    assert sandbox.events_idle(timeout=5)
    [violation] = sandbox.violations
    assert violation.error == "event_delivery_failed" and "nobody listens" in violation.detail
    sandbox.clear_violations()


def test_socket_mode_hello_envelopes_acks_and_the_app_token(sandbox: SlackSandbox) -> None:
    """slack_sdk's own Socket Mode client against the sandbox: apps.connections.open with the app-level token,
    hello, an envelope delivered and acknowledged, pings answered, and the end of the connection seen."""
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest
    from slack_sdk.socket_mode.response import SocketModeResponse

    hub = sandbox.enable_socket_mode("xapp-1-test")
    web = WebClient(token=sandbox.token, base_url=sandbox.api_url)
    assert error_of(lambda: web.apps_connections_open(app_token=sandbox.token))["error"] == "invalid_auth"
    sandbox.clear_violations()  # (a bot token where the app token belongs: the app's mistake, recorded)
    client = SocketModeClient(app_token="xapp-1-test", web_client=web, ping_interval=1)
    got: list[SocketModeRequest] = []

    def listener(socket: SocketModeClient, request: SocketModeRequest) -> None:
        got.append(request)
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id,
                                                            payload={"text": "pong"}))

    client.socket_mode_request_listeners.append(listener)
    client.connect()
    try:
        assert hub.wait_for(lambda: hub.connected == 1, timeout=5)
        ack = hub.deliver("slash_commands", {"command": "/readiness", "text": "help", "user_id": ALICE})
        assert ack == {"envelope_id": got[0].envelope_id, "payload": {"text": "pong"}}
        assert got[0].type == "slash_commands" and got[0].payload["text"] == "help"
    finally:
        client.close()
    assert hub.wait_for(lambda: hub.connected == 0 and hub.closed == 1, timeout=5)
