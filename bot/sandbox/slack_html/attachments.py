"""What hangs under a message's blocks: legacy ``attachments`` (colour bar, pretext, author, title, text,
fields, footer, blocks such as tables), uploaded ``files`` and ``reactions``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.slack_html.blocks import blocks
from bot.sandbox.slack_html.context import Ctx
from bot.sandbox.slack_html.dates import day_and_time
from bot.sandbox.slack_html.mrkdwn import esc, link, mrkdwn, plain_text, with_emoji

COLOURS = {"good": "#2eb67d", "warning": "#ecb22e", "danger": "#e01e5a"}
HEX_COLOUR = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
DEFAULT_BAR = "#dddddd"


def bar_colour(value: Any) -> str:
    """An attachment's ``color`` as CSS: Slack's three names, or a hex value with or without ``#``."""
    if not isinstance(value, str):
        return DEFAULT_BAR
    if value in COLOURS:
        return COLOURS[value]
    found = HEX_COLOUR.match(value)
    return f"#{found.group(1)}" if found else DEFAULT_BAR


def _text(attachment: Mapping[str, Any], key: str, ctx: Ctx) -> str:
    value = attachment.get(key)
    if not isinstance(value, str) or not value:
        return ""
    mrkdwn_in = attachment.get("mrkdwn_in")
    as_markup = mrkdwn_in is None or key in mrkdwn_in
    return mrkdwn(value, ctx.names) if as_markup else plain_text(value)


def _fields(attachment: Mapping[str, Any], ctx: Ctx) -> str:
    cells = []
    for field in attachment.get("fields") or []:
        if not isinstance(field, Mapping):
            continue
        wide = "" if field.get("short") else " field-wide"
        title = f'<div class="field-title">{plain_text(str(field.get("title") or ""))}</div>'
        cells.append(f'<div class="field{wide}">{title}{mrkdwn(str(field.get("value") or ""), ctx.names)}</div>')
    return f'<div class="fields">{"".join(cells)}</div>' if cells else ""


def attachment(value: Mapping[str, Any], ctx: Ctx) -> str:
    parts = []
    if value.get("pretext"):
        parts.append(f'<div class="att-pretext">{_text(value, "pretext", ctx)}</div>')
    body = []
    if value.get("author_name"):
        body.append(f'<div class="att-author">{plain_text(str(value["author_name"]))}</div>')
    if value.get("title"):
        title = plain_text(str(value["title"]))
        url = value.get("title_link")
        body.append(f'<div class="att-title">{link(url, title) if isinstance(url, str) else title}</div>')
    if value.get("text"):
        body.append(f'<div class="att-text">{_text(value, "text", ctx)}</div>')
    body.append(_fields(value, ctx))
    if isinstance(value.get("blocks"), list):
        body.append(blocks(value["blocks"], ctx))
    if value.get("image_url"):
        body.append(f'<div class="img img-block" role="img"><span class="img-icon">🖼</span>'
                    f'<span class="img-source">{esc(str(value["image_url"]))}</span></div>')
    footer = [plain_text(str(value["footer"]))] if value.get("footer") else []
    if isinstance(value.get("ts"), int | float | str) and str(value["ts"]).replace(".", "", 1).isdigit():
        footer.append(esc(day_and_time(float(value["ts"]), ctx.names.tz)))
    if footer:
        body.append(f'<div class="att-footer">{" · ".join(footer)}</div>')
    if not any(body) and value.get("fallback"):
        body.append(f'<div class="att-text">{plain_text(str(value["fallback"]))}</div>')
    colour = bar_colour(value.get("color"))
    parts.append(f'<div class="attachment" style="border-left-color:{colour}"><div class="att-body">'
                 f'{"".join(body)}</div></div>')
    return "".join(parts)


def attachments(values: Iterable[Any], ctx: Ctx) -> str:
    return "".join(attachment(v, ctx) for v in values if isinstance(v, Mapping))


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""


def files(values: Iterable[Any], ctx: Ctx) -> str:
    cards = []
    for file in values:
        if not isinstance(file, Mapping):
            continue
        kind = esc(str(file.get("filetype") or "file").upper())
        title = plain_text(str(file.get("title") or file.get("name") or "file"))
        details = " · ".join(p for p in (esc(str(file.get("name") or "")), _size(file.get("size"))) if p)
        cards.append(f'<div class="file-card"><span class="file-kind">{kind}</span><span class="file-meta">'
                     f'<span class="file-title">{title}</span><span class="file-details">{details}</span>'
                     "</span></div>")
    return f'<div class="files">{"".join(cards)}</div>' if cards else ""


def reactions(values: Iterable[Any], ctx: Ctx) -> str:
    chips = []
    for reaction in values:
        if not isinstance(reaction, Mapping):
            continue
        name = str(reaction.get("name") or "")
        shown = with_emoji(esc(f":{name}:"))
        chips.append(f'<span class="reaction">{shown} <span class="reaction-count">'
                     f'{int(reaction.get("count") or 0)}</span></span>')
    return f'<div class="reactions">{"".join(chips)}</div>' if chips else ""
