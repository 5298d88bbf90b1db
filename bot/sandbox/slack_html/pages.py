"""Whole pages from a :class:`Workspace` copy: every surface at once, or one message, view or home tab.

Pure: a Workspace (plain data) in, one self-contained HTML document out (inline CSS, no scripts, nothing
loaded from outside; a Content-Security-Policy says so to the browser as well).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.sandbox.slack_html import frames
from bot.sandbox.slack_html.collect import ViewRecord, ViewState, Workspace
from bot.sandbox.slack_html.context import Ctx, Names
from bot.sandbox.slack_html.dates import day_and_time
from bot.sandbox.slack_html.mrkdwn import esc, plain_text, text_of
from bot.sandbox.slack_html.style import CSS

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SHOWN_MESSAGE_KEYS = ("text", "blocks", "attachments", "files")
Message = Mapping[str, Any]


def document(title: str, body: str, *, subtitle: str = "") -> str:
    sub = f'<span class="sub">{esc(subtitle)}</span>' if subtitle else ""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f'<header class="topbar"><h1>{esc(title)}</h1>{sub}</header>{body}</body></html>\n')


def names(ws: Workspace, tz: str = "UTC", now: datetime | None = None) -> Names:
    users = {p.id: p.name for p in ws.people.values()}
    channels = {p.id: p.name for p in ws.places.values() if not p.is_im}
    return Names(users=users, channels=channels, tz=tz, now=now)


def _section(anchor: str, heading: str, sub: str, body: str) -> str:
    note = f'<span class="sub">{sub}</span>' if sub else ""
    return (f'<section class="surface" id="{esc(anchor)}"><div class="surface-head"><h2>{heading}</h2>{note}</div>'
            f"{body}</section>")


# -- messages and threads ----------------------------------------------------------------------------


def changed(first: Message, now: Message) -> bool:
    return any(json.dumps(first.get(k), sort_keys=True) != json.dumps(now.get(k), sort_keys=True)
               for k in SHOWN_MESSAGE_KEYS)


def message_html(ws: Workspace, channel_id: str, message: Message, ctx: Ctx, *, side_by_side: bool = False,
                 replies: int = 0, note: str = "") -> str:
    """A message now and, when it changed since it was posted, as first posted too."""
    now = frames.message(message, ctx, ws.app, replies=replies, note=note)
    key = (channel_id, str(message.get("ts")))
    first = ws.first_posted.get(key)
    if first is None or not changed(first, message):
        return now
    old = frames.message(first, frames.inert(ctx), ws.app)
    return frames.versions(now, old, updates=ws.updates.get(key, 0), side_by_side=side_by_side)


def is_reply(message: Message) -> bool:
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")


def threads(messages: Sequence[Message]) -> list[tuple[Message, list[Message]]]:
    """Channel-level messages in order, each with its thread replies (a broadcast reply shows in both)."""
    replies: dict[str, list[Message]] = {}
    for message in messages:
        if is_reply(message):
            replies.setdefault(str(message["thread_ts"]), []).append(message)
    top = [m for m in messages if not is_reply(m) or m.get("subtype") == "thread_broadcast"]
    return [(m, [] if is_reply(m) else replies.get(str(m.get("ts")), [])) for m in top]


def thread_html(ws: Workspace, channel_id: str, parent: Message, replies: Iterable[Message], ctx: Ctx, *,
                side_by_side: bool = False) -> str:
    drawn = [message_html(ws, channel_id, r, ctx, side_by_side=side_by_side) for r in replies]
    return frames.thread(message_html(ws, channel_id, parent, ctx, side_by_side=side_by_side), drawn)


def conversation(ws: Workspace, channel_id: str, ctx: Ctx) -> str:
    shown = threads(ws.messages.get(channel_id, []))
    if not shown:
        return '<div class="empty">No messages.</div>'
    return "".join(thread_html(ws, channel_id, parent, replies, ctx) for parent, replies in shown)


# -- views -------------------------------------------------------------------------------------------


def _state_label(index: int, count: int, state: ViewState, tz: str) -> str:
    step = f"{index + 1} of {count}" if count > 1 else "only state"
    return (f'<div class="state-label"><b>{esc(step)}</b> · {esc(state.label)} · '
            f"{esc(day_and_time(state.at, tz))}</div>")


def view_states(record: ViewRecord, ctx: Ctx, app: frames.App, tz: str) -> str:
    """Each distinct state of a modal, oldest first; only the last is drawn as live."""
    states = record.states or [ViewState("final state", record.final, 0.0)]
    out = []
    for index, state in enumerate(states):
        last = index == len(states) - 1
        status = ("open" if record.is_open else "closed") if last else ""
        drawn_ctx = ctx.with_view(state.view, state.errors, state.submitted, inert=not last or not record.is_open)
        label = _state_label(index, len(states), state, tz) if state.at else ""
        out.append(f'<div class="view-state">{label}{frames.modal(state.view, drawn_ctx, app, status=status)}</div>')
    return f'<div class="view-states">{"".join(out)}</div>'


def _view_title(view: Mapping[str, Any]) -> str:
    return plain_text(text_of(view.get("title")) or "(untitled)")


# -- pages ---------------------------------------------------------------------------------------------


def _people_with(ws: Workspace, ids: Iterable[str | None]) -> list[str]:
    wanted = {i for i in ids if i}
    ordered = [p for p in ws.people if p in wanted]
    return ordered + sorted(wanted - set(ordered))


def workspace_page(ws: Workspace, *, title: str, tz: str = "UTC", now: datetime | None = None) -> str:
    """Every surface: channels with their threads, DMs, ephemerals, modals and App Homes, by person."""
    base = Ctx(names(ws, tz, now))
    sections: list[tuple[str, str, str, str]] = []
    for place in sorted((p for p in ws.places.values() if not p.is_im), key=lambda p: p.name):
        count = len(ws.messages.get(place.id, []))
        sections.append((f"channel-{place.id}", f"# {esc(place.name)}", f"channel · {count} messages · times in {tz}",
                         conversation(ws, place.id, base)))
    for place in ws.places.values():
        if place.is_im and ws.messages.get(place.id):
            user = place.user or ""
            ctx = Ctx(names(ws, ws.tz_of(user, tz), now))
            sections.append((f"dm-{place.id}", f"@{esc(ws.name_of(user))}",
                             f"direct messages from {esc(ws.app.name)} · times in {esc(ws.tz_of(user, tz))}",
                             conversation(ws, place.id, ctx)))
    for user in _people_with(ws, (m.get("recipient") for m in ws.ephemerals)):
        ctx = Ctx(names(ws, ws.tz_of(user, tz), now))
        drawn = []
        for message in (m for m in ws.ephemerals if m.get("recipient") == user):
            where = ws.places.get(str(message.get("channel")))
            note = f"in #{esc(where.name)}" if where and not where.is_im else "in a direct message"
            drawn.append(frames.message(message, ctx, ws.app, note=note))
        sections.append((f"ephemeral-{user}", f"Only visible to @{esc(ws.name_of(user))}",
                         f"ephemeral messages, oldest first · times in {esc(ws.tz_of(user, tz))}", "".join(drawn)))
    for user in _people_with(ws, (r.owner for r in ws.modals)):
        ctx = Ctx(names(ws, ws.tz_of(user, tz), now))
        records = [r for r in ws.modals if r.owner == user]
        body = "".join(f'<div class="group-label">{_view_title(r.final)} <span class="sub">{esc(r.id)}</span></div>'
                       f"{view_states(r, ctx, ws.app, ws.tz_of(user, tz))}" for r in records)
        sections.append((f"modals-{user}", f"Modals shown to @{esc(ws.name_of(user))}",
                         f"{len(records)} modal{'s' if len(records) != 1 else ''}, each state it went through · "
                         f"times in {esc(ws.tz_of(user, tz))}", body))
    for user, record in ws.homes.items():
        ctx = Ctx(names(ws, ws.tz_of(user, tz), now))
        publishes = sum(1 for s in record.states if s.label.startswith("published"))
        sections.append((f"home-{user}", f"App Home of @{esc(ws.name_of(user))}",
                         f"as last published ({publishes} time{'s' if publishes != 1 else ''})",
                         frames.home(record.final, ctx, ws.app, who=f"App Home of @{esc(ws.name_of(user))}")))
    body = _toc(sections) + "".join(_section(*s) for s in sections)
    return document(title, body, subtitle=f"{ws.team} · every Slack surface of the run")


TOC_GROUPS = (("channel-", "Channels"), ("dm-", "Direct messages"), ("ephemeral-", "Only visible to"),
              ("modals-", "Modals"), ("home-", "App Home"))


def _toc(sections: Sequence[tuple[str, str, str, str]]) -> str:
    groups = []
    for prefix, label in TOC_GROUPS:
        links = []
        for anchor, heading, _, _ in sections:
            if anchor.startswith(prefix):
                short = heading.rsplit(" ", 1)[-1] if prefix != "channel-" else heading
                links.append(f'<a href="#{esc(anchor)}">{short}</a>')
        if links:
            groups.append(f'<span class="toc-group"><b>{label}:</b> {"".join(links)}</span>')
    return f'<nav class="toc">{"".join(groups)}</nav>'


def messages_page(ws: Workspace, items: Sequence[tuple[str, str]], *, title: str, tz: str = "UTC",
                  with_thread: bool = False, now: datetime | None = None) -> str:
    """Some messages, each under the name of its channel, now and as first posted side by side.

    ``items`` are (channel id, ts); ``with_thread`` adds the replies of a parent message."""
    parts = []
    for channel_id, ts in items:
        place = ws.places.get(channel_id)
        person = place.user if place and place.is_im else None
        ctx = Ctx(names(ws, ws.tz_of(person, tz), now))
        messages = ws.messages.get(channel_id, [])
        found = next((m for m in messages if m.get("ts") == ts), None)
        if found is None:
            body = f'<div class="empty">No message {esc(ts)}.</div>'
        elif with_thread and not is_reply(found):
            replies = [m for m in messages if is_reply(m) and m.get("thread_ts") == ts]
            body = thread_html(ws, channel_id, found, replies, ctx, side_by_side=True)
        else:
            body = message_html(ws, channel_id, found, ctx, side_by_side=True)
        where = f"@{esc(ws.name_of(person))}" if person else f"# {esc(place.name if place else channel_id)}"
        kind = "reply in a thread" if found is not None and is_reply(found) else "message"
        parts.append(_section(f"m-{channel_id}-{ts}", where, kind, f'<div class="solo">{body}</div>'))
    return document(title, "".join(parts), subtitle=ws.team)


def view_page(ws: Workspace, view_id: str, *, title: str, now: datetime | None = None) -> str:
    """One modal, each state it went through."""
    record = next((r for r in ws.modals if r.id == view_id), None)
    if record is None:
        return document(title, f'<div class="empty">No modal {esc(view_id)}.</div>')
    tz = ws.tz_of(record.owner)
    body = view_states(record, Ctx(names(ws, tz, now)), ws.app, tz)
    heading = _view_title(record.final)
    sub = f"shown to @{esc(ws.name_of(record.owner))} · times in {esc(tz)}"
    return document(title, _section(f"view-{view_id}", heading, sub, body), subtitle=ws.team)


def home_page(ws: Workspace, user: str, *, title: str, now: datetime | None = None) -> str:
    """One person's App Home as last published."""
    record = ws.homes.get(user)
    if record is None:
        return document(title, f'<div class="empty">@{esc(ws.name_of(user))} has no App Home.</div>')
    ctx = Ctx(names(ws, ws.tz_of(user), now))
    return document(title, frames.home(record.final, ctx, ws.app, who=f"App Home of @{esc(ws.name_of(user))}"),
                    subtitle=ws.team)
