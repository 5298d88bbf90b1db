"""Chaos: three real replicas, one database, one Slack sandbox, SIGKILLs and crash points.

What runs: three ``readiness serve`` processes (tests/chaos/replica.py: the shipped command, with the
reconcile leaving the test's hand-timed gaps alone) against one PostgreSQL schema or one SQLite file, and
the Slack sandbox in this process. The test first creates ten reviews with 180 open gaps (their owner
DMs are delivered by one replica), then, at once: ten more gaps whose product-planned reminders are due
immediately (due today, due soon, overdue with escalations to the review thread and the release channel),
and about 290 reminders it times itself, due from 10 s before the start to 30 s after it, for the
existing gaps (DM digests, plus escalations to the thread and the release channel). Two replicas start
with crash points: ``after_claim`` (the claim is committed, nothing is posted) and ``after_post`` (Slack
accepted the post, the outbox does not know); each is restarted without it once it has died there. Then
a replica is SIGKILLed every 1.5-3.5 s (seeded) and restarted at once, until 2 s after the last reminder
is due. At 12 s the test closes 14 gaps and moves the due date of 10 and the owner of 6 whose reminders
are all still in the future (their rows must never be posted; the replacement rows must be), and closes
8 gaps whose reminders were already due (posted at most once). When nothing is left to deliver, it
compares what the sandbox received with the outbox and with its own plan.

Assertions: every expected reminder and notice posted exactly once, to the right place, recorded as sent
with its ts; no post before its due time; nothing posted for a gap closed or changed before the reminder
came due; no dead row; no Slack contract violation; and each reminder's lateness (first post minus the
later of its due time and the moment it was written) within

    sweep + slack + (claims - 1) * (lease + reaper + sweep) + pace * (posts ahead of it in its channel)

where a claim lost to a kill costs at most the lease, one reaper interval and one sweep before another
replica takes the row again; the pace term is one second (the Pacer's one message a second per channel)
for every message its channel received between the row's due time and its post (a burst of escalations
to one release channel goes out one a second, by design); and slack (4 s) covers the rest of a claimed
batch ahead of the row, a replacement replica starting, and database waits. No 429 is sent here, so
there is no Retry-After term.
The figures are printed, put in the assertion message, and written to test-artifacts/chaos-<db>.txt.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from bot.core.checklist import Checklist
from bot.core.reminder_plan import ReminderPolicy
from bot.db import session_factory
from bot.sandbox.server import SlackSandbox
from models import OutboxMessage
from scheduler.delivery import Pacer, keys_of

from .fleet import CRASH_EXIT, Fleet
from .scenario import TEAM, WORKING_DAYS, WORKING_HOURS, Scenario

pytestmark = pytest.mark.slow

SWEEP = 0.5
LEASE = 5
REAP = max(2.0, LEASE / 3)  # scheduler.jobs.start_scheduler: the reaper runs every max(2 s, lease / 3)
SLACK = 4.0
PACE = Pacer().interval  # one message a second per channel
SEED = 20261127
REPLICAS = ("r1", "r2", "r3")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def replica_env(url: str, sandbox: SlackSandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("SLACK_", "READINESS_", "DATABASE_URL", "REMINDER_", "WORKING_"))}
    env.update(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN=sandbox.token,
        SLACK_SIGNING_SECRET="chaos-signing-secret",
        SLACK_API_URL=sandbox.api_url,
        SWEEP_INTERVAL_SECONDS=str(SWEEP),
        LEASE_SECONDS=str(LEASE),
        RECONCILE_INTERVAL_SECONDS="3600",  # it still runs once when each replica starts
        WORKING_HOURS=WORKING_HOURS,
        WORKING_DAYS=WORKING_DAYS,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_chaos(db: str, url: str, engine: Engine, workdir: Path, checklist: Checklist) -> tuple[dict[str, Any], list[str]]:
    started = time.monotonic()
    sandbox = SlackSandbox(token="xoxb-chaos-sandbox", team_id=TEAM).start()
    scenario = Scenario(session_factory(engine), sandbox, checklist, random.Random(SEED))
    kills = random.Random(SEED + 1)
    workdir.mkdir(parents=True, exist_ok=True)
    fleet = Fleet(replica_env(url, sandbox), workdir)
    problems: list[str] = []
    fired: dict[str, float] = {}
    random_kills = 0
    settled = False
    try:
        scenario.setup_workspace()
        scenario.create_timed_gaps()
        # Before the chaos: one replica delivers the owner DMs the new gaps queued.
        fleet.start("r1")
        fleet.wait_serving(["r1"])
        _wait(lambda: scenario.open_rows() == 0, 60, "the owner DMs were not delivered")
        before_chaos = time.monotonic() - started

        scenario.start_reminders()
        assert scenario.t0 is not None
        t0 = scenario.t0.timestamp()
        fleet.start("r2", crash_at="after_claim")
        fleet.start("r3", crash_at="after_post")
        kill_until = scenario.last_due.timestamp() + 2.0
        deadline = kill_until + 60.0
        next_kill: float | None = None
        next_check = 0.0
        while True:
            now = time.time()
            for replica, code in fleet.poll():
                if replica.crash_at and code == CRASH_EXIT:
                    fired[replica.crash_at] = now - t0
                    fleet.start(replica.name)  # restarted without the crash point
                else:
                    problems.append(f"{replica.name} died by itself with exit code {code}: {fleet.stderr_tail(replica)}")
                    fleet.start(replica.name, crash_at=None if replica.crash_at in fired else replica.crash_at)
            if scenario.due_for_midway(now):
                scenario.midway()
            chaos_on = len(fired) == 2 or now > t0 + 10
            if chaos_on and now < kill_until and all(fleet.replicas[n].serving for n in REPLICAS):
                if next_kill is None:
                    next_kill = now + kills.uniform(0.5, 1.5)
                elif now >= next_kill:
                    victim = kills.choice(REPLICAS)
                    fleet.kill(victim)
                    fleet.start(victim)
                    random_kills += 1
                    next_kill = now + kills.uniform(1.5, 3.5)
            if now > kill_until and scenario.midway_committed is not None and now >= next_check:
                next_check = now + 0.5
                if scenario.open_rows() == 0:
                    settled = True
                    break
            if now > deadline:
                break
            time.sleep(0.05)
        end = time.time()
    finally:
        fleet.stop_all()
        sandbox.stop()

    audit = scenario.audit(sweep=SWEEP, lease=LEASE, reap=REAP, slack=SLACK, pace=PACE, end=end)
    problems.extend(audit.problems)
    if not settled:
        problems.append(f"the outbox did not settle within 60 s of the last kill ({scenario.open_rows()} rows open)")
    for point in ("after_claim", "after_post"):
        if point not in fired:
            problems.append(f"the crash point {point} never fired")
    if random_kills < 5:
        problems.append(f"only {random_kills} random SIGKILLs happened")
    if problems:
        problems.append(f"the replicas' output is in {workdir}")
    figures: dict[str, Any] = {
        "database": db,
        **audit.figures,
        "random SIGKILLs": random_kills,
        "crash after_claim at s": round(fired.get("after_claim", float("nan")), 2),
        "crash after_post at s": round(fired.get("after_post", float("nan")), 2),
        "replica starts": fleet.count("started"),
        "gaps closed / new due / new owner / closed late": "{close} / {new_due} / {new_owner} / {close_late}".format(
            **scenario.changes),
        "settings": f"sweep {SWEEP}s, lease {LEASE}s, reaper {REAP:g}s, slack {SLACK:g}s, pace {PACE:g}s, seed {SEED}",
        "setup before the chaos s": round(before_chaos, 1),
        "total s": round(time.monotonic() - started, 1),
    }
    return figures, problems


def _wait(condition: Any, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(message)


def report(figures: dict[str, Any], problems: list[str]) -> str:
    width = max(len(k) for k in figures) + 2
    lines = [f"chaos test ({figures['database']}): 3 replicas, SIGKILLs and crash points"]
    lines += [f"  {k + ' ':.<{width}} {v}" for k, v in figures.items() if k != "database"]
    if problems:
        lines.append(f"  problems ({len(problems)}):")
        lines += [f"    - {p}" for p in problems[:40]]
        if len(problems) > 40:
            lines.append(f"    ... and {len(problems) - 40} more")
    else:
        lines.append("  no problems: every expected reminder was posted exactly once, on time")
    return "\n".join(lines)


def test_reminders_survive_kills_and_crashes_exactly_once(chaos_db, tmp_path, checklist, capsys):
    db, url, engine = chaos_db
    figures, problems = run_chaos(db, url, engine, tmp_path / "replicas", checklist)
    text = report(figures, problems)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"chaos-{db}.txt").write_text(text + "\n")
    with capsys.disabled():
        print("\n" + text)
    assert not problems, text


# -- two ways to post twice that the random chaos only hits by luck, reproduced deterministically -------


class _Small:
    """One review with a few open gaps of one owner, a sandbox, and the product's Deliverer."""

    def __init__(self, engine: Engine, checklist: Checklist, gaps: int) -> None:
        from datetime import date, timedelta

        from bot.core.checklist import Mark
        from bot.db import session_scope
        from bot.services.assessments import MarkRequest, StartRequest, ensure_workspace, start_assessment
        from bot.services.marks import record_mark

        self.sessions = session_factory(engine)
        self.sandbox = SlackSandbox(token="xoxb-chaos-small", team_id=TEAM).start()
        self.sandbox.add_user("U0OWNER", "owner", tz="UTC")
        self.sandbox.add_channel("C0REV", "review", bot_is_member=True)
        self.sandbox.add_channel("C0REL", "release", bot_is_member=True)
        thread = self.sandbox.add_message("C0REV", "review", "U0LEAD")
        self.gaps: list[tuple[int, str, str]] = []
        due = date.today() + timedelta(days=30)
        with session_scope(self.sessions) as s:
            ensure_workspace(s, TEAM)
            a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="small", version="1",
                                                            started_by="U0LEAD", channel_id="C0REV",
                                                            release_channel_id="C0REL"))
            a.thread_ts = thread
            for item in ("s1", "s2", "s3", "s4", "s5", "s6")[:gaps]:
                record_mark(s, TEAM, a.id, MarkRequest(item_id=item, mark=Mark.PARTIAL, owner="U0OWNER", due=due,
                                                       note="n"), actor="U0LEAD", today=date.today())
                self.gaps.append((a.id, item, due.isoformat()))
            # What the marks queued (owner DMs, the product's own plan, days ahead) is not under test here.
            s.execute(update(OutboxMessage).values(status="cancelled"))

    def deliverer(self, lease: float = 30.0, batch: int = 100) -> Any:
        from datetime import timedelta

        from bot.settings import parse_days, parse_window
        from scheduler.delivery import Deliverer, sending_client

        start, end = parse_window(WORKING_HOURS)
        always = ReminderPolicy(window_start=start, window_end=end, working_days=parse_days(WORKING_DAYS))
        return Deliverer(self.sessions, sending_client(self.sandbox.token, self.sandbox.api_url),
                         lease=timedelta(seconds=lease), batch=batch, policy=always)

    def enqueue(self, kind: str, recipient: str) -> list[str]:
        from bot.db import db_now, session_scope
        from bot.services import outbox

        keys = []
        with session_scope(self.sessions) as s:
            now = db_now(s)
            for aid, item, due in self.gaps:
                key = f"small:{aid}:{item}:{kind}"
                outbox.enqueue(s, TEAM, dedupe_key=key, kind=kind, recipient=recipient, due_at=now,
                               assessment_id=aid, item_id=item,
                               payload={"owner": "U0OWNER", "due": due, "day": due, "reminder": "escalation"})
                keys.append(key)
        return keys

    def posts(self, channel: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.sandbox.all_messages(channel):
            for key in keys_of(message.get("metadata")):
                counts[key] = counts.get(key, 0) + 1
        return counts


def test_unknown_rows_posted_in_two_different_messages_are_both_found(engine, checklist):
    """Slack accepts two digests for one owner but both answers are lost; the retry finds only the newer one."""
    small = _Small(engine, checklist, gaps=2)
    try:
        keys = small.enqueue("due_today", "U0OWNER")
        small.sandbox.inject_failure("chat.postMessage", "accept_then_drop", times=2)
        one_at_a_time = small.deliverer(batch=1)
        assert one_at_a_time.sweep() == 1 and one_at_a_time.sweep() == 1  # both unknown, retried in 2 s
        time.sleep(2.5)
        assert small.deliverer().sweep() == 2  # one digest: the history shows the second message first
        counts = small.posts("U0OWNER")
        assert [counts.get(k, 0) for k in keys] == [1, 1], counts
    finally:
        small.sandbox.stop()


def test_a_batch_that_outlasts_its_lease_is_not_posted_twice(engine, checklist):
    """Five escalations to one release channel, claimed together: pacing makes the batch outlast the lease."""
    import threading

    small = _Small(engine, checklist, gaps=5)
    try:
        keys = small.enqueue("escalation_channel", "C0REL")
        slow, other = small.deliverer(lease=2.0), small.deliverer(lease=2.0)
        worker = threading.Thread(target=slow.sweep)
        worker.start()
        _wait(lambda: small.posts("C0REL"), 5, "the first replica did not start posting")  # it holds the claim
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and (worker.is_alive() or time.monotonic() < deadline - 4):
            other.reap()
            other.sweep()
            time.sleep(0.2)
        worker.join()
        counts = small.posts("C0REL")
        assert [counts.get(k, 0) for k in keys] == [1] * len(keys), counts
    finally:
        small.sandbox.stop()
