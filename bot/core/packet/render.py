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

from bot.core import words
from bot.core.advice import recommended_action, signoff_outcome
from bot.core.checklist import Mark
from bot.core.packet.chart import section_chart
from bot.core.packet.model import Checkin, ItemRow, ItemState, MonitoringPlan, Packet, TraceKind, Trend

# The cover fits one printed page whatever the data: it lists at most this many open gaps and waivers (the
# rest are in the items) and clips long texts (they are in full in the items and the history).
COVER_GAPS = 10
COVER_WAIVERS = 3
COVER_IDS = 6  # ids named in a line of the cover; more are counted
COVER_TEXT = 100

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


def clip(value: object, limit: int = COVER_TEXT) -> str:
    """One line of at most ``limit`` characters (an ellipsis says something was left out)."""
    text = _SPACES.sub(" ", str(value or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _labels() -> dict[str, Any]:
    """The vocabulary (:mod:`bot.core.words`) keyed by the stored values, as the templates look them up."""
    return {
        "mark": dict(words.MARK),
        "mark_meaning": dict(words.MARK_MEANING),
        "status": dict(words.STATUS),
        "trend": dict(words.TREND),
        "verdict": dict(words.VERDICT),
        "decision": dict(words.DECISION),
        "event": dict(words.EVENT),
        "trace": dict(words.TRACE),
        "checkin": dict(words.CHECKIN),
        "unmarked": words.UNMARKED,
        "waiting": words.WAITING,
        "unanswered": words.CHECKIN_UNANSWERED,
        "upcoming": words.CHECKIN_UPCOMING,
        "blocker": words.BLOCKER,
    }


def _signoff(packet: Packet) -> str:
    """The sign-off as one phrase: not requested, waiting for some decisions, or its outcome."""
    approvers = packet.policy.approvers
    if not approvers:
        return words.SIGNOFF_NOT_REQUESTED
    outcome = signoff_outcome([a.decision for a in approvers])
    if outcome is not None:
        return words.OUTCOME[outcome]
    return words.signoff_waiting(sum(1 for a in approvers if a.decision), len(approvers))


def _gap_order(row: ItemRow, blockers: set[str]) -> tuple[int, str]:
    """Blockers first, then overdue gaps, waived blockers, then the rest; each by due date."""
    rank = 0 if row.id in blockers else 1 if row.status is ItemState.OVERDUE else 2 if row.waiver else 3
    return rank, row.due.isoformat() if row.due else "9999"


def _cover(packet: Packet) -> dict[str, Any]:
    now = packet.scorecard.candidate
    blockers = set(now.blockers)
    gaps = [r for r in packet.items if r.mark in (Mark.PARTIAL, Mark.YES)]
    gaps.sort(key=lambda r: _gap_order(r, blockers))
    rows = {r.id: r for r in packet.items}
    return {
        "signoff": _signoff(packet),
        "pending": [a for a in packet.policy.approvers if not a.decision] if packet.policy.approvers else [],
        "blockers": [rows[i] for i in now.blockers if i in rows],
        "waivers": [r for r in packet.items if r.waiver][:COVER_WAIVERS],
        "waivers_more": max(0, sum(1 for r in packet.items if r.waiver) - COVER_WAIVERS),
        "gaps": gaps[:COVER_GAPS],
        "gaps_total": len(gaps),
        "few": COVER_IDS,
        "gaps_more": max(0, len(gaps) - COVER_GAPS),
        "overdue": sum(1 for r in gaps if r.status is ItemState.OVERDUE),
        "unowned": sum(1 for r in gaps if r.owner is None),
    }


def checkin_rows(plan: MonitoringPlan | None) -> list[dict[str, Any]]:
    """The first week day by day: each answer; a day whose question came and nobody answered; the days still to
    come as one row (from the first of them). Days are in order; answers to days past the plan are kept."""
    if plan is None:
        return []
    planned = {d.day: d for d in plan.schedule}
    answers: dict[int, list[Checkin]] = {}
    for c in plan.checkins:
        answers.setdefault(c.day, []).append(c)
    rows: list[dict[str, Any]] = []
    upcoming: list[int] = []

    def flush() -> None:
        if upcoming:
            first, last = upcoming[0], upcoming[-1]
            days = f"Day {first}" if first == last else f"Days {first}-{last}"
            rows.append({"days": days, "kind": "upcoming", "answer": None, "at": planned[first].due_at})
            upcoming.clear()

    for day in sorted(set(planned) | set(answers)):
        if day in answers:
            flush()
            rows.extend({"days": f"Day {day}", "kind": "answer", "answer": c, "at": c.at} for c in answers[day])
        elif planned[day].asked:
            flush()
            rows.append({"days": f"Day {day}", "kind": "unanswered", "answer": None, "at": planned[day].due_at})
        else:
            upcoming.append(day)
    flush()
    return rows


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
    sections: list[dict[str, Any]] = []
    for s in card.sections:
        rows = [r for r in packet.items if r.section_id == s.id]
        if rows:
            sections.append({"id": s.id, "title": s.title, "score": s, "rows": rows})
    return {
        "p": packet,
        "card": card,
        "action": recommended_action(card.candidate, owners),
        "cover": _cover(packet),
        "hash": packet.content_hash,
        "labels": _labels(),
        "titles": titles,
        "chart": chart,
        "compared": {i.id: i for i in card.items},
        "removed": [i for i in card.items if i.trend is Trend.REMOVED],
        "sections": sections,
        "contradicted": set(packet.cohort.contradicted) if packet.cohort else set(),
        "traces": sorted(packet.traces, key=lambda t: list(TraceKind).index(t.kind)),
        "missing_traces": [words.TRACE[k] for k in packet.missing_traces],
        "mark_changes": sorted(packet.history.mark_changes, key=lambda e: e.at),
        "decisions": sorted(packet.history.decisions, key=lambda e: e.at),
        "checklist_differs": card.checklist_diff is not None and not card.checklist_diff.same_content,
        "history_no": 7 if packet.cohort else 6,
        "checkins": checkin_rows(packet.monitoring),
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
        auto_reload=False,  # templates ship with the package: compiled once, never checked for changes
    )
    env.filters.update(md=md_inline, mdline=md_line, mdblock=md_block, when=when, day=day, clip=clip)
    env.globals.update(md_link=md_link, safe_href=safe_href)
    return env


def render_markdown(packet: Packet) -> str:
    return environment().get_template("packet.md.j2").render(**_context(packet, html=False))


def render_html(packet: Packet) -> str:
    return environment().get_template("packet.html.j2").render(**_context(packet, html=True))
