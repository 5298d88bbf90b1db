"""Slack's ``<!date^ts^format|fallback>`` tokens, formatted as Slack's client shows them (en-US)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sandbox.slack_html.context import Names

TOKEN = re.compile(r"\{([a-z_]+)\}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _time(moment: datetime, seconds: bool = False) -> str:
    hour = moment.hour % 12 or 12
    secs = f":{moment.second:02d}" if seconds else ""
    return f"{hour}:{moment.minute:02d}{secs} {'AM' if moment.hour < 12 else 'PM'}"


def _relative(day: date, today: date | None) -> str | None:
    if today is None:
        return None
    return {0: "today", -1: "yesterday", 1: "tomorrow"}.get((day - today).days)


def _ago(moment: datetime, now: datetime | None) -> str | None:
    if now is None:
        return None
    seconds = int((now - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return "just now"


def moment_of(ts: float, tz: str) -> datetime | None:
    """The local time of a Unix timestamp, or None for one no calendar has (NaN, out of range)."""
    try:
        return datetime.fromtimestamp(ts, _zone(tz))
    except (OverflowError, OSError, ValueError):
        return None


def clock_time(ts: float, tz: str) -> str:
    """A message's time as Slack prints it next to the author: ``2:05 PM``."""
    moment = moment_of(ts, tz)
    return _time(moment) if moment is not None else ""


def day_and_time(ts: float, tz: str) -> str:
    """``Tue, Dec 1, 2026 2:05 PM``: for labels that need the day as well."""
    moment = moment_of(ts, tz)
    return f"{moment:%a, %b} {moment.day}, {moment.year} {_time(moment)}" if moment is not None else ""


def format_date(stamp: int, pattern: str, names: Names) -> str | None:
    """The text Slack shows for ``{date_short} at {time}``-style patterns; None when a token is unknown."""
    moment = moment_of(stamp, names.tz)
    if moment is None:
        return None
    now = names.now.astimezone(_zone(names.tz)) if names.now is not None else None
    today = now.date() if now is not None else None
    month, weekday = f"{moment:%B}", f"{moment:%A}"
    plain = {
        "date_num": moment.strftime("%Y-%m-%d"),
        "date": f"{month} {_ordinal(moment.day)}, {moment.year}",
        "date_short": f"{moment:%b} {moment.day}, {moment.year}",
        "date_long": f"{weekday}, {month} {_ordinal(moment.day)}, {moment.year}",
        "time": _time(moment),
        "time_secs": _time(moment, seconds=True),
    }
    relative = _relative(moment.date(), today)
    for kind in ("date", "date_short", "date_long"):
        plain[f"{kind}_pretty"] = relative or plain[kind]
    ago = _ago(moment, now)
    if ago is not None:
        plain["ago"] = ago
    missing = [t for t in TOKEN.findall(pattern) if t not in plain]
    if missing:
        return None
    return TOKEN.sub(lambda m: plain[m.group(1)], pattern)


def as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def picker_date(value: str) -> str:
    """A datepicker's chosen day as Slack's control shows it: ``Tue, Dec 1, 2026``."""
    day = as_date(value)
    if day is None:
        return value
    return f"{day:%a, %b} {day.day}, {day.year}"


def picker_datetime(stamp: int, tz: str) -> str:
    moment = moment_of(stamp, tz)
    if moment is None:
        return str(stamp)
    return f"{picker_date(moment.date().isoformat())} {_time(moment)}"


def picker_time(value: str) -> str:
    """A timepicker's ``HH:mm`` as ``2:05 PM``."""
    try:
        hours, minutes = (int(p) for p in value.split(":")[:2])
        return _time(datetime(2000, 1, 1) + timedelta(hours=hours, minutes=minutes))
    except (ValueError, AttributeError):
        return str(value)
