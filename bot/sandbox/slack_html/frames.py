"""The frames Slack draws around blocks: a message (author, APP badge, time, ``(edited)``), a thread, an
ephemeral message ("Only visible to you"), a modal (title bar, close and submit buttons) and an App Home tab.

Pure functions of plain data: a message or view dict as the Web API returns it, and a :class:`Ctx`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.sandbox.slack_html.attachments import attachments, files, reactions
from bot.sandbox.slack_html.blocks import blocks, fallback_text
from bot.sandbox.slack_html.context import Ctx
from bot.sandbox.slack_html.dates import clock_time, day_and_time
from bot.sandbox.slack_html.mrkdwn import esc, plain_text, text_of

Message = Mapping[str, Any]
AVATAR_COLOURS = ("#4a154b", "#1264a3", "#2bac76", "#e8912d", "#cd2553", "#0b4c8c", "#7c3085", "#3c8d2f")


@dataclass(frozen=True)
class App:
    """The app as Slack shows it: its name (with the APP badge) and its bot user."""

    name: str = "Readiness"
    bot_user_id: str = "U0BOT"


def _ts(message: Message) -> float | None:
    try:
        return float(message.get("ts") or "")
    except ValueError:
        return None


def _avatar(label: str, *, app: bool) -> str:
    initial = esc(label[:1].upper() or "?")
    if app:
        return f'<div class="avatar avatar-app" aria-hidden="true">{initial}</div>'
    colour = AVATAR_COLOURS[sum(map(ord, label)) % len(AVATAR_COLOURS)]
    return f'<div class="avatar" style="background:{colour}" aria-hidden="true">{initial}</div>'


def _author(message: Message, app: App, ctx: Ctx) -> tuple[str, bool]:
    profile = message.get("bot_profile")
    if isinstance(profile, Mapping) and isinstance(profile.get("username"), str):
        return profile["username"], True
    if message.get("bot_id") or message.get("user") == app.bot_user_id:
        return app.name, True
    user = str(message.get("user") or "")
    return ctx.names.user(user) if user else "unknown", False


def message_body(message: Message, ctx: Ctx) -> str:
    """What a message shows: its blocks (or its text when it has none), attachments and files."""
    parts = []
    if isinstance(message.get("blocks"), list) and message["blocks"]:
        parts.append(blocks(message["blocks"], ctx))
    elif message.get("text") or not (message.get("attachments") or message.get("files")):
        parts.append(fallback_text(str(message.get("text") or ""), ctx))
    if isinstance(message.get("attachments"), list):
        parts.append(attachments(message["attachments"], ctx))
    if isinstance(message.get("files"), list):
        parts.append(files(message["files"], ctx))
    return "".join(parts)


def message(message: Message, ctx: Ctx, app: App = App(), *, replies: int = 0, note: str = "") -> str:
    """One message as Slack draws it in a channel, a thread or a DM."""
    author, is_app = _author(message, app, ctx)
    ts = _ts(message)
    when = ""
    if ts is not None:
        when = (f'<time class="msg-time" title="{esc(day_and_time(ts, ctx.names.tz))}">'
                f"{esc(clock_time(ts, ctx.names.tz))}</time>")
    badge = '<span class="badge">APP</span>' if is_app else ""
    edited = '<span class="edited">(edited)</span>' if message.get("edited") else ""
    ephemeral = bool(message.get("is_ephemeral"))
    only_you = ""
    if ephemeral:
        where = f" · {note}" if note else ""
        only_you = f'<div class="only-you"><span aria-hidden="true">👁</span> Only visible to you{where}</div>'
        note = ""
    thread = ""
    if replies:
        thread = f'<div class="reply-summary">{replies} repl{"y" if replies == 1 else "ies"}</div>'
    broadcast = ""
    if message.get("subtype") == "thread_broadcast":
        broadcast = '<div class="broadcast-note">replied to a thread and sent it to the channel</div>'
    noted = f'<div class="msg-note">{note}</div>' if note else ""
    classes = "msg" + (" msg-ephemeral" if ephemeral else "") + (" msg-inert" if ctx.inert else "")
    reacted = reactions(message["reactions"], ctx) if isinstance(message.get("reactions"), list) else ""
    return (f'<article class="{classes}" data-ts="{esc(str(message.get("ts") or ""))}">{only_you}{noted}'
            f'<div class="msg-row">{_avatar(author, app=is_app)}<div class="msg-main">'
            f'<div class="msg-head"><span class="author">{esc(author)}</span>{badge}{when}</div>{broadcast}'
            f'<div class="msg-body">{message_body(message, ctx)}{edited}</div>{reacted}{thread}'
            "</div></div></article>")


def versions(now: str, first: str | None, *, updates: int = 0, side_by_side: bool = False) -> str:
    """A message now and, when it changed since it was posted, as first posted: side by side (wrapping to
    one column on a phone) or with the first version folded away under the current one."""
    if first is None:
        return now
    changed = f"updated {updates} time{'s' if updates != 1 else ''}" if updates else "changed"
    now_label = f'<div class="version-label version-now">now <span>· {changed} since it was posted</span></div>'
    first_label = '<div class="version-label version-first">as first posted</div>'
    if side_by_side:
        return (f'<div class="versions"><div class="version">{now_label}{now}</div>'
                f'<div class="version version-old">{first_label}{first}</div></div>')
    return (f'<div class="version">{now_label}{now}</div><details class="first-posted"><summary>'
            f'as first posted</summary><div class="version version-old">{first}</div></details>')


def thread(parent: str, replies: Sequence[str]) -> str:
    """A thread as Slack's thread pane shows it: the parent, a rule with the reply count, the replies."""
    if not replies:
        return f'<section class="thread">{parent}</section>'
    count = len(replies)
    rule = f'<div class="replies-rule"><span>{count} repl{"y" if count == 1 else "ies"}</span></div>'
    return f'<section class="thread">{parent}{rule}<div class="replies">{"".join(replies)}</div></section>'


def _app_icon(app: App) -> str:
    return f'<span class="app-icon" aria-hidden="true">{esc(app.name[:1].upper())}</span>'


def modal(view: Mapping[str, Any], ctx: Ctx, app: App = App(), *, status: str = "") -> str:
    """A modal: title bar with the app's icon and ×, its blocks, the close and submit buttons."""
    title = plain_text(text_of(view.get("title")))
    close = plain_text(text_of(view.get("close")) or "Cancel")
    submit = view.get("submit")
    inert = ' aria-disabled="true"' if ctx.inert else ""
    submit_html = f'<span class="btn btn-primary" role="button"{inert}>{plain_text(text_of(submit))}</span>' \
        if submit else ""
    badge = f'<span class="modal-status">{status}</span>' if status else ""
    return (f'<div class="modal-stage"><div class="modal" role="dialog" aria-label="{esc(text_of(view.get("title")))}">'
            f'<div class="modal-head">{_app_icon(app)}<span class="modal-title">{title}</span>{badge}'
            '<span class="modal-x" aria-hidden="true">×</span></div>'
            f'<div class="modal-body">{blocks(view.get("blocks") or [], ctx)}</div>'
            f'<div class="modal-foot"><span class="btn" role="button"{inert}>{close}</span>{submit_html}</div>'
            "</div></div>")


def home(view: Mapping[str, Any], ctx: Ctx, app: App = App(), *, who: str = "") -> str:
    """An App Home tab: the app's header, the Home / Messages / About tabs, the view's blocks."""
    whose = f'<span class="home-who">{who}</span>' if who else ""
    return (f'<div class="home"><div class="home-head">{_app_icon(app)}<span class="home-app">{esc(app.name)}'
            f"</span>{whose}</div>"
            '<nav class="home-tabs"><span class="tab tab-on">Home</span><span class="tab">Messages</span>'
            '<span class="tab">About</span></nav>'
            f'<div class="home-body">{blocks(view.get("blocks") or [], ctx)}</div></div>')


def inert(ctx: Ctx) -> Ctx:
    return replace(ctx, inert=True)
