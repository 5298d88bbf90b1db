"""Whether the bot can use a channel for a review: post there, and read it back (Slack's rules for a bot).

A bot token reads only the conversations it is in, shares files only there, and cannot see a private
channel or a direct message it is not in at all. A review's channel and its release channel therefore
need the bot as a member: invited, or (when the workspace allows it in `/readiness config`) joined by the
bot itself, which Slack permits for public channels only.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.blocks import text as t

log = logging.getLogger(__name__)

INVITE = "Invite @Readiness there (type `/invite @Readiness` in that channel), or pick another channel."


UNSEEN = ("channel_not_found", "not_in_channel", "channel_is_limited_access")  # Slack's answers where it is not in


def cannot_post_here(what: str, command: str) -> str:
    """What a person is told, privately, when Readiness cannot post ``what`` in the conversation where they ran
    ``command`` (Slack delivers a command from anywhere; a bot posts only where it may)."""
    return (f"Readiness cannot post {what} in this conversation: it is private, or a direct message Readiness is "
            f"not part of. Invite @Readiness here (type `/invite @Readiness`), or run `{command}` in a channel "
            "Readiness is in.")


def channel_problem(client: WebClient, channel_id: str, *, may_join: bool) -> str | None:
    """What stops the bot from using ``channel_id`` (one sentence with what to do), or None. Joins a public
    channel it is not in when ``may_join``."""
    where = t.channel(channel_id)
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in ("channel_not_found", "channel_is_limited_access"):  # (not_in_channel is not info's answer)
            return f"Readiness cannot see {where}: it is private, or a direct message it is not part of. {INVITE}"
        log.warning("conversations.info %s: %s", channel_id, error)
        return f"Readiness could not check {where} just now ({error}). Please try again."
    if info.get("is_archived"):
        return f"{where} is archived: pick another channel."
    if info.get("is_member") or info.get("is_im"):
        return None
    if info.get("is_private") or info.get("is_mpim"):
        return f"Readiness is not in {where}. {INVITE}"
    if not may_join:
        return (f"Readiness is not in {where}. {INVITE} (A workspace admin can let Readiness join public channels "
                "by itself in `/readiness config`.)")
    try:
        client.conversations_join(channel=channel_id)
    except SlackApiError as exc:
        log.warning("conversations.join %s: %s", channel_id, exc.response.get("error"))
        return f"Readiness could not join {where} ({exc.response.get('error')}). {INVITE}"
    return None
