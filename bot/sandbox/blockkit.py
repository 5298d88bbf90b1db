"""Block Kit checks: what Slack would refuse in a message's blocks or in a view.

Pure functions, no I/O. Each returns a list of readable problems (empty when the payload is
fine). Two layers:

* explicit limits from Slack's Block Kit reference (block counts, text lengths, id lengths,
  duplicate ids, plain_text-only fields, unknown block/element types, input placement);
* ``slack_sdk.models`` parsing and validation (``Block.parse``/``View`` + ``to_dict()``,
  which runs every model's validators), reported for a block only when the explicit layer
  found nothing there, so one mistake is reported once.
"""

from __future__ import annotations

import copy
import functools
import json
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.blocks.block_elements import BlockElement, InputInteractiveElement
from slack_sdk.models.views import View

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
SECTION_FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_VALUE_MAX = 2000
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3000
ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
CONTEXT_ELEMENTS_MAX = 10
INPUT_LABEL_MAX = 2000
INPUT_HINT_MAX = 2000
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
EXTERNAL_ID_MAX = 255
VIEW_TITLE_MAX = 24
VIEW_BUTTON_TEXT_MAX = 24
VIEW_TYPES = ("modal", "home")
# the table block (Slack's table block reference): rows, cells a row, column settings, one table a message,
# carried in the message's attachments; and the characters across a table's cells, as Slack enforces them.
# Slack gives that limit in "characters" without saying what one is (a code point, a UTF-16 unit as JavaScript
# counts, or a byte), and emoji-heavy text has been refused under a count of code points; the sandbox counts
# UTF-8 bytes (table_size), the strictest of the three, so a table it accepts is within the limit however
# Slack counts.
TABLE_ROWS_MAX = 100
TABLE_CELLS_MAX = 20
TABLE_COLUMN_SETTINGS_MAX = 20
TABLE_CHARS_MAX = 10_000
TABLES_PER_MESSAGE = 1
TABLE_ALIGN = ("left", "center", "right")
ATTACHMENTS_MAX = 100

ELEMENT_TYPES: frozenset[str] = frozenset(
    t for c in BlockElement._get_sub_block_elements() if isinstance(t := getattr(c, "type", None), str)
)
INPUT_ELEMENT_TYPES: frozenset[str] = frozenset(
    t for c in InputInteractiveElement._get_sub_block_elements() if isinstance(t := getattr(c, "type", None), str)
)
NON_INTERACTIVE_ELEMENT_TYPES = frozenset({"image", "plain_text", "mrkdwn"})


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, Mapping):
        value = obj.get("text")
        return value if isinstance(value, str) else None
    return obj if isinstance(obj, str) else None


def _check_plain_text(obj: Any, where: str, limit: int, problems: list[str], *, required: bool = True) -> None:
    if obj is None:
        if required:
            problems.append(f"{where}: missing (a plain_text object is required)")
        return
    if not isinstance(obj, Mapping):
        problems.append(f"{where}: must be a plain_text object")
        return
    if obj.get("type") != "plain_text":
        problems.append(f"{where}: must be of type plain_text, got {obj.get('type')!r}")
    text = _text_of(obj)
    if not text:
        problems.append(f"{where}: text must be a non-empty string")
    elif len(text) > limit:
        problems.append(f"{where}: text is {len(text)} characters; the limit is {limit}")


def _check_id(value: Any, where: str, problems: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: must be a non-empty string")
    elif len(value) > ID_MAX:
        problems.append(f"{where}: is {len(value)} characters; the limit is {ID_MAX}")


def element_slots(block: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The (path suffix, element) pairs a block holds elements in."""
    kind = block.get("type")
    if kind == "section" and block.get("accessory") is not None:
        return [("accessory", block["accessory"])]
    if kind == "input" and block.get("element") is not None:
        return [("element", block["element"])]
    if kind in ("actions", "context") and isinstance(block.get("elements"), list):
        return [(f"elements[{i}]", e) for i, e in enumerate(block["elements"])]
    return []


def iter_interactive_elements(blocks: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (block, element) for every interactive element (anything with an action) in ``blocks``."""
    if not isinstance(blocks, list):
        return
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for _, element in element_slots(block):
            if isinstance(element, dict) and element.get("type") not in NON_INTERACTIVE_ELEMENT_TYPES:
                yield block, element


def _check_options(element: Mapping[str, Any], where: str, problems: list[str]) -> None:
    options: list[Any] = []
    if isinstance(element.get("options"), list):
        options.extend(element["options"])
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping) and isinstance(group.get("options"), list):
            options.extend(group["options"])
    if len(options) > OPTIONS_MAX:
        problems.append(f"{where}: has {len(options)} options; the limit is {OPTIONS_MAX}")
    seen: set[str] = set()
    for index, option in enumerate(options):
        if not isinstance(option, Mapping):
            problems.append(f"{where}.options[{index}]: must be an object")
            continue
        text = _text_of(option.get("text"))
        if text is not None and len(text) > OPTION_TEXT_MAX:
            problems.append(f"{where}.options[{index}]: text is {len(text)} characters; the limit is {OPTION_TEXT_MAX}")
        value = option.get("value")
        if isinstance(value, str):
            if len(value) > OPTION_VALUE_MAX:
                problems.append(
                    f"{where}.options[{index}]: value is {len(value)} characters; the limit is {OPTION_VALUE_MAX}"
                )
            if value in seen:
                problems.append(f"{where}.options[{index}]: duplicate option value {value!r}")
            seen.add(value)


def _check_element(element: Any, where: str, block_type: str, problems: list[str]) -> None:
    if not isinstance(element, Mapping):
        problems.append(f"{where}: must be an object")
        return
    kind = element.get("type")
    if kind not in ELEMENT_TYPES and kind not in NON_INTERACTIVE_ELEMENT_TYPES:
        problems.append(f"{where}: unknown element type {kind!r}")
        return
    if block_type == "input" and kind not in INPUT_ELEMENT_TYPES:
        problems.append(f"{where}: a {kind!r} element cannot be used in an input block")
    if block_type == "context" and kind not in NON_INTERACTIVE_ELEMENT_TYPES:
        problems.append(f"{where}: context blocks hold only image and text elements, got {kind!r}")
    _check_id(element.get("action_id"), f"{where}.action_id", problems)
    if kind == "button":
        _check_plain_text(element.get("text"), f"{where}.text", BUTTON_TEXT_MAX, problems)
        value = element.get("value")
        if isinstance(value, str) and len(value) > BUTTON_VALUE_MAX:
            problems.append(f"{where}.value: is {len(value)} characters; the limit is {BUTTON_VALUE_MAX}")
        url = element.get("url")
        if isinstance(url, str) and len(url) > BUTTON_URL_MAX:
            problems.append(f"{where}.url: is {len(url)} characters; the limit is {BUTTON_URL_MAX}")
    if "options" in element or "option_groups" in element:
        _check_options(element, where, problems)


def _check_block(block: Any, where: str, problems: list[str]) -> None:
    """Explicit checks for one block; appends to ``problems``."""
    if not isinstance(block, Mapping):
        problems.append(f"{where}: must be an object")
        return
    kind = block.get("type")
    if not isinstance(kind, str):
        problems.append(f"{where}: missing block type")
        return
    _check_id(block.get("block_id"), f"{where}.block_id", problems)
    if kind == "section":
        text = _text_of(block.get("text"))
        if text is not None and len(text) > SECTION_TEXT_MAX:
            problems.append(f"{where}.text: section text is {len(text)} characters; the limit is {SECTION_TEXT_MAX}")
        fields = block.get("fields")
        if isinstance(fields, list):
            if len(fields) > SECTION_FIELDS_MAX:
                problems.append(f"{where}.fields: has {len(fields)} fields; the limit is {SECTION_FIELDS_MAX}")
            for index, field in enumerate(fields):
                field_text = _text_of(field)
                if field_text is not None and len(field_text) > SECTION_FIELD_TEXT_MAX:
                    problems.append(
                        f"{where}.fields[{index}]: is {len(field_text)} characters; the limit is {SECTION_FIELD_TEXT_MAX}"
                    )
    elif kind == "header":
        _check_plain_text(block.get("text"), f"{where}.text", HEADER_TEXT_MAX, problems)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            problems.append(f"{where}.elements: an actions block needs at least one element")
        elif len(elements) > ACTIONS_ELEMENTS_MAX:
            problems.append(f"{where}.elements: has {len(elements)} elements; the limit is {ACTIONS_ELEMENTS_MAX}")
    elif kind == "context":
        elements = block.get("elements")
        if isinstance(elements, list) and len(elements) > CONTEXT_ELEMENTS_MAX:
            problems.append(f"{where}.elements: has {len(elements)} elements; the limit is {CONTEXT_ELEMENTS_MAX}")
    elif kind == "table":
        _check_table(block, where, problems)
    elif kind == "input":
        _check_plain_text(block.get("label"), f"{where}.label", INPUT_LABEL_MAX, problems)
        if block.get("hint") is not None:
            _check_plain_text(block.get("hint"), f"{where}.hint", INPUT_HINT_MAX, problems)
        if block.get("element") is None:
            problems.append(f"{where}.element: an input block needs an element")
    action_ids: set[str] = set()
    for suffix, element in element_slots(block):
        _check_element(element, f"{where}.{suffix}", kind, problems)
        action_id = element.get("action_id") if isinstance(element, Mapping) else None
        if isinstance(action_id, str):
            if action_id in action_ids:
                problems.append(f"{where}.{suffix}.action_id: duplicate action_id {action_id!r} in the same block")
            action_ids.add(action_id)


def table_size(text: str) -> int:
    """A table cell's text as the sandbox counts it against TABLE_CHARS_MAX: its UTF-8 bytes, never fewer than its
    code points or UTF-16 units (an emoji is 4, a CJK character 3)."""
    return len(text.encode("utf-8", "surrogatepass"))


def _check_cell(cell: Any, where: str, problems: list[str]) -> int:
    """Problems of one table cell; returns its size (table_size)."""
    kind = cell.get("type") if isinstance(cell, Mapping) else None
    if kind == "raw_text":
        text = cell.get("text")
        if not isinstance(text, str) or not text:
            problems.append(f"{where}.text: a raw_text cell needs non-empty text")
            return 0
        return table_size(text)
    if kind == "rich_text":
        problem = _sdk_block_problem(cell)
        if problem:
            problems.append(f"{where}: {problem}")
        return table_size(json.dumps(cell.get("elements"), ensure_ascii=False))
    problems.append(f"{where}: a table cell is a raw_text or rich_text object, got {kind!r}")
    return 0


def _check_table(block: Mapping[str, Any], where: str, problems: list[str]) -> None:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        problems.append(f"{where}.rows: a table needs at least one row")
        return
    if len(rows) > TABLE_ROWS_MAX:
        problems.append(f"{where}.rows: has {len(rows)} rows; the limit is {TABLE_ROWS_MAX}")
    chars = 0
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            problems.append(f"{where}.rows[{i}]: a row is a non-empty array of cells")
            continue
        if len(row) > TABLE_CELLS_MAX:
            problems.append(f"{where}.rows[{i}]: has {len(row)} cells; the limit is {TABLE_CELLS_MAX}")
        chars += sum(_check_cell(cell, f"{where}.rows[{i}][{j}]", problems) for j, cell in enumerate(row))
    if chars > TABLE_CHARS_MAX:
        problems.append(f"{where}.rows: the cells hold {chars} characters counted as UTF-8 bytes; the limit is "
                        f"{TABLE_CHARS_MAX}")
    settings = block.get("column_settings")
    if settings is None:
        return
    if not isinstance(settings, list) or len(settings) > TABLE_COLUMN_SETTINGS_MAX:
        problems.append(f"{where}.column_settings: an array of at most {TABLE_COLUMN_SETTINGS_MAX} items")
        return
    for i, setting in enumerate(settings):
        at = f"{where}.column_settings[{i}]"
        if setting is None:
            continue
        if not isinstance(setting, Mapping) or set(setting) - {"align", "is_wrapped"}:
            problems.append(f"{at}: null or an object of align and is_wrapped")
        elif "align" in setting and setting["align"] not in TABLE_ALIGN:
            problems.append(f"{at}.align: one of {', '.join(TABLE_ALIGN)}, got {setting['align']!r}")
        elif "is_wrapped" in setting and not isinstance(setting["is_wrapped"], bool):
            problems.append(f"{at}.is_wrapped: must be a boolean")


def _tables(blocks: Any) -> int:
    return sum(1 for b in blocks if isinstance(b, Mapping) and b.get("type") == "table") \
        if isinstance(blocks, list) else 0


def _canonical(value: Any) -> str | None:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _sdk_block_problem(block: Mapping[str, Any]) -> str | None:
    """What slack_sdk's models say about one block (None when they accept it). The verdict on the
    same JSON is always the same, so it is remembered: the sandbox's checks should cost the machine
    it shares with the app (tests, benchmark) as little as they can."""
    key = _canonical(block)
    return _sdk_block_verdict(key) if key is not None else _sdk_block_check(block)


@functools.lru_cache(maxsize=4096)
def _sdk_block_verdict(key: str) -> str | None:
    return _sdk_block_check(json.loads(key))


def _sdk_block_check(block: Mapping[str, Any]) -> str | None:
    try:
        parsed = Block.parse(dict(block))
        if parsed is None:
            return f"unknown block type {block.get('type')!r}"
        parsed.to_dict()
    except Exception as exc:  # any model failure means Slack would refuse the block
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_block_list(blocks: Any, limit: int, surface: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"blocks: must be a JSON array of blocks, got {type(blocks).__name__}"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"blocks: {surface} has {len(blocks)} blocks; the limit is {limit}")
    seen_ids: dict[str, int] = {}
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        own: list[str] = []
        _check_block(block, where, own)
        if not own and isinstance(block, Mapping):
            sdk_problem = _sdk_block_problem(block)
            if sdk_problem:
                own.append(f"{where} ({block.get('type')}): {sdk_problem}")
        problems.extend(own)
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str):
            if block_id in seen_ids:
                problems.append(f"{where}.block_id: duplicate block_id {block_id!r} (also blocks[{seen_ids[block_id]}])")
            else:
                seen_ids[block_id] = index
    return problems


def check_message_blocks(blocks: Any) -> list[str]:
    """Problems Slack would report (as ``invalid_blocks``) for a message's ``blocks``."""
    problems = _check_block_list(blocks, MESSAGE_BLOCKS_MAX, "a message")
    if _tables(blocks):
        problems.append("blocks: a table block goes in the message's attachments (Slack's table block reference)")
    return problems


def check_attachments(attachments: Any) -> list[str]:
    """Problems Slack would report (as ``invalid_attachments``) for a message's ``attachments``: the blocks
    each one carries, and one table in the whole message at most."""
    if not isinstance(attachments, list):
        return [f"attachments: must be a JSON array, got {type(attachments).__name__}"]
    if len(attachments) > ATTACHMENTS_MAX:
        return [f"attachments: {len(attachments)} attachments; the limit is {ATTACHMENTS_MAX}"]
    problems: list[str] = []
    tables = 0
    for index, attachment in enumerate(attachments):
        if not isinstance(attachment, Mapping):
            problems.append(f"attachments[{index}]: must be an object")
            continue
        if "blocks" in attachment:
            problems += [f"attachments[{index}].{p}" for p in
                         _check_block_list(attachment["blocks"], MESSAGE_BLOCKS_MAX, "an attachment")]
            tables += _tables(attachment["blocks"])
    if tables > TABLES_PER_MESSAGE:
        problems.append(f"attachments: {tables} table blocks; a message holds at most {TABLES_PER_MESSAGE}")
    return problems


def check_view(view: Any) -> list[str]:
    """Problems Slack would report for a modal or home-tab view."""
    if not isinstance(view, Mapping):
        return [f"view: must be a JSON object, got {type(view).__name__}"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in VIEW_TYPES:
        problems.append(f"view.type: must be one of {', '.join(VIEW_TYPES)}, got {kind!r}")
    blocks = view.get("blocks")
    if blocks is None:
        problems.append("view.blocks: required")
    else:
        problems.extend(f"view.{p}" for p in _check_block_list(blocks, VIEW_BLOCKS_MAX, "a view"))
    if kind == "modal":
        _check_plain_text(view.get("title"), "view.title", VIEW_TITLE_MAX, problems)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _check_plain_text(view.get(key), f"view.{key}", VIEW_BUTTON_TEXT_MAX, problems)
        has_input = isinstance(blocks, list) and any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            problems.append("view.submit: a modal containing input blocks needs a submit button")
    elif kind == "home":
        for key in ("submit", "close"):
            if view.get(key) is not None:
                problems.append(f"view.{key}: a home tab cannot have a {key} button")
    limits = (
        ("private_metadata", PRIVATE_METADATA_MAX),
        ("callback_id", CALLBACK_ID_MAX),
        ("external_id", EXTERNAL_ID_MAX),
    )
    for key, limit in limits:
        value = view.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"view.{key}: must be a string")
        elif len(value) > limit:
            problems.append(f"view.{key}: is {len(value)} characters; the limit is {limit}")
    if not problems:
        key = _canonical(view)
        problem = _sdk_view_verdict(key) if key is not None else _sdk_view_check(view)
        if problem:
            problems.append(problem)
    return problems


@functools.lru_cache(maxsize=1024)
def _sdk_view_verdict(key: str) -> str | None:
    return _sdk_view_check(json.loads(key))


def _sdk_view_check(view: Mapping[str, Any]) -> str | None:
    try:
        View(**dict(view)).to_dict()
    except Exception as exc:  # the model refusing the view means Slack would too
        return f"view: {type(exc).__name__}: {exc}"
    return None


def with_generated_ids(blocks: Any) -> Any:
    """A copy of ``blocks`` with the ids Slack fills in: a ``block_id`` on every block and an
    ``action_id`` on every interactive element that lacks one (random, as Slack's are)."""
    if not isinstance(blocks, list):
        return blocks
    result = copy.deepcopy(blocks)
    for block in result:
        if not isinstance(block, dict):
            continue
        if not block.get("block_id"):
            block["block_id"] = secrets.token_urlsafe(4)
        for _, element in element_slots(block):
            if (isinstance(element, dict) and element.get("type") not in NON_INTERACTIVE_ELEMENT_TYPES
                    and not element.get("action_id")):
                element["action_id"] = secrets.token_urlsafe(4)
    return result
