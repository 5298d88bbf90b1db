"""One chaos replica: ``readiness serve`` exactly as shipped, with two changes for the test's hand-timed gaps.

Run as a script: ``python tests/chaos/replica.py --host 127.0.0.1 --port 0`` (arguments after the script
name go to ``readiness serve``). Settings come from the environment as for the real command.

Why the change: the reconcile runs once when a replica starts (then every RECONCILE_INTERVAL_SECONDS)
and makes each open gap's outbox rows match the working-hours plan, cancelling any other row of the
gap. The chaos test needs reminders coming due second by second over half a minute, which no working-hours
plan produces, so it writes those rows itself for gaps of assessments whose system name starts with
``TIMED_PREFIX``, and the reconcile of this replica leaves those gaps alone. Every other gap (the test
has some whose rows the product plans) is reconciled as usual. For the same reason those gaps' reminders are not
held back by the one-reminder-a-working-day rule. Sweeps, claims, leases, the reaper,
delivery and the crash points are the product's own code, untouched.
"""

from __future__ import annotations

import sys

TIMED_PREFIX = "chaos-timed-"


def _leave_timed_gaps_to_the_test() -> None:
    from bot.services import reminders

    original = reminders.replan_gap

    def replan_gap(session, assessment, row, now, policy):  # type: ignore[no-untyped-def]
        if assessment.system.startswith(TIMED_PREFIX):
            return 0
        return original(session, assessment, row, now, policy)

    reconcile = getattr(reminders, "reconcile", None)
    if reconcile is None or "replan_gap" not in reconcile.__code__.co_names:
        # Without this the replica's first reconcile would cancel the test's rows: fail loudly instead.
        raise SystemExit("bot.services.reminders.reconcile no longer calls replan_gap: update tests/chaos/replica.py")
    reminders.replan_gap = replan_gap  # reconcile() looks replan_gap up in its module at call time


def _timed_gaps_are_not_held_for_the_day() -> None:
    """The test's timed rows come due second by second for the same owners: the one-reminder-a-working-day rule
    would hold all but the first until tomorrow. For those gaps alone it is off; every other row keeps it."""
    from models import Assessment
    from scheduler import messages

    original = messages.reminded_today

    def reminded_today(session, row, moment, tz):  # type: ignore[no-untyped-def]
        assessment = session.get(Assessment, row.assessment_id) if row.assessment_id is not None else None
        if assessment is not None and assessment.system.startswith(TIMED_PREFIX):
            return False
        return original(session, row, moment, tz)

    messages.reminded_today = reminded_today  # compose() looks it up in its module at call time


def main(argv: list[str]) -> int:
    _leave_timed_gaps_to_the_test()
    _timed_gaps_are_not_held_for_the_day()
    from bot.cli.main import main as readiness

    if argv[:1] == ["run"]:  # Socket Mode: `readiness run`
        return readiness(argv)
    return readiness(["serve", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
