"""Reminder planning for open gaps: which reminder goes to whom, and when. Pure core.

A gap (an item marked Partial or Yes, with an owner and a due date) produces direct messages before,
on and after its due date, and one escalation; each goes out at the start of the owner's working window
in the owner's time zone. The planner only says *what* should be sent *when*; storing, deduplicating
and sending belong to the shell. Standard library and pydantic only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# A day may lack a usable window (a zone that skipped a whole calendar day, or a window lying inside
# a DST gap), so the search for the next working start looks a little further than one week.
_SEARCH_DAYS = 15


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    ESCALATION = "escalation"


_KIND_ORDER = {kind: n for n, kind in enumerate(ReminderKind)}


class ReminderPolicy(BaseModel):
    """When reminders go out. Times are owner-local wall-clock times; weekdays count Monday as 0."""

    model_config = ConfigDict(frozen=True)

    days_before: int = Field(default=2, ge=0)
    escalate_after_days: int = Field(default=2, ge=1)
    window_start: time = time(9)
    window_end: time = time(18)
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    grace: timedelta = timedelta(days=1)
    horizon_days: int = Field(default=3, ge=0)

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, days: frozenset[int]) -> frozenset[int]:
        if not days:
            raise ValueError("working_days must not be empty")
        if not days <= frozenset(range(7)):
            raise ValueError("working_days must be weekday numbers 0 (Monday) to 6 (Sunday)")
        return days

    @field_validator("window_start", "window_end")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("window times are owner-local wall-clock times, without a time zone")
        return value

    @field_validator("grace")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("grace must not be negative")
        return value

    @model_validator(mode="after")
    def _window_order(self) -> ReminderPolicy:
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


DEFAULT_POLICY = ReminderPolicy()


@dataclass(frozen=True)
class GapRef:
    assessment_id: int
    item_id: str
    owner: str
    due: date


@dataclass(frozen=True)
class PlannedReminder:
    dedupe_key: str
    kind: ReminderKind
    assessment_id: int
    item_id: str
    owner: str
    due: date
    day: date  # the nominal owner-local day, before moving to a working day
    send_at: datetime  # aware, UTC


def zone(tz: str | None) -> ZoneInfo:
    """The owner's time zone; an empty or unknown name means UTC. Never raises."""
    if not tz or not tz.strip():
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(tz.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        return ZoneInfo("UTC")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment


def _local_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time is its first occurrence; a time inside a DST gap moves forward
    # by the gap (02:30 on a spring-forward day becomes 03:30).
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _inside(local: datetime, policy: ReminderPolicy) -> bool:
    return local.weekday() in policy.working_days and policy.window_start <= local.time() < policy.window_end


def _window_start(day: date, tz: ZoneInfo, policy: ReminderPolicy) -> datetime | None:
    """UTC start of the working window on a local day, or None when the day has no window."""
    start = _local_utc(day, policy.window_start, tz)
    local = start.astimezone(tz)
    return start if local.date() == day and _inside(local, policy) else None


def in_working_hours(moment: datetime, tz: str | None, policy: ReminderPolicy = DEFAULT_POLICY) -> bool:
    """Whether the moment falls on a working day, inside [window_start, window_end), owner-local."""
    return _inside(_aware(moment).astimezone(zone(tz)), policy)


def next_working_start(moment: datetime, tz: str | None, policy: ReminderPolicy = DEFAULT_POLICY) -> datetime:
    """The first moment at or after `moment` inside the working window (UTC); `moment` itself if inside."""
    moment = _aware(moment).astimezone(UTC)
    if in_working_hours(moment, tz, policy):
        return moment
    tzinfo = zone(tz)
    return _first_start(moment.astimezone(tzinfo).date(), tzinfo, policy, not_before=moment)


def _first_start(day: date, tz: ZoneInfo, policy: ReminderPolicy, not_before: datetime | None = None) -> datetime:
    for offset in range(_SEARCH_DAYS):
        start = _window_start(day + timedelta(days=offset), tz, policy)
        if start is not None and (not_before is None or start >= not_before):
            return start
    raise ValueError(f"no working window within {_SEARCH_DAYS} days of {day}")  # pragma: no cover


def end_of_working_day(day: date, tz: str | None, policy: ReminderPolicy = DEFAULT_POLICY) -> datetime:
    """UTC moment the working window ends on the given owner-local day (working day or not)."""
    return _local_utc(day, policy.window_end, zone(tz))


def dedupe_key(gap: GapRef, kind: ReminderKind, day: date) -> str:
    return f"gap:{gap.assessment_id}:{gap.item_id}:{kind}:{day.isoformat()}:{gap.owner}"


def plan_gap(
    gap: GapRef, tz: str | None, now: datetime, policy: ReminderPolicy = DEFAULT_POLICY
) -> list[PlannedReminder]:
    """Every reminder of one open gap still worth sending, sorted by send time then kind.

    Reminders that would have gone out before `now - grace` are dropped; overdue reminders are planned
    up to `now + horizon_days`. A reminder whose nominal day is not a working day goes out at the start
    of the next working day; overdue reminders are only produced for working days (the next working
    day's overdue reminder stands for the days in between).
    """
    now = _aware(now).astimezone(UTC)
    tzinfo = zone(tz)
    earliest = now - policy.grace
    horizon = now + timedelta(days=policy.horizon_days)
    planned: list[PlannedReminder] = []

    def add(kind: ReminderKind, day: date, send_at: datetime | None = None) -> None:
        send_at = send_at or _first_start(day, tzinfo, policy)
        if send_at >= earliest:
            planned.append(
                PlannedReminder(
                    dedupe_key=dedupe_key(gap, kind, day), kind=kind, assessment_id=gap.assessment_id,
                    item_id=gap.item_id, owner=gap.owner, due=gap.due, day=day, send_at=send_at,
                )
            )

    if policy.days_before > 0:  # with 0 the due-soon day is the due day, which due_today covers
        add(ReminderKind.DUE_SOON, gap.due - timedelta(days=policy.days_before))
    add(ReminderKind.DUE_TODAY, gap.due)
    add(ReminderKind.ESCALATION, gap.due + timedelta(days=policy.escalate_after_days))

    # Skip the overdue days long past (a gap overdue for years must not loop through all of them).
    first = max(1, (earliest.astimezone(tzinfo).date() - gap.due).days - 1)
    day = gap.due + timedelta(days=first)
    while True:
        if day.weekday() in policy.working_days:
            send_at = _first_start(day, tzinfo, policy)
            if send_at > horizon:
                break
            add(ReminderKind.OVERDUE, day, send_at)
        day += timedelta(days=1)

    planned.sort(key=lambda r: (r.send_at, _KIND_ORDER[r.kind], r.day))
    return planned
