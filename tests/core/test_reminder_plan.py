"""Reminder planning on plain inputs: which reminder, for which day, sent at which UTC moment."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.core.reminder_plan import (
    GapRef,
    ReminderKind,
    ReminderPolicy,
    end_of_working_day,
    in_working_hours,
    next_working_start,
    plan_gap,
    zone,
)

K = ReminderKind
ALL_WEEK = ReminderPolicy(working_days=frozenset(range(7)))


def gap(due: date, owner: str = "U0DANA", item_id: str = "s14", assessment_id: int = 12) -> GapRef:
    return GapRef(assessment_id=assessment_id, item_id=item_id, owner=owner, due=due)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def summary(plan) -> list[tuple[ReminderKind, date, datetime]]:
    return [(r.kind, r.day, r.send_at) for r in plan]


def sent(plan, kind: ReminderKind) -> list[datetime]:
    return [r.send_at for r in plan if r.kind is kind]


# --- the sequence of reminders -----------------------------------------------------------------

def test_due_soon_due_today_overdue_and_escalation_days():
    # Due Wednesday 2 Dec 2026, owner on UTC, planned from the Monday before with a wide horizon.
    plan = plan_gap(gap(date(2026, 12, 2)), "UTC", utc(2026, 11, 30), ReminderPolicy(horizon_days=7))
    assert summary(plan) == [
        (K.DUE_SOON, date(2026, 11, 30), utc(2026, 11, 30, 9)),
        (K.DUE_TODAY, date(2026, 12, 2), utc(2026, 12, 2, 9)),
        (K.OVERDUE, date(2026, 12, 3), utc(2026, 12, 3, 9)),
        (K.OVERDUE, date(2026, 12, 4), utc(2026, 12, 4, 9)),
        (K.ESCALATION, date(2026, 12, 4), utc(2026, 12, 4, 9)),
    ]


def test_the_escalation_day_also_gets_its_overdue_dm():
    plan = plan_gap(gap(date(2026, 12, 2)), "UTC", utc(2026, 12, 4, 8))
    on_escalation_day = [r for r in plan if r.day == date(2026, 12, 4)]
    assert [r.kind for r in on_escalation_day] == [K.OVERDUE, K.ESCALATION]
    assert len({r.dedupe_key for r in on_escalation_day}) == 2


def test_policy_changes_the_days():
    policy = ReminderPolicy(days_before=3, escalate_after_days=1, horizon_days=7)
    plan = plan_gap(gap(date(2026, 12, 10)), "UTC", utc(2026, 12, 1), policy)
    assert sent(plan, K.DUE_SOON) == [utc(2026, 12, 7, 9)]
    assert sent(plan, K.ESCALATION) == [utc(2026, 12, 11, 9)]


def test_days_before_zero_means_no_separate_due_soon():
    plan = plan_gap(gap(date(2026, 12, 2)), "UTC", utc(2026, 11, 30), ReminderPolicy(days_before=0))
    assert sent(plan, K.DUE_SOON) == []
    assert sent(plan, K.DUE_TODAY) == [utc(2026, 12, 2, 9)]


def test_dedupe_key_format():
    plan = plan_gap(gap(date(2026, 12, 2)), "UTC", utc(2026, 12, 3, 8))
    assert "gap:12:s14:overdue:2026-12-03:U0DANA" in [r.dedupe_key for r in plan]


# --- weekends -----------------------------------------------------------------------------------

def test_due_soon_on_saturday_goes_out_monday_and_keeps_its_nominal_day_in_the_key():
    plan = plan_gap(gap(date(2026, 12, 7)), "UTC", utc(2026, 12, 1))  # due Monday
    due_soon, due_today = plan[0], plan[1]
    assert (due_soon.kind, due_soon.day, due_soon.send_at) == (K.DUE_SOON, date(2026, 12, 5), utc(2026, 12, 7, 9))
    assert due_soon.dedupe_key == "gap:12:s14:due_soon:2026-12-05:U0DANA"
    # Same send time as the due-day reminder: both kept, the digest merges them later.
    assert (due_today.kind, due_today.send_at) == (K.DUE_TODAY, utc(2026, 12, 7, 9))


def test_overdue_only_on_working_days_and_a_weekend_escalation_moves_to_monday():
    plan = plan_gap(gap(date(2026, 12, 3)), "UTC", utc(2026, 12, 4, 10))  # due Thursday
    assert [r.day for r in plan if r.kind is K.OVERDUE] == [date(2026, 12, 4), date(2026, 12, 7)]
    (escalation,) = [r for r in plan if r.kind is K.ESCALATION]
    assert (escalation.day, escalation.send_at) == (date(2026, 12, 5), utc(2026, 12, 7, 9))


def test_a_due_date_on_saturday_is_reminded_on_monday():
    plan = plan_gap(gap(date(2026, 12, 5)), "UTC", utc(2026, 12, 5))
    assert summary(plan)[:3] == [
        (K.DUE_TODAY, date(2026, 12, 5), utc(2026, 12, 7, 9)),
        (K.OVERDUE, date(2026, 12, 7), utc(2026, 12, 7, 9)),
        (K.ESCALATION, date(2026, 12, 7), utc(2026, 12, 7, 9)),
    ]


def test_configured_working_days_and_window():
    policy = ReminderPolicy(working_days=frozenset({6, 0, 1, 2, 3}), window_start=time(8, 30), window_end=time(17))
    plan = plan_gap(gap(date(2026, 12, 6)), "UTC", utc(2026, 12, 1), policy)  # due Sunday, a working day
    assert sent(plan, K.DUE_TODAY) == [utc(2026, 12, 6, 8, 30)]
    assert sent(plan, K.DUE_SOON) == [utc(2026, 12, 6, 8, 30)]  # Friday is off: moved to Sunday


# --- time zones and DST ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("tz", "send_at"),
    [
        ("Asia/Tokyo", utc(2026, 12, 3, 0)),
        ("America/Los_Angeles", utc(2026, 12, 3, 17)),
        ("Europe/Berlin", utc(2026, 12, 3, 8)),
        ("Asia/Kolkata", utc(2026, 12, 3, 3, 30)),
        ("UTC", utc(2026, 12, 3, 9)),
    ],
)
def test_nine_local_in_each_owners_zone(tz, send_at):
    (due_today,) = [r for r in plan_gap(gap(date(2026, 12, 3)), tz, utc(2026, 11, 25)) if r.kind is K.DUE_TODAY]
    assert due_today.send_at == send_at
    assert due_today.send_at.tzinfo is UTC
    assert due_today.send_at.astimezone(ZoneInfo(tz)).time() == time(9)


def test_unknown_or_empty_zone_means_utc():
    expected = plan_gap(gap(date(2026, 12, 3)), "UTC", utc(2026, 11, 25))
    for tz in (None, "", "Mars/Olympus", "../etc/passwd"):
        assert plan_gap(gap(date(2026, 12, 3)), tz, utc(2026, 11, 25)) == expected
        assert zone(tz) == ZoneInfo("UTC")
    assert zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("tz", "dst_day", "before", "on_the_day"),
    [
        ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
    ],
)
def test_nine_local_on_the_dst_change_day(tz, dst_day, before, on_the_day):
    policy = ReminderPolicy(days_before=1, working_days=frozenset(range(7)))  # the change is on a Sunday
    plan = plan_gap(gap(dst_day), tz, utc(2026, 3, 1), policy)
    assert sent(plan, K.DUE_SOON) == [before]
    assert sent(plan, K.DUE_TODAY) == [on_the_day]


def test_a_weekend_escalation_over_the_dst_change_lands_at_nine_summer_time():
    plan = plan_gap(gap(date(2026, 3, 27)), "Europe/Berlin", utc(2026, 3, 20))  # due Friday, winter time
    assert sent(plan, K.DUE_TODAY) == [utc(2026, 3, 27, 8)]
    assert sent(plan, K.ESCALATION) == [utc(2026, 3, 30, 7)]  # Sunday 29 -> Monday 09:00 CEST


def test_a_window_starting_inside_the_dst_gap_opens_when_the_clock_reaches_it():
    policy = ReminderPolicy(window_start=time(2, 30), working_days=frozenset(range(7)))
    plan = plan_gap(gap(date(2026, 3, 8)), "America/New_York", utc(2026, 3, 1), policy)
    (due_today,) = [r for r in plan if r.kind is K.DUE_TODAY]
    assert due_today.send_at == utc(2026, 3, 8, 7, 30)  # 02:30 does not exist; 03:30 EDT
    assert in_working_hours(due_today.send_at, "America/New_York", policy)


# --- grace and horizon ----------------------------------------------------------------------------

def test_a_reminder_missed_by_less_than_the_grace_is_still_planned():
    due = date(2026, 12, 3)  # Thursday; its due-today reminder is at 09:00 UTC
    assert sent(plan_gap(gap(due), "UTC", utc(2026, 12, 4, 8, 59)), K.DUE_TODAY) == [utc(2026, 12, 3, 9)]
    assert sent(plan_gap(gap(due), "UTC", utc(2026, 12, 4, 9)), K.DUE_TODAY) == [utc(2026, 12, 3, 9)]
    assert sent(plan_gap(gap(due), "UTC", utc(2026, 12, 4, 9, 1)), K.DUE_TODAY) == []
    # A system that comes back at 20:00 (the planner is only ever asked with the moment it is called)
    # still sends this morning's reminder, but not Tuesday's due-soon, missed by more than the grace.
    evening = plan_gap(gap(due), "UTC", utc(2026, 12, 3, 20))
    assert sent(evening, K.DUE_TODAY) == [utc(2026, 12, 3, 9)]
    assert sent(evening, K.DUE_SOON) == []
    # With no grace, only what is still ahead is planned.
    assert sent(plan_gap(gap(due), "UTC", utc(2026, 12, 3, 9, 1), ReminderPolicy(grace=timedelta(0))), K.DUE_TODAY) == []
    assert sent(plan_gap(gap(due), "UTC", utc(2026, 12, 3, 9), ReminderPolicy(grace=timedelta(0))), K.DUE_TODAY) == [
        utc(2026, 12, 3, 9)
    ]


def test_overdue_is_planned_only_up_to_the_horizon_and_old_misses_are_dropped():
    plan = plan_gap(gap(date(2026, 12, 2)), "UTC", utc(2026, 12, 7, 10))  # Monday, overdue since Thursday
    assert summary(plan) == [
        (K.OVERDUE, date(2026, 12, 7), utc(2026, 12, 7, 9)),
        (K.OVERDUE, date(2026, 12, 8), utc(2026, 12, 8, 9)),
        (K.OVERDUE, date(2026, 12, 9), utc(2026, 12, 9, 9)),
        (K.OVERDUE, date(2026, 12, 10), utc(2026, 12, 10, 9)),
    ]


def test_a_gap_overdue_for_years_plans_only_the_next_days():
    plan = plan_gap(gap(date(2020, 1, 1)), "UTC", utc(2026, 12, 7, 10))
    assert [r.day for r in plan] == [date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 10)]


def test_a_gap_due_far_ahead_has_no_overdue_reminders_yet():
    plan = plan_gap(gap(date(2027, 6, 1)), "UTC", utc(2026, 12, 1))
    assert [r.kind for r in plan] == [K.DUE_SOON, K.DUE_TODAY, K.ESCALATION]


def test_an_overdue_day_still_inside_the_grace_is_planned_for_a_gap_long_overdue():
    # Due 20 Nov, planned on Thursday 3 Dec at 08:00: Wednesday's 09:00 overdue DM is within the day's grace.
    plan = plan_gap(gap(date(2026, 11, 20)), "UTC", utc(2026, 12, 3, 8))
    assert [r.day for r in plan if r.kind is K.OVERDUE] == [date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)]


def test_an_overdue_reminder_exactly_at_the_horizon_is_planned():
    plan = plan_gap(gap(date(2026, 12, 1)), "UTC", utc(2026, 12, 4, 9))  # horizon: Monday 7 Dec 09:00
    assert [r.send_at for r in plan if r.kind is K.OVERDUE][-1] == utc(2026, 12, 7, 9)
    plan = plan_gap(gap(date(2026, 12, 1)), "UTC", utc(2026, 12, 4, 8, 59))
    assert [r.send_at for r in plan if r.kind is K.OVERDUE][-1] == utc(2026, 12, 4, 9)


@pytest.mark.parametrize("server_tz", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/St_Johns"])
def test_nothing_depends_on_the_servers_own_time_zone(monkeypatch, server_tz):
    import time as time_module

    def run():
        policy = ReminderPolicy(window_start=time(22, 30), window_end=time(23, 59), working_days=frozenset(range(7)))
        return (
            plan_gap(gap(date(2026, 11, 25)), "Etc/GMT+12", utc(2026, 12, 4, 10, 10), policy),
            next_working_start(utc(2026, 12, 4, 10, 10), "Etc/GMT+12", policy),
            next_working_start(utc(2026, 12, 5, 10, 40), "Pacific/Kiritimati", ReminderPolicy()),
        )

    expected = run()
    try:
        monkeypatch.setenv("TZ", server_tz)
        time_module.tzset()
        assert run() == expected
    finally:
        monkeypatch.undo()
        time_module.tzset()
    plan, start, kiritimati = expected
    # Planned at 22:10 on 3 Dec at UTC-12 with a day's grace: the 22:30 window of 2 Dec is not missed by
    # more than the grace, so 2 Dec's overdue DM is the first (a server east of the date line must agree).
    assert [r.day for r in plan if r.kind is K.OVERDUE][0] == date(2026, 12, 2)
    assert start == utc(2026, 12, 4, 10, 30) and start.tzinfo is UTC
    assert kiritimati == utc(2026, 12, 6, 19)  # 00:40 Sunday at UTC+14 -> Monday 09:00


def test_a_moment_inside_the_window_comes_back_in_utc():
    tokyo = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    start = next_working_start(tokyo, "Asia/Tokyo", ReminderPolicy())
    assert start == tokyo and start.tzinfo is UTC


def test_a_time_zone_that_gives_no_offset_is_refused():
    from datetime import tzinfo

    class NoOffset(tzinfo):
        def utcoffset(self, dt):
            return None

        def dst(self, dt):
            return None

    for call in (lambda m: plan_gap(gap(date(2026, 12, 3)), "UTC", m), lambda m: in_working_hours(m, "UTC")):
        with pytest.raises(ValueError, match=r"^a timezone-aware datetime is required$"):
            call(datetime(2026, 12, 1, 10, tzinfo=NoOffset()))
        with pytest.raises(ValueError, match=r"^a timezone-aware datetime is required$"):
            call(datetime(2026, 12, 1, 10))


# --- keys across replans -------------------------------------------------------------------------

def test_another_owner_or_due_date_gives_other_keys():
    now = utc(2026, 11, 25)
    keys = {r.dedupe_key for r in plan_gap(gap(date(2026, 12, 3)), "UTC", now)}
    other_owner = {r.dedupe_key for r in plan_gap(gap(date(2026, 12, 3), owner="U0EVE"), "UTC", now)}
    other_due = {r.dedupe_key for r in plan_gap(gap(date(2026, 12, 10)), "UTC", now)}
    assert keys.isdisjoint(other_owner)
    assert keys.isdisjoint(other_due)


def test_keys_do_not_depend_on_the_window_or_the_zone():
    now = utc(2026, 11, 25)
    keys = [r.dedupe_key for r in plan_gap(gap(date(2026, 12, 3)), "UTC", now)]
    policy = ReminderPolicy(window_start=time(7), window_end=time(12))
    assert [r.dedupe_key for r in plan_gap(gap(date(2026, 12, 3)), "Asia/Tokyo", now, policy)] == keys


# --- the working window --------------------------------------------------------------------------

def test_in_working_hours_edges():
    assert not in_working_hours(utc(2026, 12, 4, 8, 59), "UTC")
    assert in_working_hours(utc(2026, 12, 4, 9), "UTC")
    assert in_working_hours(utc(2026, 12, 4, 17, 59), "UTC")
    assert not in_working_hours(utc(2026, 12, 4, 18), "UTC")
    assert not in_working_hours(utc(2026, 12, 5, 12), "UTC")  # Saturday
    assert in_working_hours(utc(2026, 12, 5, 12), "UTC", ALL_WEEK)
    assert in_working_hours(utc(2026, 12, 4, 0, 30), "Asia/Tokyo")  # 09:30 JST Friday


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (utc(2026, 12, 4, 12), "UTC", utc(2026, 12, 4, 12)),  # inside: now itself
        (utc(2026, 12, 1, 7), "UTC", utc(2026, 12, 1, 9)),  # before the window
        (utc(2026, 12, 4, 18), "UTC", utc(2026, 12, 7, 9)),  # Friday evening -> Monday
        (utc(2026, 12, 5, 12), "UTC", utc(2026, 12, 7, 9)),  # Saturday -> Monday
        (utc(2026, 12, 4, 10), "Asia/Tokyo", utc(2026, 12, 7, 0)),  # 19:00 JST Friday -> Monday 09:00 JST
    ],
)
def test_next_working_start(moment, tz, expected):
    assert next_working_start(moment, tz, ReminderPolicy()) == expected


def test_next_working_start_in_another_zone_and_over_dst():
    # 15:00 PST on Thursday is inside; 19:00 PST is not, and the next start is Friday 09:00 PST.
    assert next_working_start(utc(2026, 12, 3, 23), "America/Los_Angeles", ReminderPolicy()) == utc(2026, 12, 3, 23)
    assert next_working_start(utc(2026, 12, 4, 3), "America/Los_Angeles", ReminderPolicy()) == utc(2026, 12, 4, 17)
    assert next_working_start(utc(2026, 3, 7, 20), "Europe/Berlin", ALL_WEEK) == utc(2026, 3, 8, 8)
    assert next_working_start(utc(2026, 3, 28, 20), "Europe/Berlin", ALL_WEEK) == utc(2026, 3, 29, 7)


def test_end_of_working_day():
    assert end_of_working_day(date(2026, 12, 4), "UTC", ReminderPolicy()) == utc(2026, 12, 4, 18)
    assert end_of_working_day(date(2026, 12, 4), "Asia/Kolkata", ReminderPolicy()) == utc(2026, 12, 4, 12, 30)
    assert end_of_working_day(date(2026, 3, 29), "Europe/Berlin", ReminderPolicy()) == utc(2026, 3, 29, 16)
    assert end_of_working_day(date(2026, 3, 29), "Europe/Berlin", ReminderPolicy()).tzinfo is UTC


# --- refusals --------------------------------------------------------------------------------------

def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_gap(gap(date(2026, 12, 3)), "UTC", datetime(2026, 12, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        in_working_hours(datetime(2026, 12, 1, 10), "UTC", ReminderPolicy())
    with pytest.raises(ValueError, match="timezone-aware"):
        next_working_start(datetime(2026, 12, 1, 10), "UTC", ReminderPolicy())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window_start": time(18), "window_end": time(9)},
        {"window_start": time(9), "window_end": time(9)},
        {"working_days": frozenset()},
        {"working_days": frozenset({1, 7})},
        {"days_before": -1},
        {"escalate_after_days": 0},
        {"grace": timedelta(hours=-1)},
    ],
)
def test_policy_refuses_nonsense(kwargs):
    with pytest.raises(ValidationError):
        ReminderPolicy(**kwargs)


def test_policy_is_frozen():
    with pytest.raises(ValidationError):
        ReminderPolicy().days_before = 5  # type: ignore[misc]


def test_the_planner_imports_nothing_impure():
    code = (
        "import sys, bot.core.reminder_plan\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'sqlalchemy', 'apscheduler', 'alembic'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# --- properties --------------------------------------------------------------------------------

ZONES = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "America/New_York",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Pacific/Apia", "", None, "No/Where"]


@st.composite
def policies(draw) -> ReminderPolicy:
    start = draw(st.times(max_value=time(22, 59)).map(lambda t: t.replace(second=0, microsecond=0)))
    minutes = draw(st.integers(min_value=1, max_value=(24 * 60 - 1) - (start.hour * 60 + start.minute)))
    end_total = start.hour * 60 + start.minute + minutes
    return ReminderPolicy(
        days_before=draw(st.integers(0, 6)),
        escalate_after_days=draw(st.integers(1, 6)),
        window_start=start,
        window_end=time(end_total // 60, end_total % 60),
        working_days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        grace=timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))),
        horizon_days=draw(st.integers(0, 10)),
    )


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")]))


def _local_start(day: date, tz: str | None) -> datetime:
    """The UTC instant a local day starts (for a day the zone skipped, the moment it would have)."""
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


def _opens_on(day: date, tz: str | None, policy: ReminderPolicy) -> bool:
    """Whether the working window opens on a local day: a working weekday the zone did not skip, whose
    window start (moved forward by a DST gap) is inside the working hours on that same day."""
    start = datetime.combine(day, policy.window_start, tzinfo=zone(tz)).astimezone(UTC)
    return (day.weekday() in policy.working_days and start.astimezone(zone(tz)).date() == day
            and in_working_hours(start, tz, policy))


def _check_first_window(send_at: datetime, day: date, tz: str | None, policy: ReminderPolicy) -> None:
    """`send_at` is the first opening of the working window on `day` or after it."""
    local = send_at.astimezone(zone(tz))
    assert local.date() >= day
    assert in_working_hours(send_at, tz, policy)
    # by design a window start inside a DST gap moves forward by the gap (02:01 on a spring-forward day opens at
    # 03:01, though 03:00 is already inside the hours): that start counts as the opening too
    moved = datetime.combine(local.date(), policy.window_start, tzinfo=zone(tz)).astimezone(UTC)
    assert not in_working_hours(send_at - timedelta(minutes=1), tz, policy) or send_at in (_local_start(day, tz),
                                                                                          moved)
    skipped = day
    while skipped < local.date():  # every day before it had no window
        assert not _opens_on(skipped, tz, policy), (skipped, send_at)
        skipped += timedelta(days=1)


# "Now" is drawn around the due date (from a few days before the due-soon day to past the escalation),
# so every kind of reminder comes up. Pacific/Apia skipped 30 December 2011 (from the 29th straight to
# the 31st): due dates around it put nominal reminder days on a day that did not exist there.
APIA_SKIPPED = date(2011, 12, 30)
due_and_zone = st.one_of(
    st.tuples(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)), st.sampled_from(ZONES)),
    st.tuples(st.dates(min_value=date(2011, 12, 22), max_value=date(2012, 1, 5)), st.just("Pacific/Apia")),
)


def test_plan_properties():
    reached: set[str] = set()

    @settings(max_examples=400, deadline=None)
    @given(drawn=due_and_zone, policy=policies(), minutes=st.integers(-10 * 24 * 60, 14 * 24 * 60))
    def check(drawn, policy, minutes):
        due, tz = drawn
        now = _local_start(due, tz) + timedelta(minutes=minutes)
        plan = plan_gap(gap(due), tz, now, policy)
        earliest, horizon = now - policy.grace, now + timedelta(days=policy.horizon_days)
        keys = [r.dedupe_key for r in plan]
        assert len(keys) == len(set(keys))
        assert [r.send_at for r in plan] == sorted(r.send_at for r in plan)
        for r in plan:
            assert r.send_at.tzinfo is UTC
            assert r.send_at >= earliest
            assert (r.assessment_id, r.item_id, r.owner, r.due) == (12, "s14", "U0DANA", due)
            assert r.dedupe_key == f"gap:12:s14:{r.kind}:{r.day.isoformat()}:U0DANA"
            _check_first_window(r.send_at, r.day, tz, policy)
            reached.add(r.kind.value)
            if tz == "Pacific/Apia" and r.day == APIA_SKIPPED:
                reached.add("a day the zone skipped")

        # The due-soon, due-today and escalation days follow from the due date alone; each is planned
        # (once) unless its day started before the grace.
        nominal = {K.DUE_TODAY: due, K.ESCALATION: due + timedelta(days=policy.escalate_after_days)}
        if policy.days_before:
            nominal[K.DUE_SOON] = due - timedelta(days=policy.days_before)
        else:
            assert sent(plan, K.DUE_SOON) == []
        for kind, day in nominal.items():
            mine = [r for r in plan if r.kind is kind]
            assert [r.day for r in mine] in ([], [day])
            if _local_start(day, tz) >= earliest:
                assert mine, (kind, day)

        # Overdue: one per working weekday after the due date, from the first not missed by more than the
        # grace, up to the horizon, none skipped in between (each goes out at its day's first window).
        overdue = [r.day for r in plan if r.kind is K.OVERDUE]
        assert overdue == sorted(overdue)
        for day in overdue:
            assert day > due and day.weekday() in policy.working_days
        assert all(r.send_at <= horizon for r in plan if r.kind is K.OVERDUE)
        start = due + timedelta(days=1)
        if overdue and _local_start(start, tz) < earliest:
            start = overdue[0]
        day = start
        while overdue and day < overdue[-1]:
            assert day in overdue or day.weekday() not in policy.working_days, day
            day += timedelta(days=1)

    check()
    expected = {kind.value for kind in ReminderKind} | {"a day the zone skipped"}
    assert reached == expected, f"the strategy never reached {sorted(expected - reached)}"


@settings(max_examples=200, deadline=None)
@given(moment=moments, tz=st.sampled_from(ZONES), policy=policies())
def test_next_working_start_properties(moment, tz, policy):
    start = next_working_start(moment, tz, policy)
    moment = moment.astimezone(UTC)  # a wall time inside a DST gap never equals an instant in another zone
    assert start >= moment
    assert in_working_hours(start, tz, policy)
    if in_working_hours(moment, tz, policy):
        assert start == moment
