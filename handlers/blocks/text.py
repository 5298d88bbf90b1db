"""Small text helpers for Slack mrkdwn: escaping user input, mentions, limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core import words
from bot.core.checklist import Mark, Verdict
from bot.core.slack_ids import is_channel_id, is_user_id

SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150
PLAIN_OPTION_LIMIT = 75

VERDICT_ICON = {
    Verdict.GO: ":large_green_circle:",
    Verdict.NARROW: ":large_yellow_circle:",
    Verdict.HOLD: ":large_orange_circle:",
    Verdict.NO_GO: ":red_circle:",
    Verdict.INCOMPLETE: ":white_circle:",
}
# One word for each thing (bot.core.words), the same in Slack, the packet and the command line. The checklist
# asks about problems ("Is there no …?"), so each answer says what it means for the rollout.
CHOICE = {m: words.mark_choice(m) for m in Mark}
VERDICT_WORD = {v: words.VERDICT[v] for v in Verdict}
MARK_ICON = {Mark.NO: ":white_check_mark:", Mark.PARTIAL: ":warning:", Mark.YES: ":x:"}


def esc(text: str | None) -> str:
    """Escape user text for mrkdwn: it cannot form links, mentions or channel pings."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user(user_id: str | None) -> str:
    """A mention of a person by id; anything that is not a Slack user id is shown as escaped text."""
    if not user_id:
        return "nobody"
    return f"<@{user_id}>" if is_user_id(user_id) else esc(user_id)


def channel(channel_id: str | None) -> str:
    if not channel_id:
        return "no channel"
    return f"<#{channel_id}>" if is_channel_id(channel_id) else esc(channel_id)


def day(value: date | None) -> str:
    """A date as Slack shows it to each reader (a date token), with the ISO date where tokens are not read."""
    if value is None:
        return "no date"
    stamp = int(datetime(value.year, value.month, value.day, 12, tzinfo=UTC).timestamp())  # midday: the same day everywhere
    return f"<!date^{stamp}^{{date_short}}|{value.isoformat()}>"


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    stamp = int(value.timestamp())
    fallback = value.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def verdict(v: Verdict) -> str:
    return f"{VERDICT_ICON[v]} *{VERDICT_WORD[v]}*"


def split_lines(lines: list[str], limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Join lines into as few texts as fit the limit; a too-long single line is clipped."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
