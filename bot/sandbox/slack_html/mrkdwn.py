"""Slack's text objects as HTML: ``mrkdwn`` (Slack's own markup) and ``plain_text`` (shown as typed).

mrkdwn arrives Slack-escaped (``&amp;`` ``&lt;`` ``&gt;``); those three are decoded and everything is then
HTML-escaped, so text can never become markup. Supported: ``*bold*``, ``_italic_``, ``~strike~``, ```code```,
fenced ````` ```pre``` `````, ``>`` quotes (and ``>>>``), line breaks, bullet lines, ``<url|text>`` links,
``<@U…>`` and ``<#C…>`` mentions, ``<!here>``-style broadcasts, ``<!subteam^…>``, ``<!date^…>`` and emoji
shortcodes. Formatting needs word boundaries, as in Slack (``a*b*c`` stays as typed).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from bot.sandbox.slack_html.context import Names
from bot.sandbox.slack_html.dates import format_date
from bot.sandbox.slack_html.emoji import SKIN_TONE, emoji

PRIVATE = re.compile("[\ue000-\uf8ff]")
PRIVATE_SIZE = 0xF8FF - 0xE000 + 1
SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
INLINE_TOKEN = re.compile(r"`([^`\n]+)`|<([^<>\n]+)>")
EMOJI_CODE = re.compile(r":([a-z0-9_+'-]+):", re.IGNORECASE)
FENCE = re.compile(r"```(.*?)```", re.DOTALL)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
SAFE_SCHEMES = ("http", "https", "mailto", "tel", "slack")
BULLETS = ("•", "◦", "▪", "‣", "- ")
QUOTE = re.compile(r"^(?:&gt;|>)(?!(?:&gt;|>){2}) ?")
QUOTE_REST = re.compile(r"^(?:&gt;|>){3} ?")


def _span(pattern: str) -> re.Pattern[str]:
    mark = re.escape(pattern)
    return re.compile(rf"(?<![\w{mark}]){mark}(?!\s)([^{mark}\n]+?)(?<!\s){mark}(?![\w{mark}])")


STYLES = ((_span("*"), "b"), (_span("_"), "i"), (_span("~"), "s"))


def unescape_slack(text: str) -> str:
    """Slack's three entities back to characters (Slack decodes no others)."""
    return SLACK_ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def with_emoji(escaped: str) -> str:
    """Shortcodes in already-escaped text to Unicode; skin tones dropped, unknown codes left as typed."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.lower().startswith(SKIN_TONE):
            return ""
        found = emoji(name)
        return f'<span class="emoji" title=":{esc(name)}:">{found}</span>' if found else match.group(0)

    return EMOJI_CODE.sub(one, escaped)


def plain_text(text: str, use_emoji: bool = True) -> str:
    """``plain_text`` as typed: escaped, line breaks kept, emoji shortcodes drawn unless ``emoji`` is false."""
    escaped = esc(PRIVATE.sub("\ufffd", text))
    return (with_emoji(escaped) if use_emoji else escaped).replace("\n", "<br>")


def text_object(obj: Any, names: Names) -> str:
    """A text object (``plain_text``, ``mrkdwn`` or a table's ``raw_text``) as HTML; a bare string as mrkdwn."""
    if isinstance(obj, str):
        return mrkdwn(obj, names)
    if not isinstance(obj, Mapping):
        return ""
    text = obj.get("text")
    text = text if isinstance(text, str) else ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    if obj.get("type") == "raw_text":
        return plain_text(text, use_emoji=False)
    return plain_text(text, use_emoji=obj.get("emoji", True) is not False)


def text_of(obj: Any) -> str:
    """The raw text of a text object (for attributes and labels)."""
    if isinstance(obj, Mapping):
        value = obj.get("text")
        return value if isinstance(value, str) else ""
    return obj if isinstance(obj, str) else ""


# -- tokens: <...> and `code` -------------------------------------------------------------------------


def mention(label: str, kind: str = "user") -> str:
    return f'<span class="mention mention-{kind}">{label}</span>'


def safe_href(url: str) -> str | None:
    """The URL for an ``href`` when its scheme is one a link may have (never ``javascript:``)."""
    found = SCHEME.match(url)
    if found is None or found.group(0)[:-1].lower() not in SAFE_SCHEMES:
        return None
    return esc(url)


def link(url: str, label_html: str) -> str:
    href = safe_href(url)
    if href is None:
        return f'<span class="link link-unsafe" title="{esc(url)}">{label_html}</span>'
    return f'<a class="link" href="{href}" rel="noopener noreferrer" target="_blank">{label_html}</a>'


def _label(text: str) -> str:
    return with_emoji(esc(unescape_slack(text)))


def _special(body: str, names: Names) -> str:
    """``<!here>``, ``<!channel>``, ``<!everyone>``, ``<!subteam^ID|@handle>``, ``<!date^…|fallback>``."""
    head, _, fallback = body.partition("|")
    parts = head.split("^")
    if parts[0] == "date" and len(parts) >= 3:
        shown = format_date(int(parts[1]), unescape_slack(parts[2]), names) if parts[1].isdigit() else None
        label = esc(shown) if shown is not None else _label(fallback or parts[2])
        inner = f'<time class="date" title="{esc(unescape_slack(fallback))}">{label}</time>'
        return link(unescape_slack(parts[3]), inner) if len(parts) >= 4 else inner
    if parts[0] in ("here", "channel", "everyone"):
        return mention(f"@{parts[0]}", "broadcast")
    if parts[0] == "subteam":
        handle = fallback or (f"@{parts[1]}" if len(parts) > 1 else "@group")
        return mention(_label(handle if handle.startswith("@") else "@" + handle), "group")
    return _label(fallback or parts[0])


def angle_token(body: str, names: Names) -> str:
    """One ``<...>`` token; a token Slack would not read is shown as typed."""
    target, _, label = body.partition("|")
    if target.startswith("@") and len(target) > 1:
        user_id = target[1:]
        shown = names.users.get(user_id) or unescape_slack(label).lstrip("@") or user_id
        return mention("@" + esc(shown))
    if target.startswith("#") and len(target) > 1:
        channel_id = target[1:]
        shown = names.channels.get(channel_id) or unescape_slack(label) or channel_id
        return mention("#" + esc(shown), "channel")
    if target.startswith("!"):
        return _special(body[1:], names)
    url = unescape_slack(target)
    if SCHEME.match(url):
        return link(url, _label(label) if label else esc(url))
    return esc(unescape_slack(f"<{body}>"))


# -- lines and blocks ---------------------------------------------------------------------------------


def inline(text: str, names: Names) -> str:
    """One line of mrkdwn (no fences, no quote marker) as HTML."""
    stored: list[str] = []

    def hold(rendered: str, original: str) -> str:
        if len(stored) >= PRIVATE_SIZE:  # more tokens than placeholders: the rest is shown as typed
            return original
        stored.append(rendered)
        return chr(0xE000 + len(stored) - 1)

    def token(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return hold(f'<code class="code">{esc(unescape_slack(match.group(1)))}</code>', match.group(0))
        return hold(angle_token(match.group(2), names), match.group(0))

    held = INLINE_TOKEN.sub(token, PRIVATE.sub("\ufffd", text))
    out = esc(unescape_slack(held))
    out = EMOJI_CODE.sub(lambda m: hold(with_emoji(m.group(0)), m.group(0)), out)
    for pattern, tag in STYLES:
        out = pattern.sub(lambda m, tag=tag: f"<{tag}>{m.group(1)}</{tag}>", out)
    return PRIVATE.sub(lambda m: stored[ord(m.group(0)) - 0xE000], out)


def _bullet(line: str) -> tuple[str, str] | None:
    stripped = line.lstrip(" ")
    for mark in BULLETS:
        if stripped.startswith(mark):
            return mark.strip(), stripped[len(mark):].lstrip(" ")
    return None


def _lines(text: str, names: Names) -> list[tuple[str, str]]:
    """(kind, html) items of text without fences: ``line`` (flows, joined by breaks) or ``block``."""
    items: list[tuple[str, str]] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if QUOTE_REST.match(line):
            rest = "\n".join([QUOTE_REST.sub("", line, count=1), *lines[index + 1:]])
            items.append(("block", f'<blockquote class="quote">{_flow(_lines(rest, names))}</blockquote>'))
            break
        if QUOTE.match(line):
            quoted = []
            while index < len(lines) and QUOTE.match(lines[index]) and not QUOTE_REST.match(lines[index]):
                quoted.append(QUOTE.sub("", lines[index], count=1))
                index += 1
            items.append(("block", f'<blockquote class="quote">{_flow(_lines(chr(10).join(quoted), names))}'
                                   "</blockquote>"))
            continue
        bullet = _bullet(line)
        if bullet is not None:
            mark, rest = bullet
            items.append(("block", f'<div class="bullet"><span class="bullet-mark">{esc(mark)}</span>'
                                   f"<span>{inline(rest, names)}</span></div>"))
        else:
            items.append(("line", inline(line, names)))
        index += 1
    return items


def _flow(items: list[tuple[str, str]]) -> str:
    out = []
    for index, (kind, rendered) in enumerate(items):
        out.append(rendered)
        if kind == "line" and index + 1 < len(items) and items[index + 1][0] == "line":
            out.append("<br>")
    return "".join(out)


def mrkdwn(text: str, names: Names) -> str:
    """A mrkdwn text as HTML (the inside of a block; the caller picks the element around it)."""
    items: list[tuple[str, str]] = []
    position = 0
    for fence in FENCE.finditer(text):
        before = text[position:fence.start()]
        if position:
            before = before.removeprefix("\n")
        if before.strip("\n") or (before and not items):
            items += _lines(before.removesuffix("\n"), names)
        body = fence.group(1).removeprefix("\n").removesuffix("\n")
        items.append(("block", f'<pre class="pre">{esc(unescape_slack(body))}</pre>'))
        position = fence.end()
    rest = text[position:].removeprefix("\n") if position else text
    if rest or not items:
        items += _lines(rest, names)
    return _flow(items)
