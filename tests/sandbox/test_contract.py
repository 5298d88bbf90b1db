"""The packaged contract, its validation rules, and the derivation script (on a synthetic reference)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.sandbox.contract import load_contract, validate_call

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "derive_slack_contract.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_slack_contract", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packaged_contract_covers_the_methods_the_bot_uses() -> None:
    contract = load_contract()
    assert len(contract) > 300
    post = contract.get("chat.postMessage")
    assert post is not None
    assert post.required == ("channel",)
    assert post.json_input_supported and post.token_required and post.http_method == "POST"
    assert [g.args for g in post.arg_groups] == [("attachments", "blocks", "text", "markdown_text"),
                                                 ("text", "markdown_text")]
    users_info = contract.get("users.info")
    assert users_info is not None and users_info.http_method == "GET" and users_info.rate_tier == "t4"
    assert not users_info.json_input_supported
    for name in ("views.open", "views.push", "views.update", "views.publish", "chat.update", "chat.postEphemeral",
                 "conversations.history", "conversations.replies", "files.getUploadURLExternal",
                 "files.completeUploadExternal", "auth.test", "chat.getPermalink", "conversations.open"):
        assert name in contract, name


@pytest.mark.parametrize(
    ("method", "args", "http_method", "json_body", "error"),
    [
        ("chat.postMesage", {"channel": "C1", "text": "x"}, "POST", False, "unknown_method"),
        ("chat.postMessage", {"channel": "C1", "text": "x"}, "GET", False, "invalid_http_method"),
        ("users.info", {"user": "U1"}, "POST", True, "invalid_post_type"),
        ("chat.postMessage", {"text": "x"}, "POST", True, "invalid_arguments"),
        ("chat.postMessage", {"channel": "C1"}, "POST", True, "no_text"),
        ("chat.postMessage", {"channel": "C1", "text": "a", "markdown_text": "b"}, "POST", True, "invalid_arguments"),
        ("views.open", {"view": {"type": "modal"}}, "POST", True, "invalid_arguments"),
        ("views.update", {"view": {}, "view_id": "V1", "external_id": "e"}, "POST", True, "invalid_arguments"),
    ],
)
def test_validate_call_rejects(method: str, args: dict[str, Any], http_method: str, json_body: bool,
                               error: str) -> None:
    problems = [p for p in validate_call(method, args, http_method=http_method, json_body=json_body) if p.fatal]
    assert problems and problems[0].error == error


def test_validate_call_accepts_good_calls_and_get_where_allowed() -> None:
    assert validate_call("chat.postMessage", {"channel": "C1", "blocks": [{"type": "divider"}]}, json_body=True) == []
    assert validate_call("users.info", {"user": "U1"}, http_method="GET") == []
    assert validate_call("views.open", {"view": {"type": "modal"}, "trigger_id": "t"}, json_body=True) == []


def test_missing_argument_is_named() -> None:
    (problem,) = validate_call("conversations.replies", {"channel": "C1"})
    assert problem.error == "invalid_arguments" and "ts" in problem.message


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def _reference(root: Path) -> Path:
    _write(root / "methods" / "methods.json", [{"name": "demo.post"}, {"name": "demo.get"}])
    _write(root / "methods" / "demo.post.json", {
        "http_method": "POST", "rate_limits": "t3", "json_input_supported": True,
        "args": {"required": ["token", "channel", "ghost"],
                 "properties": {"token": {}, "channel": {}, "text": {}, "blocks": {}, "mode": {}}},
    })
    _write(root / "methods" / "demo.get.json", {
        "http_method": "GET", "rate_limits": "200 per minute", "deprecated": True,
        "args": {"required": ["id"], "properties": {"id": {}}},
    })
    _write(root / "by-group" / "demo" / "demo.post.json", {
        "deprecated": False, "args": {"channel": {"required": True}},
        "arg_groups": [{"args": ["text", "blocks"], "mutually_exclusive": False}],
    })
    _write(root / "by-group" / "demo" / "demo.get.json", {"deprecated": False, "args": {}})
    _write(root / "by-group" / "_patches" / "demo" / "demo.post.json", {"arg_groups": [
        {"args": ["text", "blocks"], "mutually_exclusive": False},
        {"args": ["text", "nonexistent"], "mutually_exclusive": True, "required": False},
        {"args": ["mode"], "mutually_exclusive": True},
    ]})
    return root


def test_derivation_applies_patches_sensibly(tmp_path: Path) -> None:
    script = _script()
    contract = script.derive(_reference(tmp_path / "ref"))
    post = contract["methods"]["demo.post"]
    assert post["required"] == ["channel"]  # token travels in the header; 'ghost' is undocumented
    assert post["token_required"] is True
    assert post["arg_groups"] == [{"args": ["text", "blocks"], "mutually_exclusive": False, "required": True}]
    get = contract["methods"]["demo.get"]
    assert get["http_method"] == "GET" and get["deprecated"] is True and get["token_required"] is False
    assert get["rate_tier"] == "special" and get["json_input_supported"] is False
    assert any("ghost" in note for note in contract["notes"])
    assert any("'mode'" in note for note in contract["notes"])


def test_derivation_is_deterministic_and_check_mode_works(tmp_path: Path) -> None:
    script = _script()
    ref = _reference(tmp_path / "ref")
    out = tmp_path / "contract.json"
    assert script.main([str(ref), "--output", str(out)]) == 0
    first = out.read_text()
    assert script.main([str(ref), "--output", str(out)]) == 0
    assert out.read_text() == first
    assert script.main([str(ref), "--output", str(out), "--check"]) == 0
    out.write_text(first.replace('"t3"', '"t2"'))
    assert script.main([str(ref), "--output", str(out), "--check"]) == 1
    assert json.loads(first)["method_count"] == 2


# -- every rule the contract data cites is the sandbox's behaviour ---------------------------------------------

RULE_MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Rule"},
              "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}


def _rule_scenarios(sandbox: Any, client: Any) -> dict[str, Any]:
    """For each rule, the call that meets it: (method called, what Slack answered: an error or a warning)."""
    sandbox.add_channel("C0OUT", "outside")  # public, the bot not in it
    sandbox.add_channel("G0HIDDEN", "hidden", is_private=True)  # private, the bot not in it
    sandbox.add_channel("G0INSIDE", "inside", is_private=True, bot_is_member=True)
    sandbox.add_channel("C0SHUT", "shut", is_archived=True)
    thread = sandbox.add_message("C0OUT", "a thread", "U0ALICE")
    expired = sandbox.issue_trigger_id("U0ALICE")
    sandbox.advance(4)  # older than three seconds
    used = sandbox.issue_trigger_id("U0ALICE")
    client.views_open(trigger_id=used, view=RULE_MODAL)
    return {
        "ephemeral-needs-membership": lambda: client.chat_postEphemeral(channel="C0OUT", user="U0ALICE", text="x"),
        "history-needs-membership": lambda: client.conversations_history(channel="C0OUT"),
        "history-private-hidden": lambda: client.conversations_history(channel="G0HIDDEN"),
        "info-private-hidden": lambda: client.conversations_info(channel="G0HIDDEN"),
        "join-archived": lambda: client.conversations_join(channel="C0SHUT"),
        "join-public-only": lambda: client.conversations_join(channel="G0INSIDE"),
        "metadata-schema": lambda: client.chat_postMessage(
            channel="C0OUT", text="x", metadata={"event_type": "t", "event_payload": {"keys": ["a"]}}),
        "post-archived": lambda: client.chat_postMessage(channel="C0SHUT", text="x"),
        "post-private-hidden": lambda: client.chat_postMessage(channel="G0HIDDEN", text="x"),
        "replies-private-hidden": lambda: client.conversations_replies(channel="C0OUT", ts=thread),
        "trigger-expires": lambda: client.views_open(trigger_id=expired, view=RULE_MODAL),
        "trigger-single-use": lambda: client.views_open(trigger_id=used, view=RULE_MODAL),
        "upload-needs-membership": lambda: client.files_upload_v2(channel="C0OUT", content=b"x", filename="x.md"),
    }


def test_every_cited_rule_is_what_the_sandbox_does(sandbox: Any, client: Any) -> None:
    """Each rule of the contract data (``Contract.rule``) names a method, the error Slack's reference gives for
    it, and what the sandbox does: meeting the rule gives exactly that answer from exactly that method."""
    from slack_sdk.errors import SlackApiError

    contract = load_contract()
    scenarios = _rule_scenarios(sandbox, client)
    assert set(scenarios) == set(contract.rules), "a rule without a scenario here, or a scenario without a rule"
    for name, meet in scenarios.items():
        rule = contract.rule(name)
        assert contract.documents_error(rule["method"], rule["error"]), name  # cited from the reference
        before = len(sandbox.calls)
        try:
            answer = meet()
        except SlackApiError as refused:
            said = refused.response.get("error")
        else:
            said = ",".join((answer.get("response_metadata") or {}).get("warnings") or []) or "ok"
        assert said == rule["error"], f"rule {name}: {rule['method']} answered {said}, the rule says {rule['error']}"
        met = [c for c in sandbox.calls[before:] if c.method == rule["method"]]
        assert met, f"rule {name}: {rule['method']} was not called"
    # Slack's answer to an app that met a rule; only a trigger used twice is the app's own mistake
    assert [(v.method, v.error) for v in sandbox.violations] == [("views.open", "exchanged_trigger_id")]
    sandbox.clear_violations()
