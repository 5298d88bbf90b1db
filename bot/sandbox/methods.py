"""Web API method handlers for messages, conversations, users and auth.

A handler takes the sandbox state and the decoded arguments and returns the success body,
or raises :class:`~bot.sandbox.state.ApiError` for a Slack error answer. Contract checks
(required arguments, argument groups, Block Kit) already ran before a handler is called.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sandbox.blockkit import check_attachments, check_message_blocks, check_view, with_generated_ids
from bot.sandbox.state import ApiError, Channel, SandboxState

Handler = Callable[[SandboxState, dict[str, Any]], dict[str, Any]]

JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")
WARNINGS = "_warnings"  # a handler's warnings, which the server puts in the answer as Slack does
TZ_LABELS = {
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "WET": "Western European Time",
    "WEST": "Western European Summer Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "IST": "India Standard Time",
    "UTC": "Coordinated Universal Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "JST": "Japan Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
}


# -- argument helpers ---------------------------------------------------------------------


def flag(value: Any) -> bool:
    """Slack's reading of a boolean argument (form values arrive as strings)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def decode_args(raw: dict[str, Any]) -> dict[str, Any]:
    """Arguments with JSON-valued ones (blocks, view, metadata, ...) decoded from strings when possible."""
    args = {k: v for k, v in raw.items() if k != "token"}
    for key in JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


def payload_problems(method: str, args: dict[str, Any]) -> ApiError | None:
    """Block Kit, view and metadata problems of a call, as the Slack error it would get."""
    blocks = args.get("blocks")
    if blocks is not None and not (isinstance(blocks, str) and not blocks):
        if isinstance(blocks, str):
            return ApiError("invalid_blocks_format", "[ERROR] blocks is not a valid JSON array", violation=True)
        problems = check_message_blocks(blocks)
        if problems:
            return ApiError("invalid_blocks", *(f"[ERROR] {p}" for p in problems), violation=True)
    if method.startswith("views.") and args.get("view") is not None:
        view = args["view"]
        if isinstance(view, str):
            return ApiError("invalid_arguments", "[ERROR] view is not a valid JSON object", violation=True)
        problems = check_view(view)
        if problems:
            return ApiError("invalid_blocks", *(f"[ERROR] {p}" for p in problems), violation=True)
    metadata = args.get("metadata")
    if metadata is not None and metadata != "":
        problem = metadata_problem(metadata)
        if problem:
            return ApiError("invalid_metadata_format", f"[ERROR] {problem}", violation=True)
    attachments = args.get("attachments")
    if isinstance(attachments, str) and attachments:
        return ApiError("invalid_attachments", "[ERROR] attachments is not a valid JSON array", violation=True)
    if attachments is not None and attachments != "":
        problems = check_attachments(attachments)
        if problems:
            return ApiError("invalid_attachments", *(f"[ERROR] {p}" for p in problems), violation=True)
    return None


BROADCASTS = ("<!channel", "<!here", "<!everyone", "<!subteam^")
TEXT_ARGS = ("text", "blocks", "view", "attachments")


NOT_RENDERED = ("value", "action_id", "block_id", "callback_id", "private_metadata", "external_id", "url",
                "image_url", "type", "style", "initial_value", "initial_date", "initial_user", "initial_channel")


def rendered_mrkdwn(args: dict[str, Any]) -> list[str]:
    """Every text of a call that Slack renders as mrkdwn (where mentions, pings and links come alive): the
    top-level ``text`` and every text object that is not ``plain_text``; ids, values and plain text are not."""
    found: list[str] = []
    stack: list[Any] = [args.get(name) for name in TEXT_ARGS]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            if value.get("type") in ("plain_text", "raw_text"):  # shown as typed: no mentions, no links
                continue
            stack.extend(v for k, v in value.items() if k not in NOT_RENDERED)
    return found


def broadcast_mentions(args: dict[str, Any]) -> list[str]:
    """The @channel, @here, @everyone and user-group mentions in a call's mrkdwn. Slack would deliver them; the
    product never sends one (user text is escaped), so the sandbox records each as a violation."""
    return [b for text in rendered_mrkdwn(args) for b in BROADCASTS if b in text]


def _flat(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str | int | float | bool) for v in value.values())


def metadata_schema_problem(metadata: Any) -> str | None:
    """Why Slack would drop this metadata (rule metadata-schema): each event_payload value is a string,
    number, boolean, flat object or array of flat objects."""
    if not isinstance(metadata, dict) or "entities" in metadata:
        return None
    for key, value in (metadata.get("event_payload") or {}).items():
        if isinstance(value, str | int | float | bool) or _flat(value):
            continue
        if isinstance(value, list) and all(_flat(item) for item in value):
            continue
        return f"event_payload.{key} is not a string, number, boolean, flat object or array of flat objects"
    return None


def keep_metadata(args: dict[str, Any]) -> list[str]:
    """Drop metadata Slack would not accept, as Slack does; the warnings the answer carries."""
    if metadata_schema_problem(args.get("metadata")):
        args.pop("metadata", None)
        return ["invalid_metadata_schema"]
    return []


def metadata_problem(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return "metadata must be a JSON object with event_type and event_payload"
    if "entities" in metadata:
        return None if isinstance(metadata["entities"], list) else "metadata.entities must be an array"
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        return "metadata.event_type must be a non-empty string"
    if not isinstance(metadata.get("event_payload"), dict):
        return "metadata.event_payload must be a JSON object"
    return None


def cursor_offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().removeprefix("offset:"))
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc


def make_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


# -- messages -----------------------------------------------------------------------------


def build_message(state: SandboxState, args: dict[str, Any], ts: str) -> dict[str, Any]:
    """A message as Slack stores and returns it, posted by the app's bot user."""
    message: dict[str, Any] = {
        "type": "message",
        "ts": ts,
        "user": state.bot_user_id,
        "bot_id": state.bot_id,
        "app_id": state.app_id,
        "team": state.team_id,
        "text": args.get("text") or args.get("markdown_text") or "",
    }
    if isinstance(args.get("blocks"), list) and args["blocks"]:
        message["blocks"] = with_generated_ids(args["blocks"])
    if isinstance(args.get("attachments"), list) and args["attachments"]:
        message["attachments"] = args["attachments"]
    if isinstance(args.get("metadata"), dict):
        message["metadata"] = args["metadata"]
    if args.get("thread_ts"):
        message["thread_ts"] = str(args["thread_ts"])
        if flag(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
    for key in ("username", "icon_emoji", "icon_url"):
        if args.get(key):
            message.setdefault("bot_profile", {})[key] = args[key]
    return message


def hidden_from_bot(channel: Channel) -> bool:
    """A private channel, group DM or DM the bot is not in does not exist for it (Slack: channel_not_found)."""
    return (channel.is_private or channel.is_im or channel.is_mpim) and not channel.bot_is_member


def writable_channel(state: SandboxState, target: Any, *, members_only: bool = False) -> Channel:
    """Where the bot may post, as Slack decides for a bot token with chat:write.public: any public channel
    (``members_only``: only one it is in, as for ephemerals and file shares), private ones it is in,
    never an archived one. Rules post-private-hidden, post-archived, ephemeral-needs-membership and
    upload-needs-membership of the contract data."""
    channel = state.resolve_post_target(target)
    if channel is None or hidden_from_bot(channel):
        raise ApiError("channel_not_found")
    if channel.is_archived:
        raise ApiError("is_archived")
    if members_only and not channel.bot_is_member:
        raise ApiError("not_in_channel")
    return channel


def readable_channel(state: SandboxState, channel_id: Any, *, not_member: str = "not_in_channel") -> Channel:
    """A channel whose messages the bot may read: only one it is in (rules history-needs-membership,
    history-private-hidden, replies-private-hidden)."""
    channel = known_channel(state, channel_id)
    if hidden_from_bot(channel):
        raise ApiError("channel_not_found")
    if not channel.bot_is_member:
        raise ApiError(not_member)
    return channel


def known_channel(state: SandboxState, channel_id: Any) -> Channel:
    channel = state.channel_by_id(channel_id)
    if channel is None:
        raise ApiError("channel_not_found")
    return channel


def public_message(message: dict[str, Any], include_metadata: bool = True) -> dict[str, Any]:
    data = {k: v for k, v in message.items() if include_metadata or k != "metadata"}
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied


def post_message(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = writable_channel(state, args.get("channel"))
        thread_ts = args.get("thread_ts")
        if thread_ts and state.find(channel.id, str(thread_ts)) is None:
            state.violate("chat.postMessage", "thread_not_found",
                          f"thread_ts {thread_ts} matches no message in {channel.id}")
        warnings = keep_metadata(args)
        message = state.store_message(channel, build_message(state, args, state.next_ts()))
        return {"channel": channel.id, "ts": message["ts"], "message": public_message(message),
                **({WARNINGS: warnings} if warnings else {})}


def update_message(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = known_channel(state, args.get("channel"))
        message = state.find(channel.id, args.get("ts"))
        if message is None:
            raise ApiError("message_not_found")
        if message.get("user") != state.bot_user_id:
            raise ApiError("cant_update_message")
        if args.get("text") is not None or args.get("markdown_text") is not None:
            message["text"] = args.get("text") or args.get("markdown_text") or ""
        for key in ("blocks", "attachments"):
            if isinstance(args.get(key), list):
                if args[key]:
                    message[key] = with_generated_ids(args[key]) if key == "blocks" else args[key]
                else:
                    message.pop(key, None)
        warnings = keep_metadata(args)
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        message["edited"] = {"user": state.bot_user_id, "ts": state.next_ts()}
        return {"channel": channel.id, "ts": message["ts"], "text": message["text"],
                "message": public_message(message), **({WARNINGS: warnings} if warnings else {})}


def delete_message(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = known_channel(state, args.get("channel"))
        message = state.find(channel.id, args.get("ts"))
        if message is None:
            raise ApiError("message_not_found")
        if message.get("user") != state.bot_user_id:
            raise ApiError("cant_delete_message")
        state.remove_message(channel.id, message["ts"])
        return {"channel": channel.id, "ts": message["ts"]}


def post_ephemeral(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = writable_channel(state, args.get("channel"), members_only=True)
        user = args.get("user")
        if user not in state.users or (channel.members and user not in channel.members):
            raise ApiError("user_not_in_channel")
        message = build_message(state, args, state.next_ts())
        message.update(channel=channel.id, recipient=user, is_ephemeral=True)
        state.ephemeral.append(message)
        return {"message_ts": message["ts"]}


def schedule_message(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = writable_channel(state, args.get("channel"))
        post_at = as_int(args.get("post_at"), 0)
        now = int(time.time())
        if post_at <= now:
            raise ApiError("time_in_past")
        if post_at > now + 120 * 86400:
            raise ApiError("time_too_far")
        scheduled_id = state.new_id("Q")
        message = build_message(state, args, "")
        message.pop("ts")
        state.scheduled.append({"id": scheduled_id, "channel": channel.id, "post_at": post_at, "message": message})
        return {"channel": channel.id, "scheduled_message_id": scheduled_id, "post_at": post_at,
                "message": public_message(message)}


def get_permalink(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = known_channel(state, args.get("channel"))
        message = state.find(channel.id, args.get("message_ts"))
        if message is None:
            raise ApiError("message_not_found")
        link = f"https://{state.team_domain}.slack.com/archives/{channel.id}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}


def add_reaction(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = known_channel(state, args.get("channel"))
        message = state.find(channel.id, args.get("timestamp"))
        if message is None:
            raise ApiError("message_not_found")
        name = str(args.get("name", "")).strip(":")
        reactions = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if state.bot_user_id in reaction["users"]:
                    raise ApiError("already_reacted")
                reaction["users"].append(state.bot_user_id)
                reaction["count"] += 1
                return {}
        reactions.append({"name": name, "users": [state.bot_user_id], "count": 1})
        return {}


# -- conversations ------------------------------------------------------------------------


def _window(messages: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    oldest = as_float(args.get("oldest"), 0.0)
    latest = as_float(args.get("latest"), float("inf"))
    inclusive = flag(args.get("inclusive"))
    if inclusive:
        return [m for m in messages if oldest <= float(m["ts"]) <= latest]
    return [m for m in messages if oldest < float(m["ts"]) < latest]


def _page(messages: list[dict[str, Any]], args: dict[str, Any], cap: int | None = None) -> dict[str, Any]:
    limit = max(1, min(as_int(args.get("limit"), 100) or 100, 999, cap or 999))
    offset = cursor_offset(args.get("cursor"))
    page = messages[offset:offset + limit]
    more = offset + limit < len(messages)
    include = flag(args.get("include_all_metadata"))
    return {
        "messages": [public_message(m, include_metadata=include) for m in page],
        "has_more": more,
        "response_metadata": {"next_cursor": make_cursor(offset + limit) if more else ""},
    }


def history(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = readable_channel(state, args.get("channel"))
        messages = list(reversed(_window(state.top_level(channel.id), args)))
        body = _page(messages, args, state.history_cap)
        body["pin_count"] = 0
        return body


def replies(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = readable_channel(state, args.get("channel"), not_member="channel_not_found")
        thread = state.thread_of(channel.id, str(args.get("ts")))
        if not thread:
            raise ApiError("thread_not_found")
        root, rest = thread[0], _window(thread[1:], args)
        return _page([root, *rest], args, state.history_cap)


def open_conversation(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        if args.get("channel"):
            channel = known_channel(state, args["channel"])
            return {"channel": channel.to_api() if flag(args.get("return_im")) else {"id": channel.id}}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("users_list_not_supplied")
        for user in users:
            if user not in state.users:
                raise ApiError("user_not_found")
        if len(users) == 1:
            existed = (("D" if users[0].startswith("U") else "DW") + users[0][1:]) in state.channels
            channel = state.dm_channel_for(users[0])
        else:
            channel_id = "G" + "".join(sorted(u[1:4] for u in users)).upper()
            existed = channel_id in state.channels
            channel = state.channels.setdefault(
                channel_id, Channel(id=channel_id, name=f"mpdm-{'--'.join(sorted(users))}", is_mpim=True,
                                    members=[*users, state.bot_user_id]))
            state.messages.setdefault(channel_id, [])
        body: dict[str, Any] = {"channel": channel.to_api() if flag(args.get("return_im")) else {"id": channel.id}}
        if existed:
            body.update(no_op=True, already_open=True)
        return body


def conversation_info(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        channel = known_channel(state, args.get("channel"))
        if hidden_from_bot(channel):  # rule info-private-hidden
            raise ApiError("channel_not_found")
        return {"channel": channel.to_api()}


def join_conversation(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    """conversations.join with channels:join: public channels only (rules join-public-only, join-archived)."""
    with state.lock:
        channel = known_channel(state, args.get("channel"))
        if channel.is_private or channel.is_im or channel.is_mpim:
            raise ApiError("channel_not_found" if hidden_from_bot(channel) else "method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        body: dict[str, Any] = {}
        if channel.bot_is_member:
            body["already_in_channel"] = True
        channel.bot_is_member = True
        if state.bot_user_id not in channel.members:
            channel.members.append(state.bot_user_id)
        return {"channel": channel.to_api(), **body}


def list_conversations(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    wanted = set(str(args.get("types") or "public_channel").split(","))
    exclude_archived = flag(args.get("exclude_archived"))
    with state.lock:
        result = []
        for channel in state.channels.values():
            kind = ("im" if channel.is_im else "mpim" if channel.is_mpim
                    else "private_channel" if channel.is_private else "public_channel")
            if kind in wanted and not (exclude_archived and channel.is_archived):
                result.append(channel.to_api())
        return {"channels": result, "response_metadata": {"next_cursor": ""}}


def members(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        return {"members": list(known_channel(state, args.get("channel")).members),
                "response_metadata": {"next_cursor": ""}}


# -- users and auth -----------------------------------------------------------------------


def user_payload(state: SandboxState, user_id: str) -> dict[str, Any]:
    user = state.users[user_id]
    try:
        now = datetime.now(ZoneInfo(user.tz))
        delta = now.utcoffset()
        offset = int(delta.total_seconds()) if delta is not None else 0
        abbreviation = now.tzname() or user.tz
    except ZoneInfoNotFoundError:
        offset, abbreviation = 0, user.tz
    profile: dict[str, Any] = {"real_name": user.real_name, "display_name": user.name,
                               "real_name_normalized": user.real_name, "display_name_normalized": user.name}
    if user.email:
        profile["email"] = user.email
    return {
        "id": user.id, "team_id": state.team_id, "name": user.name, "deleted": user.deleted,
        "real_name": user.real_name, "tz": user.tz, "tz_label": TZ_LABELS.get(abbreviation, abbreviation),
        "tz_offset": offset, "is_admin": user.is_admin, "is_owner": user.is_owner, "is_bot": user.is_bot,
        "is_app_user": False, "profile": profile,
    }


def users_info(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        user_id = args.get("user")
        if user_id not in state.users:
            raise ApiError("user_not_found")
        body = {"user": user_payload(state, user_id)}
        if flag(args.get("include_locale")):
            body["user"]["locale"] = "en-US"
        return body


def users_lookup_by_email(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        for user in state.users.values():
            if user.email and user.email.lower() == str(args.get("email", "")).lower():
                return {"user": user_payload(state, user.id)}
        raise ApiError("users_not_found")


def users_list(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        return {"members": [user_payload(state, u) for u in state.users], "response_metadata": {"next_cursor": ""}}


def auth_test(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": f"https://{state.team_domain}.slack.com/", "team": state.team_domain, "user": "readiness",
        "team_id": state.team_id, "user_id": state.bot_user_id, "bot_id": state.bot_id,
        "app_id": state.app_id, "is_enterprise_install": False,
    }


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.update": update_message,
    "chat.delete": delete_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.scheduleMessage": schedule_message,
    "chat.getPermalink": get_permalink,
    "reactions.add": add_reaction,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.open": open_conversation,
    "conversations.info": conversation_info,
    "conversations.join": join_conversation,
    "conversations.list": list_conversations,
    "conversations.members": members,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "users.list": users_list,
}
