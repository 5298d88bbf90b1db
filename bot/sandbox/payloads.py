"""Interaction payload pieces exactly as Slack shapes them: ``actions[]`` entries and ``state.values``.

Used by the driver. A value a person could not produce in Slack's client (an option that is
not offered, a user that does not exist, text longer than ``max_length``, a missing required
input) raises :class:`DriverError` instead of producing a payload Slack would never send.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from bot.sandbox.blockkit import element_slots


class DriverError(AssertionError):
    """The test asked for an interaction Slack's client would not allow."""


# element type -> (state key, initial-value key, kind of value)
STATE_FIELDS: dict[str, tuple[str, str | None, str]] = {
    "plain_text_input": ("value", "initial_value", "text"),
    "number_input": ("value", "initial_value", "number"),
    "url_text_input": ("value", "initial_value", "url"),
    "email_text_input": ("value", "initial_value", "email"),
    "static_select": ("selected_option", "initial_option", "option"),
    "external_select": ("selected_option", "initial_option", "option"),
    "radio_buttons": ("selected_option", "initial_option", "option"),
    "multi_static_select": ("selected_options", "initial_options", "options"),
    "multi_external_select": ("selected_options", "initial_options", "options"),
    "checkboxes": ("selected_options", "initial_options", "options"),
    "users_select": ("selected_user", "initial_user", "user"),
    "multi_users_select": ("selected_users", "initial_users", "users"),
    "conversations_select": ("selected_conversation", "initial_conversation", "channel"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", "channels"),
    "channels_select": ("selected_channel", "initial_channel", "channel"),
    "multi_channels_select": ("selected_channels", "initial_channels", "channels"),
    "datepicker": ("selected_date", "initial_date", "date"),
    "timepicker": ("selected_time", "initial_time", "time"),
    "datetimepicker": ("selected_date_time", "initial_date_time", "int"),
    "rich_text_input": ("rich_text_value", "initial_value", "rich"),
    "file_input": ("files", None, "files"),
}
MULTI_KINDS = ("options", "users", "channels", "files")


def element_options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: Mapping[str, Any], value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        value = value.get("value")
    for option in element_options(element):
        if option.get("value") == value:
            chosen = {"text": option.get("text"), "value": option.get("value")}
            if option.get("description") is not None:
                chosen["description"] = option["description"]
            return chosen
    if element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}
    offered = [o.get("value") for o in element_options(element)]
    raise DriverError(f"{where}: option {value!r} is not offered (options: {offered})")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value)


def convert_value(element: Mapping[str, Any], value: Any, where: str, known_user: Callable[[str], bool],
                  known_channel: Callable[[str], bool]) -> Any:
    """A test's Python value as the element's state entry, checked like Slack's client would."""
    kind = STATE_FIELDS[element["type"]][2]
    if kind == "text":
        text = str(value)
        if element.get("max_length") is not None and len(text) > int(element["max_length"]):
            raise DriverError(f"{where}: {len(text)} characters exceed max_length {element['max_length']}")
        if element.get("min_length") is not None and len(text) < int(element["min_length"]):
            raise DriverError(f"{where}: {len(text)} characters are below min_length {element['min_length']}")
        return text
    if kind == "number":
        text = str(value)
        try:
            number = float(text)
        except ValueError as exc:
            raise DriverError(f"{where}: {text!r} is not a number") from exc
        if not element.get("is_decimal_allowed") and not number.is_integer():
            raise DriverError(f"{where}: decimals are not allowed")
        low, high = element.get("min_value"), element.get("max_value")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise DriverError(f"{where}: {text} is outside [{low}, {high}]")
        return text
    if kind == "url":
        text = str(value)
        if urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).netloc:
            raise DriverError(f"{where}: {text!r} is not a URL Slack's client would accept")
        return text
    if kind == "email":
        text = str(value)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
            raise DriverError(f"{where}: {text!r} is not an email address Slack's client would accept")
        return text
    if kind == "option":
        return _option(element, value, where)
    if kind == "options":
        return [_option(element, v, where) for v in _as_list(value)]
    if kind in ("user", "users"):
        users = _as_list(value)
        for user in users:
            if not known_user(str(user)):
                raise DriverError(f"{where}: user {user!r} is not in the sandbox workspace")
        return users[0] if kind == "user" and users else users
    if kind in ("channel", "channels"):
        channels = _as_list(value)
        for channel in channels:
            if not known_channel(str(channel)):
                raise DriverError(f"{where}: conversation {channel!r} is not in the sandbox workspace")
        return channels[0] if kind == "channel" and channels else channels
    if kind == "date":
        text = value.isoformat()[:10] if isinstance(value, dt.date) else str(value)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise DriverError(f"{where}: {text!r} is not a YYYY-MM-DD date")
        return text
    if kind == "time":
        text = value.strftime("%H:%M") if isinstance(value, dt.time) else str(value)
        if not re.fullmatch(r"\d{2}:\d{2}", text):
            raise DriverError(f"{where}: {text!r} is not an HH:MM time")
        return text
    if kind == "int":
        return int(value.timestamp()) if isinstance(value, dt.datetime) else int(value)
    if kind == "rich":
        if isinstance(value, Mapping):
            return dict(value)
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}
        return {"type": "rich_text", "elements": [section]}
    return list(value or [])


def initial_value(element: Mapping[str, Any]) -> Any:
    """The element's state before the user touches it (its initial value, or nothing)."""
    key, initial_key, kind = STATE_FIELDS[element["type"]]
    initial = element.get(initial_key) if initial_key else None
    if kind == "option" and isinstance(initial, Mapping):
        return {"text": initial.get("text"), "value": initial.get("value")}
    if kind in MULTI_KINDS:
        return list(initial or [])
    return initial


def stateful_elements(blocks: Iterable[Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every element that keeps state (inputs, selects, pickers)."""
    found = []
    for block in blocks:
        if isinstance(block, dict):
            for _, element in element_slots(block):
                if isinstance(element, dict) and element.get("type") in STATE_FIELDS:
                    found.append((block, element))
    return found


def chosen_from_state(view_state: Mapping[str, Any] | None) -> dict[tuple[str, str], Any]:
    """The selections held in a ``state`` object, keyed by (block_id, action_id)."""
    chosen: dict[tuple[str, str], Any] = {}
    for block_id, actions in ((view_state or {}).get("values") or {}).items():
        for action_id, entry in (actions or {}).items():
            key = STATE_FIELDS.get(str(entry.get("type")), ("",))[0]
            if key and key in entry:
                chosen[(str(block_id), str(action_id))] = entry[key]
    return chosen


def build_state(blocks: list[Any], chosen: Mapping[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    """``state`` as Slack sends it: ``{"values": {block_id: {action_id: {"type": ..., <key>: ...}}}}``."""
    values: dict[str, dict[str, Any]] = {}
    for block, element in stateful_elements(blocks):
        key = STATE_FIELDS[element["type"]][0]
        ids = (str(block.get("block_id")), str(element.get("action_id")))
        entry = {"type": element["type"], key: (chosen or {}).get(ids, initial_value(element))}
        values.setdefault(str(block.get("block_id")), {})[str(element.get("action_id"))] = entry
    return {"values": values}


def action_payload(block: Mapping[str, Any], element: Mapping[str, Any], value: Any, where: str,
                   known_user: Callable[[str], bool], known_channel: Callable[[str], bool]) -> dict[str, Any]:
    """One ``actions[]`` entry of a ``block_actions`` payload for a click on / choice in ``element``."""
    kind = element.get("type")
    if block.get("type") == "input" and not block.get("dispatch_action"):
        raise DriverError(f"{where}: block {block.get('block_id')!r} is an input block without dispatch_action; "
                          "Slack sends no block_actions for it (give its value to submit_view instead)")
    action: dict[str, Any] = {
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "type": kind,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        if value is not None and value != element.get("value"):
            raise DriverError(f"{where}: the button's value is {element.get('value')!r}, not {value!r}; "
                              "a click sends the value the app put on the button")
        action["text"] = element.get("text")
        if element.get("value") is not None:
            action["value"] = element["value"]
        if element.get("style"):
            action["style"] = element["style"]
        return action
    if kind == "overflow":
        action["selected_option"] = _option(element, value, where)
        return action
    if kind == "workflow_button":
        return action
    if kind not in STATE_FIELDS:
        raise DriverError(f"{where}: the driver cannot interact with a {kind!r} element")
    key = STATE_FIELDS[str(kind)][0]
    if value is None and STATE_FIELDS[str(kind)][2] not in MULTI_KINDS:
        raise DriverError(f"{where}: choosing in a {kind} needs a value")
    action[key] = convert_value(element, value, where, known_user, known_channel)
    if element.get("placeholder") is not None:
        action["placeholder"] = element["placeholder"]
    return action


def find_element(blocks: list[Any], action_id: str, block_id: str | None,
                 where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The interactive element with ``action_id`` (in ``block_id`` if given); loud when absent."""
    available = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for _, element in element_slots(block):
            if not isinstance(element, dict) or element.get("type") in ("image", "plain_text", "mrkdwn"):
                continue
            available.append((block.get("block_id"), element.get("action_id")))
            if element.get("action_id") == action_id and (block_id is None or block.get("block_id") == block_id):
                return block, element
    wanted = f"action_id={action_id!r}" + (f" in block_id={block_id!r}" if block_id else "")
    raise DriverError(f"{where}: no interactive element with {wanted}; it shows (block_id, action_id): {available}")
