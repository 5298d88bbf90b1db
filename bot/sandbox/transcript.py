"""Render what the sandbox recorded as the text people would have read in Slack (for the demo)."""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_USER = re.compile(r"<@([A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")


def mrkdwn_to_text(text: str, names: Callable[[str], str]) -> str:
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _USER.sub(lambda m: "@" + names(m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + names(m.group(1)), text)
    text = re.sub(r":([a-z0-9_+-]+):", lambda m: _EMOJI.get(m.group(1), ""), text)
    return html.unescape(text).replace("*", "").replace("_", " ").replace("  ", " ").strip()


_EMOJI = {
    "large_green_circle": "(green)", "large_yellow_circle": "(yellow)", "large_orange_circle": "(orange)",
    "red_circle": "(red)", "white_circle": "( )", "white_check_mark": "[ok]", "warning": "[!]", "x": "[x]",
    "no_entry": "(!)", "rotating_light": "[ALERT]", "tada": "",
}


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def blocks_to_lines(blocks: Iterable[dict[str, Any]], names: Callable[[str], str]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'))} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(mrkdwn_to_text(_text(block["text"]), names).splitlines())
            fields = [mrkdwn_to_text(_text(f), names).replace("\n", ": ") for f in block.get("fields", [])]
            if fields:
                lines.append(" | ".join(fields))
        elif kind == "context":
            lines.append("  " + " ".join(mrkdwn_to_text(_text(e), names) for e in block.get("elements", [])))
        elif kind == "actions":
            lines.append("  " + " ".join(f"[{_text(e.get('text'))}]" for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("  ---")
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"  <{_text(block.get('label'))}{optional}>")
    return lines


def indent(lines: list[str], prefix: str = "    ", width: int = 110) -> str:
    out = []
    for line in lines:
        wrapped = textwrap.wrap(line, width=width - len(prefix)) or [""]
        out.extend(prefix + w for w in wrapped)
    return "\n".join(out)
