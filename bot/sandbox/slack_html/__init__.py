"""Slack's surfaces as one self-contained HTML page, drawn from Block Kit JSON the way Slack draws it.

Pure renderers (``mrkdwn``, ``blocks``, ``elements``, ``rich_text``, ``attachments``, ``frames``, ``pages``)
turn plain data into HTML; ``collect`` is the one place that reads a live sandbox. The functions below
are the short way from a sandbox to a page::

    html = render_workspace(sandbox, title="Readiness demo")      # everything
    html = render_message(sandbox, "C0REVIEW", ts, with_thread=True)
    html = render_view(sandbox, view_id); html = render_home(sandbox, "U0DANA")
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.sandbox.slack_html import pages
from bot.sandbox.slack_html.collect import Workspace, collect

if TYPE_CHECKING:
    from bot.sandbox.server import SlackSandbox

__all__ = ["Workspace", "collect", "render_home", "render_message", "render_messages", "render_view",
           "render_workspace"]


def _now() -> datetime:
    return datetime.now(UTC)


def render_workspace(sandbox: SlackSandbox, *, title: str = "Slack surfaces", tz: str = "UTC") -> str:
    """Every surface the sandbox holds, as one page (channels in ``tz``; a person's surfaces in theirs)."""
    return pages.workspace_page(collect(sandbox), title=title, tz=tz, now=_now())


def render_messages(sandbox: SlackSandbox, items: Sequence[tuple[str, str]], *, title: str = "Slack messages",
                    with_thread: bool = False, tz: str = "UTC") -> str:
    """Some messages, given as (channel id, ts), each now and as first posted."""
    return pages.messages_page(collect(sandbox), items, title=title, tz=tz, with_thread=with_thread, now=_now())


def render_message(sandbox: SlackSandbox, channel: str, ts: str, *, title: str = "Slack message",
                   with_thread: bool = False, tz: str = "UTC") -> str:
    return render_messages(sandbox, [(channel, ts)], title=title, with_thread=with_thread, tz=tz)


def render_view(sandbox: SlackSandbox, view_id: str, *, title: str = "Slack modal") -> str:
    return pages.view_page(collect(sandbox), view_id, title=title, now=_now())


def render_home(sandbox: SlackSandbox, user: str, *, title: str = "Slack App Home") -> str:
    return pages.home_page(collect(sandbox), user, title=title, now=_now())
