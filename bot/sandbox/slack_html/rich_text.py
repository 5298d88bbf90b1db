"""The ``rich_text`` block (and rich text in table cells and rich text inputs) as HTML.

Containers: ``rich_text_section``, ``rich_text_list`` (bullet or ordered, ``indent``, ``offset``,
``border``), ``rich_text_preformatted``, ``rich_text_quote``. Inline elements: ``text`` (with ``style``
bold/italic/strike/code/underline), ``link``, ``emoji``, ``user``, ``channel``, ``usergroup``, ``broadcast``,
``date``, ``color``. Text here is not Slack-escaped: it is shown exactly as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack_html.context import Ctx
from bot.sandbox.slack_html.dates import format_date
from bot.sandbox.slack_html.emoji import emoji
from bot.sandbox.slack_html.marks import unsupported
from bot.sandbox.slack_html.mrkdwn import esc, link, mention

HEX = frozenset("0123456789abcdefABCDEF")


def _styled(inner: str, style: Any) -> str:
    if not isinstance(style, Mapping):
        return inner
    if style.get("code"):
        inner = f'<code class="code">{inner}</code>'
    for key, tag in (("bold", "b"), ("italic", "i"), ("strike", "s"), ("underline", "u")):
        if style.get(key):
            inner = f"<{tag}>{inner}</{tag}>"
    return inner


def _emoji(item: Mapping[str, Any]) -> str:
    name = str(item.get("name") or "")
    unicode = item.get("unicode")
    if isinstance(unicode, str) and unicode and all(c in HEX for c in unicode.replace("-", "")):
        try:
            return f'<span class="emoji" title=":{esc(name)}:">{"".join(chr(int(p, 16)) for p in unicode.split("-"))}</span>'
        except ValueError:
            pass
    found = emoji(name)
    return f'<span class="emoji" title=":{esc(name)}:">{found}</span>' if found else esc(f":{name}:")


def _inline(item: Any, ctx: Ctx) -> str:
    if not isinstance(item, Mapping):
        return ""
    kind = item.get("type")
    style = item.get("style")
    if kind == "text":
        return _styled(esc(str(item.get("text") or "")).replace("\n", "<br>"), style)
    if kind == "link":
        url = str(item.get("url") or "")
        return _styled(link(url, esc(str(item.get("text") or url))), style)
    if kind == "emoji":
        return _emoji(item)
    if kind == "user":
        return _styled(mention("@" + esc(ctx.names.user(str(item.get("user_id") or "")))), style)
    if kind == "channel":
        return _styled(mention("#" + esc(ctx.names.channel(str(item.get("channel_id") or ""))), "channel"), style)
    if kind == "usergroup":
        return _styled(mention("@" + esc(str(item.get("usergroup_id") or "group")), "group"), style)
    if kind == "broadcast":
        return mention("@" + esc(str(item.get("range") or "here")), "broadcast")
    if kind == "date":
        stamp = item.get("timestamp")
        fallback = str(item.get("fallback") or stamp)
        shown = format_date(int(stamp), str(item.get("format") or "{date_short}"), ctx.names) \
            if isinstance(stamp, int) else None
        return f'<time class="date" title="{esc(fallback)}">{esc(shown if shown is not None else fallback)}</time>'
    if kind == "color":
        value = str(item.get("value") or "")
        swatch = f'<span class="swatch" style="background:{esc(value)}"></span>' if value[1:] and set(value[1:]) <= HEX \
            and value.startswith("#") else ""
        return f"{swatch}{esc(value)}"
    return unsupported(kind, "rich text element")


def _section(section: Mapping[str, Any], ctx: Ctx) -> str:
    return "".join(_inline(item, ctx) for item in section.get("elements") or [])


def _list(block: Mapping[str, Any], ctx: Ctx) -> str:
    ordered = block.get("style") == "ordered"
    tag = "ol" if ordered else "ul"
    indent = max(0, min(int(block.get("indent") or 0), 8))
    start = f' start="{int(block.get("offset") or 0) + 1}"' if ordered and block.get("offset") else ""
    border = " rt-list-border" if block.get("border") else ""
    kind = ("rt-ordered-" if ordered else "rt-bullet-") + str(indent % 3)
    items = "".join(f"<li>{_section(item, ctx)}</li>" for item in block.get("elements") or []
                    if isinstance(item, Mapping))
    return f'<{tag} class="rt-list {kind}{border}" style="margin-left:{indent * 22}px"{start}>{items}</{tag}>'


def _container(block: Any, ctx: Ctx) -> str:
    if not isinstance(block, Mapping):
        return ""
    kind = block.get("type")
    if kind == "rich_text_section":
        return f'<div class="rt-section">{_section(block, ctx)}</div>'
    if kind == "rich_text_list":
        return _list(block, ctx)
    if kind == "rich_text_preformatted":
        return f'<pre class="pre">{_section(block, ctx)}</pre>'
    if kind == "rich_text_quote":
        return f'<blockquote class="quote">{_section(block, ctx)}</blockquote>'
    return unsupported(kind, "rich text element")


def rich_text(block: Mapping[str, Any], ctx: Ctx) -> str:
    """A rich_text object's containers as HTML (the caller wraps it)."""
    return "".join(_container(part, ctx) for part in block.get("elements") or [])
