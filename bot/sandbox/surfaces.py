"""Views (modals, home tabs), file uploads (v2 flow) and response URLs.

Also what Slack does with the app's HTTP answers to interactive requests: a slash command's
immediate reply and a view submission's ``response_action``.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import secrets
import time
from typing import Any

from bot.sandbox.blockkit import (
    check_message_blocks,
    check_view,
    iter_interactive_elements,
    with_generated_ids,
)
from bot.sandbox.methods import (
    Handler,
    broadcast_mentions,
    build_message,
    flag,
    known_channel,
    public_message,
    writable_channel,
)
from bot.sandbox.state import (
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    ApiError,
    ResponseUrl,
    SandboxState,
)

MAX_VIEW_STACK = 3
VIEW_KEYS = ("title", "submit", "close", "clear_on_close", "notify_on_close")


# -- views --------------------------------------------------------------------------------


def _new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _kept_state(old: dict[str, Any], blocks: list[Any]) -> dict[str, Any]:
    """Like Slack, an update keeps what the user entered in inputs whose block_id/action_id survive."""
    ids = {(b.get("block_id"), e.get("action_id")) for b, e in iter_interactive_elements(blocks)}
    values: dict[str, dict[str, Any]] = {}
    for block_id, actions in (old.get("values") or {}).items():
        for action_id, entry in actions.items():
            if (block_id, action_id) in ids:
                values.setdefault(block_id, {})[action_id] = entry
    return {"values": values}


def _fill_view(state: SandboxState, stored: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    blocks = with_generated_ids(view.get("blocks") or [])
    stored.update(
        type=view.get("type"),
        blocks=blocks,
        private_metadata=view.get("private_metadata") or "",
        callback_id=view.get("callback_id") or "",
        external_id=view.get("external_id") or "",
        state=_kept_state(stored.get("state") or {}, blocks),
        hash=_new_hash(),
        app_id=state.app_id,
        bot_id=state.bot_id,
        team_id=state.team_id,
        app_installed_team_id=state.team_id,
    )
    for key in VIEW_KEYS:
        if view.get(key) is not None:
            stored[key] = view[key]
        else:
            stored.pop(key, None)
    if stored["type"] == "modal":
        stored.setdefault("clear_on_close", False)
        stored.setdefault("notify_on_close", False)
    return stored


def _external_id_taken(state: SandboxState, external_id: Any, except_id: str | None = None) -> bool:
    return bool(external_id) and any(
        v.get("external_id") == external_id and vid != except_id for vid, v in state.views.items()
    )


def store_new_view(state: SandboxState, view: dict[str, Any], user: str | None, previous: str | None = None,
                   root: str | None = None) -> dict[str, Any]:
    with state.lock:
        if _external_id_taken(state, view.get("external_id")):
            raise ApiError("duplicate_external_id")
        view_id = state.new_id("V")
        stored = _fill_view(state, {"id": view_id, "previous_view_id": previous, "root_view_id": root or view_id}, view)
        state.views[view_id] = stored
        state.view_owner[view_id] = user
        return stored


def views_open(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        trigger = state.consume_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
        view = args["view"]
        if view.get("type") != "modal":
            raise ApiError("invalid_arguments", "[ERROR] views.open opens modals (type must be modal)", violation=True)
        stored = store_new_view(state, view, trigger.user)
        state.view_stacks[trigger.user or ""] = [stored["id"]]
        return {"view": public_message(stored)}


def views_push(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        trigger = state.consume_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
        stack = state.view_stacks.setdefault(trigger.user or "", [])
        if not stack:
            raise ApiError("not_found", "[ERROR] there is no open modal to push onto")
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached", violation=True)
        view = args["view"]
        if view.get("type") != "modal":
            raise ApiError("invalid_arguments", "[ERROR] views.push pushes modals (type must be modal)", violation=True)
        stored = store_new_view(state, view, trigger.user, previous=stack[-1], root=stack[0])
        stack.append(stored["id"])
        return {"view": public_message(stored)}


def views_update(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        view_id = args.get("view_id")
        if not view_id:
            view_id = next((vid for vid, v in state.views.items() if v.get("external_id") == args.get("external_id")), None)
        stored = state.views.get(view_id) if view_id else None
        if stored is None:
            raise ApiError("not_found")
        if args.get("hash") and args["hash"] != stored["hash"]:
            raise ApiError("hash_conflict")
        view = args["view"]
        if _external_id_taken(state, view.get("external_id"), except_id=view_id):
            raise ApiError("duplicate_external_id")
        if view_id in state.closed_views:
            raise ApiError("not_found", "[ERROR] the view was closed")
        _fill_view(state, stored, view)
        return {"view": public_message(stored)}


def views_publish(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        user = args.get("user_id")
        if user not in state.users:
            raise ApiError("user_not_found")
        view = args["view"]
        if view.get("type") != "home":
            raise ApiError("invalid_arguments", "[ERROR] views.publish publishes home tabs (type must be home)",
                           violation=True)
        current_id = state.home_views.get(user)
        if current_id is None:
            stored = store_new_view(state, view, user)
            state.home_views[user] = stored["id"]
        else:
            stored = state.views[current_id]
            if args.get("hash") and args["hash"] != stored["hash"]:
                raise ApiError("hash_conflict")
            _fill_view(state, stored, view)
        return {"view": public_message(stored)}


def remember_view_state(state: SandboxState, view_id: str, view_state: dict[str, Any]) -> None:
    """Keep what the user entered in a view (Slack holds it until the view is updated or closed)."""
    with state.lock:
        if view_id in state.views:
            state.views[view_id]["state"] = view_state


def close_view(state: SandboxState, view_id: str, *, clear: bool = False) -> None:
    """The user closed a modal (or the app cleared the stack)."""
    with state.lock:
        user = state.view_owner.get(view_id) or ""
        stack = state.view_stacks.get(user, [])
        if clear or (stack and stack[0] == view_id):
            state.closed_views.update(stack)
            stack.clear()
        elif view_id in stack:
            index = stack.index(view_id)
            state.closed_views.update(stack[index:])
            del stack[index:]
        state.closed_views.add(view_id)


def apply_view_response(state: SandboxState, view_id: str, body: Any, submitted: Any = None) -> None:
    """What Slack does with the app's answer to a ``view_submission`` (no action closes the view).

    The answer is kept in ``view_answers`` with the ``state`` that was submitted (for drawing the modal)."""
    with state.lock:
        state.view_answers.append({"view_id": view_id, "body": copy.deepcopy(body),
                                   "submitted": copy.deepcopy(submitted), "at": time.time()})
        where = "view_submission response"
        if not body:
            close_view(state, view_id)
            return
        if not isinstance(body, dict):
            state.violate(where, "invalid_response", "the answer to a view_submission must be empty or a JSON object")
            return
        action = body.get("response_action")
        stored = state.views.get(view_id)
        if action == "errors":
            errors = body.get("errors")
            inputs = {b.get("block_id") for b in (stored or {}).get("blocks", []) if b.get("type") == "input"}
            if not isinstance(errors, dict) or not errors:
                state.violate(where, "invalid_errors", "response_action errors needs a non-empty errors object")
            else:
                for block_id in errors:
                    if block_id not in inputs:
                        state.violate(where, "invalid_errors",
                                      f"errors names block_id {block_id!r}, which is not an input block of the view")
            return
        if action == "clear":
            close_view(state, view_id, clear=True)
            return
        if action in ("update", "push"):
            view = body.get("view")
            problems = check_view(view)
            if problems or not isinstance(view, dict):
                for problem in problems:
                    state.violate(where, "invalid_blocks", problem)
                return
            if action == "update" and stored is not None:
                _fill_view(state, stored, view)
            else:
                user = state.view_owner.get(view_id)
                stack = state.view_stacks.setdefault(user or "", [])
                if len(stack) >= MAX_VIEW_STACK:
                    state.violate(where, "push_limit_reached", "response_action push on a full modal stack")
                    return
                pushed = store_new_view(state, view, user, previous=view_id, root=stack[0] if stack else view_id)
                stack.append(pushed["id"])
            return
        state.violate(where, "invalid_response_action", f"unknown response_action {action!r}")


# -- files (upload v2) ---------------------------------------------------------------------


def get_upload_url(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        file_id = state.new_id("F")
        state.files[file_id] = {
            "id": file_id, "name": str(args.get("filename")), "title": str(args.get("filename")),
            "length": int(args.get("length") or 0), "alt_txt": args.get("alt_txt"), "content": None,
            "completed": False, "channels": [], "thread_ts": None,
        }
        return {"upload_url": f"{state.base_url}/upload/{file_id}", "file_id": file_id}


def receive_upload(state: SandboxState, file_id: str, content: bytes) -> tuple[int, str]:
    with state.lock:
        record = state.files.get(file_id)
        if record is None:
            state.violate("file_upload", "file_not_found", f"upload to an URL that was never issued ({file_id})")
            return 404, "file_not_found"
        if len(content) != record["length"]:
            state.violate("file_upload", "length_mismatch",
                          f"{file_id}: declared length {record['length']}, uploaded {len(content)} bytes")
        record["content"] = content
        return 200, f"OK - {len(content)}"


def complete_upload(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        items = args.get("files")
        if not isinstance(items, list) or not items:
            raise ApiError("invalid_arguments", "[ERROR] files must be a JSON array of {id, title}", violation=True)
        records = []
        for item in items:
            record = state.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if record is None or record["content"] is None:
                raise ApiError("file_not_found")
            records.append((record, item))
        targets = []
        if args.get("channel_id"):
            targets.append(writable_channel(state, args["channel_id"], members_only=True))
        for channel_id in str(args.get("channels") or "").split(","):
            if channel_id.strip():
                targets.append(writable_channel(state, channel_id.strip(), members_only=True))
        shared = []
        for record, item in records:
            name = record["name"]
            record.update(
                title=item.get("title") or name, completed=True, created=int(time.time()), user=state.bot_user_id,
                size=len(record["content"]), mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
                filetype=name.rsplit(".", 1)[-1].lower() if "." in name else "binary",
                url_private=f"https://files.slack.com/files-pri/{state.team_id}-{record['id']}/{name}",
                permalink=f"https://{state.team_domain}.slack.com/files/{state.bot_user_id}/{record['id']}/{name}",
                channels=[c.id for c in targets], thread_ts=args.get("thread_ts"),
            )
            shared.append(file_payload(record))
        for channel in targets:
            share = dict(args, text=args.get("initial_comment") or "")
            message = build_message(state, share, state.next_ts())
            message.update(files=shared, upload=True)
            state.store_message(channel, message)
        return {"files": [{"id": f["id"], "title": f["title"]} for f in shared]}


def file_payload(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("content", "completed", "length", "thread_ts")}


# -- response URLs -----------------------------------------------------------------------------


def new_response_url(state: SandboxState, channel: str | None, user: str | None, message_ts: str | None = None,
                     is_ephemeral: bool = False) -> str:
    with state.lock:
        token = secrets.token_urlsafe(18)
        state.response_urls[token] = ResponseUrl(channel, user, message_ts, is_ephemeral, state.now())
        return f"{state.base_url}/response/{token}"


def _original(state: SandboxState, hook: ResponseUrl) -> dict[str, Any] | None:
    if not hook.channel or not hook.message_ts:
        return None
    if hook.is_ephemeral:
        return state.find_ephemeral(hook.channel, hook.message_ts, hook.user)
    return state.find(hook.channel, hook.message_ts)


def post_response(state: SandboxState, token: str, body: Any) -> tuple[int, Any]:
    """A POST to a response URL; returns (HTTP status, body)."""
    with state.lock:
        where = "response_url"
        hook = state.response_urls.get(token)
        if hook is None:
            state.violate(where, "no_service", f"POST to a response URL the sandbox never issued ({token})")
            return 404, "no_service"
        hook.uses += 1
        if hook.uses > RESPONSE_URL_MAX_USES or state.now() - hook.created_at > RESPONSE_URL_TTL_SECONDS:
            state.violate(where, "expired_url", f"response URL used {hook.uses} times (at most "
                          f"{RESPONSE_URL_MAX_USES} within {RESPONSE_URL_TTL_SECONDS // 60} minutes)")
            return 404, "expired_url"
        if not isinstance(body, dict):
            state.violate(where, "invalid_payload", "response URL bodies must be JSON objects")
            return 400, "invalid_payload"
        note_broadcasts(state, where, body)
        original = _original(state, hook)
        if flag(body.get("delete_original")):
            if original is None:
                return 404, "message_not_found"
            if hook.is_ephemeral:
                state.ephemeral.remove(original)
            else:
                state.remove_message(hook.channel or "", original["ts"])
            return 200, {"ok": True}
        blocks = body.get("blocks")
        if blocks is not None:
            problems = check_message_blocks(blocks)
            if problems:
                for problem in problems:
                    state.violate(where, "invalid_blocks", problem)
                return 400, "invalid_blocks"
        if not body.get("text") and not blocks and not body.get("attachments"):
            state.violate(where, "no_text", "a response URL message needs text or blocks")
            return 400, "no_text"
        if flag(body.get("replace_original")) and original is not None:
            original["text"] = body.get("text") or ""
            for key in ("blocks", "attachments"):
                if body.get(key):
                    original[key] = with_generated_ids(body[key]) if key == "blocks" else body[key]
                else:
                    original.pop(key, None)
            return 200, {"ok": True}
        deliver(state, hook.channel, hook.user, body)
        return 200, {"ok": True}


def note_broadcasts(state: SandboxState, where: str, body: dict[str, Any]) -> None:
    """A reply (a command's answer, a response URL post) is a message too: its pings are violations as well."""
    for mention in broadcast_mentions(body):
        state.violate(where, "broadcast_mention", f"the text holds {mention}>: a ping nobody asked for")


def deliver(state: SandboxState, channel_id: str | None, user: str | None, body: dict[str, Any]) -> None:
    """Show a message the way Slack shows an interactive reply: in channel, or ephemeral for the user."""
    with state.lock:
        if not channel_id:
            return
        channel = known_channel(state, channel_id)
        message = build_message(state, body, state.next_ts())
        if body.get("response_type") == "in_channel":
            state.store_message(channel, message)
        else:
            message.update(channel=channel.id, recipient=user, is_ephemeral=True)
            state.ephemeral.append(message)


def apply_command_response(state: SandboxState, channel_id: str, user: str, body_text: str,
                           content_type: str) -> None:
    """A slash command's immediate HTTP answer: plain text or a JSON message, shown like Slack does."""
    with state.lock:
        if not body_text.strip():
            return
        if "json" in content_type:
            try:
                body = json.loads(body_text)
            except ValueError:
                state.violate("command_response", "invalid_payload", "the command answer is not valid JSON")
                return
        else:
            body = {"text": body_text}
        if not isinstance(body, dict):
            state.violate("command_response", "invalid_payload", "the command answer must be a JSON object")
            return
        note_broadcasts(state, "command_response", body)
        if body.get("blocks") is not None:
            problems = check_message_blocks(body["blocks"])
            if problems:
                for problem in problems:
                    state.violate("command_response", "invalid_blocks", problem)
                return
        deliver(state, channel_id, user, body)


HANDLERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
