"""Whether the bot can use a channel for a review: post there, and read it back (Slack's rules for a bot).

A bot token reads only the conversations it is in, shares files only there, and cannot see a private
channel or a direct message it is not in at all. A review's channel and its release channel therefore
need the bot as a member: invited, or (when the workspace allows it in `/readiness config`) joined by the
bot itself, which Slack permits for public channels only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.blocks import text as t

log = logging.getLogger(__name__)

ClientFor = Callable[[float], WebClient]  # a client whose calls time out after the seconds given

INVITE = "Invite @Readiness there (type `/invite @Readiness` in that channel), or pick another channel."


UNSEEN = ("channel_not_found", "not_in_channel", "channel_is_limited_access")  # Slack's answers where it is not in


def cannot_post_here(what: str, command: str) -> str:
    """What a person is told, privately, when Readiness cannot post ``what`` in the conversation where they ran
    ``command`` (Slack delivers a command from anywhere; a bot posts only where it may)."""
    return (f"Readiness cannot post {what} in this conversation: it is private, or a direct message Readiness is "
            f"not part of. Invite @Readiness here (type `/invite @Readiness`), or run `{command}` in a channel "
            "Readiness is in.")


def channel_problems(client_for: ClientFor, channels: list[str], *, may_join: bool,
                     seconds: float) -> dict[str, str | None]:
    """``channel_problem`` of each channel, all at once (one thread each) and within ``seconds`` in all: every
    call gets what is left of that time as its timeout, and a channel whose check has not ended by then is
    said to be unchecked. Used before an ack, which Slack wants within three seconds."""
    if not channels:
        return {}
    deadline = time.monotonic() + seconds

    def client() -> WebClient:  # each call waits no longer than the time that is left
        return client_for(max(0.05, deadline - time.monotonic()))

    pool = ThreadPoolExecutor(max_workers=len(channels), thread_name_prefix="channel-check")
    try:
        checks = {channel: pool.submit(channel_problem, client, channel, may_join=may_join) for channel in channels}
        wait(checks.values(), timeout=seconds)
    finally:
        pool.shutdown(wait=False)
    return {channel: check.result() if check.done() else too_slow(channel) for channel, check in checks.items()}


def too_slow(channel_id: str) -> str:
    return f"Slack did not answer in time about {t.channel(channel_id)}, so it could not be checked. Please try again."


def channel_problem(client: Callable[[], WebClient], channel_id: str, *, may_join: bool) -> str | None:
    """What stops the bot from using ``channel_id`` (one sentence with what to do), or None. Joins a public
    channel it is not in when ``may_join``. ``client()`` gives the client for each call."""
    try:
        return _problem(client, channel_id, may_join=may_join)
    except (URLError, TimeoutError, OSError) as exc:  # Slack did not answer in time, or could not be reached
        log.warning("checking %s with Slack: %s", channel_id, exc)
        return too_slow(channel_id)


def _problem(client: Callable[[], WebClient], channel_id: str, *, may_join: bool) -> str | None:
    where = t.channel(channel_id)
    try:
        info = client().conversations_info(channel=channel_id)["channel"]
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
        client().conversations_join(channel=channel_id)
    except SlackApiError as exc:
        log.warning("conversations.join %s: %s", channel_id, exc.response.get("error"))
        return f"Readiness could not join {where} ({exc.response.get('error')}). {INVITE}"
    return None
