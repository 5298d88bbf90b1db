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
