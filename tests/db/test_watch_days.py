"""The first week's check-ins fall on working days: nobody is asked, or nudged, on a day off."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.reminder_plan import ReminderPolicy
from bot.services.golive import checkin_time
from models import GoLive


def test_check_ins_count_working_days_from_the_go_live():
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    golive = GoLive(started_at=friday, days=7)
    days = [checkin_time(golive, d, "Europe/Berlin", ReminderPolicy()) for d in range(1, 8)]
    assert [d.strftime("%a %d") for d in days] == ["Mon 07", "Tue 08", "Wed 09", "Thu 10", "Fri 11", "Mon 14",
                                                   "Tue 15"]
    assert all(d.astimezone(UTC).hour == 8 for d in days)  # 09:00 in Berlin (UTC+1), the window start
    every_day = ReminderPolicy(working_days=frozenset(range(7)))
    assert checkin_time(golive, 1, "Europe/Berlin", every_day).strftime("%a %d") == "Sat 05"
