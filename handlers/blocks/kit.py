"""Minimal Block Kit element constructors (plain dicts, as the Web API takes them)."""

from __future__ import annotations

from typing import Any

from handlers.blocks.text import HEADER_LIMIT, SECTION_TEXT_LIMIT, clip, split_lines

Block = dict[str, Any]


def plain(text: str, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, SECTION_TEXT_LIMIT)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(clip(text, HEADER_LIMIT))}


def section(text: str, block_id: str | None = None, fields: list[str] | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [mrkdwn(clip(f, 2000)) for f in fields[:10]]
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [mrkdwn(clip(t, 3000)) for t in texts[:10] if t]}
    if block_id:
        block["block_id"] = block_id
    return block


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str | None = None, style: str | None = None,
           url: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(clip(text, 75)), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if url is not None:
        element["url"] = url
    if style:
        element["style"] = style
    return element


def actions(elements: list[dict[str, Any]], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": elements}
    if block_id:
        block["block_id"] = block_id
    return block


def text_input(
    block_id: str,
    label: str,
    *,
    action_id: str,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    placeholder: str | None = None,
    max_length: int | None = None,
    hint: str | None = None,
) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(clip(placeholder, 150))
    if max_length:
        element["max_length"] = max_length
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(clip(label, 2000)),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(clip(hint, 2000))
    return block


def input_block(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element, "optional": optional}
    if hint:
        block["hint"] = plain(clip(hint, 2000))
    return block


def modal(callback_id: str, title: str, blocks: list[Block], *, submit: str, private_metadata: str,
          notify_on_close: bool = False) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(clip(title, 24)),
        "submit": plain(clip(submit, 24)),
        "close": plain("Cancel"),
        "blocks": blocks,
        "private_metadata": private_metadata,
        "notify_on_close": notify_on_close,
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only tells something (a form that is loading, or why it cannot be shown)."""
    return {"type": "modal", "title": plain(clip(title, 24)), "close": plain("Close"), "blocks": [section(text)]}


def loading_modal() -> dict[str, Any]:
    return notice_modal("Readiness", ":hourglass_flowing_sand: Loading…")


def sections_of(lines: list[str], max_blocks: int, more: str = "more not shown") -> list[Block]:
    """Lines as few sections as fit Slack's text limit, at most ``max_blocks``: never cut silently."""
    chunks = split_lines(lines)
    if len(chunks) <= max_blocks:
        return [section(c) for c in chunks]
    kept = chunks[: max_blocks - 1]
    shown = sum(c.count("\n") + 1 for c in kept)
    return [section(c) for c in kept] + [section(f"_…and {len(lines) - shown} {more}._")]


def overflow(action_id: str, options: list[tuple[str, str]]) -> dict[str, Any]:
    """An overflow menu (⋮) of (label, value) options; Slack allows 2 to 5."""
    return {"type": "overflow", "action_id": action_id,
            "options": [{"text": plain(clip(label, 75)), "value": value} for label, value in options[:5]]}
