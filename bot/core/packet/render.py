"""Render a :class:`~bot.core.packet.model.Packet` as Markdown or as a self-contained HTML page.

Both go through a sandboxed Jinja2 environment with StrictUndefined. HTML is autoescaped; Markdown
escapes every user text with :func:`md_inline` (Markdown, HTML and Slack control characters).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.core.advice import recommended_action
from bot.core.checklist import Verdict
from bot.core.packet.chart import section_chart
from bot.core.packet.model import CheckinAnswer, DecisionKind, ItemState, Packet, TraceKind, Trend

STATUS = {
    ItemState.OPEN: "Open",
    ItemState.OVERDUE: "Overdue",
    ItemState.CLOSED: "Closed",
    ItemState.WAIVED: "Waived",
    ItemState.UNMARKED: "Unmarked",
}
TREND = {
    Trend.BETTER: "Better",
    Trend.WORSE: "Worse",
    Trend.SAME: "No change",
    Trend.ADDED: "New in this checklist",
    Trend.REMOVED: "No longer in the checklist",
    Trend.MARKED: "Newly marked",
    Trend.UNMARKED: "No longer marked",
    Trend.NEW: "",
}
VERDICT = {
    Verdict.GO: "Go",
    Verdict.NARROW: "Narrow",
    Verdict.HOLD: "Hold",
    Verdict.NO_GO: "No-go",
    Verdict.INCOMPLETE: "Incomplete",
}
DECISION = {
    DecisionKind.APPROVE: "Approved",
    DecisionKind.STAGED: "Approved a staged rollout",
    DecisionKind.REJECT: "Rejected",
    DecisionKind.VOID: "Decision voided",
    DecisionKind.WAIVE: "Blocker waived",
    DecisionKind.WAIVER_EXPIRED: "Waiver expired",
    DecisionKind.WAIVER_REMARKED: "Waiver ended: the item was re-marked",
}
TRACE = {
    TraceKind.GOOD: "Good path",
    TraceKind.BAD: "Bad path",
    TraceKind.ESCALATION: "Escalation path",
}
CHECKIN = {CheckinAnswer.CLEAR: "All clear", CheckinAnswer.ISSUE: "Issue"}

# Markdown: backslash-escape what formats text; turn what HTML and Slack read as markup into entities.
_MD_TABLE = {ord(c): "\\" + c for c in "\\`*_[]#|~{}"} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_LINE_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)])(?=\s|$))")
_URL_SAFE = "!#$%&'*+,/:;=?@-._~"


def md_inline(value: object) -> str:
    """User text as one line of Markdown that cannot format, link, break a table or ping in Slack."""
    text = _SPACES.sub(" ", _CONTROL.sub("", str(value))).strip()
    return text.translate(_MD_TABLE)


def md_line(value: object) -> str:
    """:func:`md_inline` for text that starts a line or a list item: list and heading markers escaped."""
    return _LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], md_inline(value))


def md_block(value: object) -> str:
    """Multi-line user text: each non-empty line escaped as :func:`md_line`, one paragraph per line."""
    lines = (md_line(line) for line in _CONTROL.sub("", str(value)).splitlines())
    return "\n\n".join(line for line in lines if line)


def safe_href(url: object) -> str | None:
    """The URL when it is a plain http(s) link with a host, else None (then it is shown as text only)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


def md_link(url: object, text: object) -> str:
    """A Markdown link for a safe URL; otherwise the text followed by the escaped URL, not linked."""
    href = safe_href(url)
    label = md_inline(text) or md_inline(url)
    if href is None:
        return f"{label} (link not shown, only http and https links are allowed: {md_inline(url)})"
    dest = quote(href, safe=_URL_SAFE).replace("&", "&amp;")
    return f"[{label}]({dest})"


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _labels(packet: Packet) -> dict[str, Any]:
    return {
        "status": {k.value: v for k, v in STATUS.items()},
        "trend": {k.value: v for k, v in TREND.items()},
        "verdict": {k.value: v for k, v in VERDICT.items()},
        "decision": {k.value: v for k, v in DECISION.items()},
        "trace": {k.value: v for k, v in TRACE.items()},
        "checkin": {k.value: v for k, v in CHECKIN.items()},
        "mark": {m.mark.value: m.label for m in packet.policy.gates.marks},
    }


def _context(packet: Packet, *, html: bool) -> dict[str, Any]:
    card = packet.scorecard
    titles = {i.id: i.title for i in card.items} | {i.id: i.title for i in packet.items}
    chart = ""
    if html:
        chart = Markup(
            section_chart(
                card.sections,
                candidate_label=packet.version,
                baseline_label=(packet.baseline_version or "") if card.baseline is not None else None,
            )
        )
    owners = {i.id: i.owner.display if i.owner else None for i in packet.items}
    return {
        "p": packet,
        "card": card,
        "action": recommended_action(card.candidate, owners),
        "hash": packet.content_hash,
        "labels": _labels(packet),
        "titles": titles,
        "chart": chart,
        "contradicted": set(packet.cohort.contradicted) if packet.cohort else set(),
        "traces": sorted(packet.traces, key=lambda t: list(TraceKind).index(t.kind)),
        "missing_traces": [TRACE[k] for k in packet.missing_traces],
        "mark_changes": sorted(packet.history.mark_changes, key=lambda e: e.at),
        "decisions": sorted(packet.history.decisions, key=lambda e: e.at),
        "checklist_differs": card.checklist_diff is not None and not card.checklist_diff.same_content,
    }


@cache
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=PackageLoader("bot.core.packet", "templates"),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_inline, mdline=md_line, mdblock=md_block, when=when, day=day)
    env.globals.update(md_link=md_link, safe_href=safe_href)
    return env


def render_markdown(packet: Packet) -> str:
    return environment().get_template("packet.md.j2").render(**_context(packet, html=False))


def render_html(packet: Packet) -> str:
    return environment().get_template("packet.html.j2").render(**_context(packet, html=True))
