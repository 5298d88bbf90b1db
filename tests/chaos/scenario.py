"""The chaos test's data, its midway changes, and the audit of what the sandbox received.

Three kinds of outbox rows are in play:

* timed reminders: rows the test writes itself (keys ``chaos:...``) for real open gaps of the
  ``chaos-timed-*`` assessments, due second by second from a little before the start to 30 s after it;
* planned reminders: rows the product plans (``record_mark`` -> ``replan_gap``) for the gaps of one
  ``chaos-planned`` assessment whose due dates make some reminders due at once (due today, due soon,
  overdue, and escalations to the review thread and the release channel); replicas reconcile these;
* notices: what ``record_mark`` queues for people (owner DMs), delivered before the chaos starts and
  again for the midway changes.

A timed row is *expected* (must be posted exactly once) unless the test closed or changed its gap.
A row whose gap was closed or changed while it was still in the future (due after the change
committed) *must never be posted*: it was cancelled before its due time. A row whose gap was closed
after it came due is *either*: it may have gone out before the close, but never twice.

Rows the product wrote are judged by the same rule: one the outbox shows cancelled is fine only when
its gap is one the test closed or changed midway (then *must never be posted* if it was due after the
change, else *either*); a product row cancelled for a gap nobody touched is a problem, as is one that
was due after the change and posted anyway.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.checklist import Checklist, Mark
from bot.core.reminder_plan import ReminderKind, ReminderPolicy
from bot.core.review import message_parts
from bot.db import db_now, session_scope
from bot.sandbox.server import SlackSandbox
from bot.services import outbox
from bot.services.assessments import MarkRequest, StartRequest, ensure_workspace, start_assessment
from bot.services.marks import record_mark
from bot.services.people import remember_timezone
from bot.services.reminders import DM_KINDS, ESCALATION_CHANNEL, ESCALATION_THREAD
from bot.settings import Settings
from models import Assessment, OutboxMessage
from scheduler.delivery import keys_of

from .replica import TIMED_PREFIX

TEAM = "T0CHAOS"
LEAD = "U0CHLEAD"
REVIEW = "C0CHREVIEW"
RELEASE = "C0CHRELEASE"
ZONES = ("UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
WORKING_HOURS, WORKING_DAYS = "00:00-23:59:59", "mon,tue,wed,thu,fri,sat,sun"
REMINDER_KINDS = (*DM_KINDS, ESCALATION_THREAD, ESCALATION_CHANNEL)
EVIDENCE = "https://evidence.example.com/chaos/closed"

EXPECTED, MUST_NOT, EITHER = "expected", "must-not-post", "either"


def policy() -> ReminderPolicy:
    """The replicas' policy (same settings): every hour of every day, so planned rows are due at once."""
    return Settings(_env_file=None, working_hours=WORKING_HOURS, working_days=WORKING_DAYS,  # type: ignore[call-arg]
                    slack_bot_token=SecretStr("x")).reminder_policy()


@dataclass
class Gap:
    assessment_id: int
    item_id: str
    owner: str
    due: date


@dataclass
class TimedRow:
    key: str
    kind: str
    recipient: str
    due_at: datetime
    gap: tuple[int, str]
    created_at: float = 0.0  # time.time() once committed
    category: str = EXPECTED


@dataclass
class Post:
    key: str
    channel: str
    ts: float
    raw_ts: str


@dataclass
class Audit:
    figures: dict[str, Any]
    problems: list[str]


@dataclass
class Scenario:
    sessions: sessionmaker[Session]
    sandbox: SlackSandbox
    checklist: Checklist
    rng: random.Random
    owners: int = 36
    timed_assessments: int = 10
    window: float = 30.0  # seconds over which timed reminders come due
    overdue: float = 10.0  # the earliest timed reminders were due this long before the start
    midway_at: float = 12.0
    users: dict[str, str] = field(default_factory=dict)  # user id -> time zone
    gaps: dict[tuple[int, str], Gap] = field(default_factory=dict)
    timed: dict[str, TimedRow] = field(default_factory=dict)
    planned_assessment: int | None = None
    t0: datetime | None = None
    phase2_committed: float = 0.0
    midway_committed: float | None = None
    midway_db_time: datetime | None = None  # the database's clock when the midway change committed
    midway_plan: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    # -- set-up -----------------------------------------------------------------------------------

    def local_today(self, user: str) -> date:
        return datetime.now(UTC).astimezone(ZoneInfo(self.users[user])).date()

    def setup_workspace(self) -> None:
        sb = self.sandbox
        sb.add_channel(REVIEW, "chaos-review", bot_is_member=True)
        sb.add_channel(RELEASE, "chaos-release", bot_is_member=True)
        sb.add_user(LEAD, "lead", tz="UTC")
        self.users[LEAD] = "UTC"
        for n in range(1, self.owners + 1):
            user, tz = f"U0CH{n:03d}", ZONES[n % len(ZONES)]
            sb.add_user(user, f"owner{n}", real_name=f"Owner {n}", tz=tz)
            self.users[user] = tz
        with session_scope(self.sessions) as s:
            ensure_workspace(s, TEAM, "chaos")
            now = db_now(s)
            for user, tz in self.users.items():  # as the reconcile's users.info would have stored them
                remember_timezone(s, TEAM, user, tz, now)

    def safe_items(self) -> list[str]:
        """Items where Partial is not a blocker (no blocker alerts, no result: the review stays open)."""
        return [i for i in self.checklist.item_ids if Mark.PARTIAL not in self.checklist.blocks_on(self.checklist.item(i))]

    def _assessment(self, s: Session, system: str) -> Assessment:
        a = start_assessment(s, self.checklist, StartRequest(team_id=TEAM, system=system, version="1.0",
                                                              started_by=LEAD, channel_id=REVIEW,
                                                              release_channel_id=RELEASE))
        a.thread_ts = self.sandbox.add_message(REVIEW, f"Readiness review of {system}", LEAD)
        # as if its section messages were posted too: a replica's reconcile must not post them for the test
        a.section_messages = {part.key: a.thread_ts for part in message_parts(self.checklist)}
        s.flush()
        return a

    def _mark(self, s: Session, aid: int, item: str, owner: str, due: date, *, reason: str | None = None) -> None:
        record_mark(s, TEAM, aid, MarkRequest(item_id=item, mark=Mark.PARTIAL, owner=owner, due=due,
                                              note="chaos gap", reason=reason),
                    actor=LEAD, today=min(due, self.local_today(owner)), policy=policy())
        self.gaps[(aid, item)] = Gap(aid, item, owner, due)

    def create_timed_gaps(self) -> None:
        """The timed assessments' gaps (their owner DMs go out before the chaos starts)."""
        owners = [u for u in self.users if u != LEAD]
        n = 0
        for k in range(self.timed_assessments):
            with session_scope(self.sessions) as s:
                a = self._assessment(s, f"{TIMED_PREFIX}{k}")
                for item in self.safe_items():
                    owner = owners[n % len(owners)]
                    n += 1
                    self._mark(s, a.id, item, owner, self.local_today(owner) + timedelta(days=10))

    # -- phase 2: reminders coming due -------------------------------------------------------------

    def start_reminders(self) -> None:
        """Planned gaps (due at once) and timed rows (due over the window), in one transaction."""
        rng = self.rng
        owners = [u for u in self.users if u != LEAD]
        with session_scope(self.sessions) as s:
            t0 = db_now(s)
            a = self._assessment(s, "chaos-planned")
            self.planned_assessment = a.id
            items = self.safe_items()[:10]
            for n, item in enumerate(items):
                owner = owners[(n * 7) % len(owners)]
                today = self.local_today(owner)
                offset = (0, 0, 0, 0, 2, 2, 2, -2, -2, -2)[n]  # due today, due soon, overdue (+ escalation)
                self._mark(s, a.id, item, owner, today + timedelta(days=offset))
            timed_gaps = [g for g in self.gaps.values() if g.assessment_id != a.id]
            escalating = rng.sample(timed_gaps, 10)
            for gap in timed_gaps:
                for r in range(1 if rng.random() < 0.6 else 2):
                    kind = rng.choice(DM_KINDS)
                    due_at = t0 + timedelta(seconds=rng.uniform(-self.overdue, self.window))
                    self._enqueue(s, gap, kind, gap.owner, due_at, f"{r}")
            assessment_of = {g.assessment_id: s.get(Assessment, g.assessment_id) for g in escalating}
            for n, gap in enumerate(escalating):
                thread = n % 2 == 0
                kind = ESCALATION_THREAD if thread else ESCALATION_CHANNEL
                a_row = assessment_of[gap.assessment_id]
                assert a_row is not None
                recipient = a_row.channel_id if thread else a_row.release_channel_id
                assert recipient is not None
                due_at = t0 + timedelta(seconds=2 + 5 * (n // 2) + (0 if thread else 2.5))
                self._enqueue(s, gap, kind, recipient, due_at, "e")
        self.t0 = t0
        self.phase2_committed = time.time()
        for row in self.timed.values():
            row.created_at = self.phase2_committed
        self._plan_midway()

    def _enqueue(self, s: Session, gap: Gap, kind: str, recipient: str, due_at: datetime, tag: str) -> TimedRow:
        key = f"chaos:{gap.assessment_id}:{gap.item_id}:{kind}:{tag}:{gap.owner}"
        reminder = ReminderKind.ESCALATION.value if kind in (ESCALATION_THREAD, ESCALATION_CHANNEL) else kind
        inserted = outbox.enqueue(
            s, TEAM, dedupe_key=key, kind=kind, recipient=recipient, due_at=due_at,
            assessment_id=gap.assessment_id, item_id=gap.item_id,
            payload={"owner": gap.owner, "due": gap.due.isoformat(), "day": gap.due.isoformat(), "reminder": reminder},
        )
        assert inserted, key
        row = TimedRow(key, kind, recipient, due_at, (gap.assessment_id, gap.item_id))
        self.timed[key] = row
        return row

    def rows_of(self, gap: tuple[int, str]) -> list[TimedRow]:
        return [r for r in self.timed.values() if r.gap == gap]

    def _plan_midway(self) -> None:
        """Pick, with the seeded generator, which gaps close or change midway."""
        assert self.t0 is not None
        change_at = self.t0 + timedelta(seconds=self.midway_at)
        by_gap: dict[tuple[int, str], list[TimedRow]] = defaultdict(list)
        for row in self.timed.values():
            by_gap[row.gap].append(row)
        later = sorted(g for g, rows in by_gap.items() if min(r.due_at for r in rows) > change_at + timedelta(seconds=5))
        done = sorted(g for g, rows in by_gap.items() if max(r.due_at for r in rows) < change_at - timedelta(seconds=4))
        self.rng.shuffle(later)
        self.rng.shuffle(done)
        self.midway_plan = {
            "close": later[:14], "new_due": later[14:24], "new_owner": later[24:30], "close_late": done[:8],
        }

    def due_for_midway(self, now: float) -> bool:
        assert self.t0 is not None
        return self.midway_committed is None and now >= self.t0.timestamp() + self.midway_at

    def midway(self) -> None:
        """Close gaps, move due dates and owners, in one transaction (as one busy moment of a review)."""
        rng = self.rng
        owners = [u for u in self.users if u != LEAD]
        replacements: list[TimedRow] = []
        with session_scope(self.sessions) as s:
            for gap_id in self.midway_plan["close"] + self.midway_plan["close_late"]:
                record_mark(s, TEAM, gap_id[0], MarkRequest(item_id=gap_id[1], mark=Mark.NO, evidence=EVIDENCE,
                                                            reason="closed during the chaos test"),
                            actor=LEAD, today=date.today(), policy=policy())
            for what in ("new_due", "new_owner"):
                for gap_id in self.midway_plan[what]:
                    gap = self.gaps[gap_id]
                    owner = gap.owner
                    if what == "new_owner":
                        owner = rng.choice([o for o in owners if o != gap.owner])
                    due = self.local_today(owner) + timedelta(days=12 if what == "new_due" else 10)
                    self._mark(s, gap_id[0], gap_id[1], owner, due, reason=f"chaos: {what}")
                    new_gap = self.gaps[gap_id]
                    now = db_now(s)
                    for r in range(rng.choice((1, 2))):
                        due_at = now + timedelta(seconds=rng.uniform(3.0, 15.0))
                        replacements.append(self._enqueue(s, new_gap, rng.choice(DM_KINDS), owner, due_at,
                                                          f"m{r}"))
        with session_scope(self.sessions) as s:
            committed = db_now(s)
        self.midway_committed = time.time()
        self.midway_db_time = committed
        for row in replacements:
            row.created_at = self.midway_committed
        replaced = {key for key in (r.key for r in replacements)}
        for what, gap_ids in self.midway_plan.items():
            self.changes[what] = len(gap_ids)
            for gap_id in gap_ids:
                for row in self.rows_of(gap_id):
                    if row.key in replaced:
                        continue
                    # Cancelled while still in the future, or already due (and maybe already posted).
                    row.category = MUST_NOT if row.due_at > committed else EITHER

    @property
    def last_due(self) -> datetime:
        return max(r.due_at for r in self.timed.values())

    # -- waiting -----------------------------------------------------------------------------------

    def open_rows(self, horizon: float = 60.0) -> int:
        """Rows still to deliver: sending, unknown, or pending and due within ``horizon`` seconds."""
        with session_scope(self.sessions) as s:
            soon = db_now(s) + timedelta(seconds=horizon)
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.status.in_(outbox.OPEN))).all()
            return sum(1 for r in rows if r.status != "pending" or r.next_attempt_at <= soon)

    # -- the audit -----------------------------------------------------------------------------------

    def posts(self) -> tuple[dict[str, list[Post]], list[str]]:
        """Every outbox post in the sandbox, by dedupe key; and bot messages without outbox metadata."""
        channels = {REVIEW: REVIEW, RELEASE: RELEASE} | {u: self.sandbox.dm_channel(u) for u in self.users}
        found: dict[str, list[Post]] = defaultdict(list)
        stray: list[str] = []
        for name, channel in channels.items():
            for message in self.sandbox.all_messages(name):
                if message.get("user") != self.sandbox.bot_user_id:
                    continue
                keys = keys_of(message.get("metadata"))
                if not keys:
                    stray.append(f"{channel} {message['ts']}: {message.get('text', '')[:60]}")
                    continue
                for key in keys:
                    found[key].append(Post(key, channel, float(message["ts"]), str(message["ts"])))
        return found, stray

    def audit(self, *, sweep: float, lease: float, reap: float, slack: float, pace: float, end: float) -> Audit:
        """Compare what Slack received with what the test and the outbox say should have gone out."""
        assert self.t0 is not None
        posts, stray = self.posts()
        with session_scope(self.sessions) as s:
            # refresh rows post nothing: they update what shows a review (tests/chaos/test_refresh.py audits them)
            rows = {r.dedupe_key: r for r in s.scalars(select(OutboxMessage).where(
                OutboxMessage.kind.not_in(outbox.REFRESH_KINDS)))}
        problems: list[str] = []
        dm_channel = {u: self.sandbox.dm_channel(u) for u in self.users}

        def where(row: OutboxMessage) -> str:
            return dm_channel.get(row.recipient, row.recipient)

        duplicates = {k: p for k, p in posts.items() if len(p) > 1}
        for key, ps in duplicates.items():
            problems.append(f"posted {len(ps)} times: {key} at {[round(p.ts - self.t0.timestamp(), 2) for p in ps]}")
        for key in posts:
            if key not in rows:
                problems.append(f"posted, but no such outbox row: {key}")
        for line in stray:
            problems.append(f"bot message without outbox keys: {line}")

        reminder = {"expected": 0, "posted": 0, "lost": 0, "early": 0, "must_not": 0, "must_not_posted": 0,
                    "either": 0, "either_posted": 0, "future": 0, "cancelled_without_cause": 0}
        touched = {gap for gaps in self.midway_plan.values() for gap in gaps}  # closed or changed midway
        notices = {"rows": 0, "posted": 0, "lost": 0}
        lateness: list[tuple[float, float, str]] = []  # (late, bound, key)
        claimed_once: list[float] = []
        channel_posts: dict[str, set[float]] = defaultdict(set)  # one entry per message
        for ps in posts.values():
            for p in ps:
                channel_posts[p.channel].add(p.ts)
        for key, row in rows.items():
            ps = posts.get(key, [])
            first = min((p.ts for p in ps), default=None)
            for p in ps:
                if p.channel != where(row):
                    problems.append(f"{key} went to {p.channel}, not to {where(row)}")
                if p.ts < row.due_at.timestamp():
                    problems.append(f"{key} posted {row.due_at.timestamp() - p.ts:.3f}s before it was due")
                    if row.kind in REMINDER_KINDS:
                        reminder["early"] += 1
            if row.status == "sent" and not ps:
                problems.append(f"{key} is recorded sent but Slack never got it")
            if row.status == "sent" and ps and row.sent_ts not in {p.raw_ts for p in ps}:
                problems.append(f"{key} is recorded sent as {row.sent_ts}, which is not its post")
            timed = self.timed.get(key)
            category = timed.category if timed else None
            if category is None:  # a row the product wrote: judged by what the outbox says
                if row.due_at.timestamp() > end:
                    category = "future"
                elif row.status == "cancelled":
                    if (row.assessment_id, row.item_id) not in touched:
                        reminder["cancelled_without_cause"] += 1
                        problems.append(f"{key} ({row.kind}) was cancelled, but the test never closed or "
                                        f"changed its gap (assessment {row.assessment_id}, item {row.item_id})")
                        continue
                    if self.midway_db_time is None:
                        problems.append(f"{key} was cancelled, but the midway change never happened")
                        continue
                    category = MUST_NOT if row.due_at > self.midway_db_time else EITHER
                else:
                    category = EXPECTED
            if category == "future":
                reminder["future"] += 1
                if ps:
                    problems.append(f"{key} is due {row.due_at.isoformat()} but was posted already")
                continue
            if category == MUST_NOT:
                reminder["must_not"] += 1
                if ps:
                    reminder["must_not_posted"] += 1
                    problems.append(f"{key}: its gap was closed or changed before it came due, yet it was posted")
                if row.status != "cancelled":
                    problems.append(f"{key}: gap closed before due, but the row is {row.status}")
                continue
            if category == EITHER:
                reminder["either"] += 1
                reminder["either_posted"] += bool(ps)
                continue
            is_reminder = row.kind in REMINDER_KINDS
            if is_reminder:
                reminder["expected"] += 1
                reminder["posted"] += bool(ps)
            else:
                notices["rows"] += 1
                notices["posted"] += bool(ps)
            if not ps:
                (reminder if is_reminder else notices)["lost"] += 1
                problems.append(f"lost: {key} ({row.kind}, due {row.due_at.timestamp() - self.t0.timestamp():+.1f}s, "
                                f"status {row.status}, attempts {row.attempts}, last error {row.last_error!r})")
                continue
            if row.status != "sent":
                problems.append(f"{key} was posted but the outbox says {row.status}")
            if is_reminder and first is not None:
                created = timed.created_at if timed else self.phase2_committed
                late = first - max(row.due_at.timestamp(), created)
                start = max(row.due_at.timestamp(), created)
                ahead = sum(1 for t in channel_posts[where(row)] if start <= t < first)
                bound = sweep + slack + max(0, row.attempts - 1) * (lease + reap + sweep) + ahead * pace
                lateness.append((late, bound, key))
                if row.attempts == 1:
                    claimed_once.append(late)
                if late > bound:
                    problems.append(f"{key} was {late:.2f}s late, over its bound {bound:.1f}s "
                                    f"(claimed {row.attempts} times, {ahead} posts ahead of it in its channel)")
        for key, row in rows.items():
            if row.status == "dead":
                problems.append(f"dead row: {key}: {row.last_error}")
        worst = max(lateness, default=(0.0, 0.0, ""))
        single_failure = sweep + lease + reap + sweep + slack
        figures = {
            "reminders expected": reminder["expected"],
            "reminders posted": reminder["posted"],
            "duplicates": sum(len(p) - 1 for p in duplicates.values()),
            "lost": reminder["lost"] + notices["lost"],
            "worst lateness s": round(worst[0], 2),
            "worst lateness row": worst[2],
            "its bound s": round(worst[1], 1),
            "bound with one lost claim s": round(single_failure, 1),
            "rows over that bound": sum(1 for late, _, _ in lateness if late > single_failure),
            "worst lateness, claimed once s": round(max(claimed_once, default=0.0), 2),
            "smallest margin to a row's bound s": round(min((b - late for late, b, _ in lateness), default=0.0), 2),
            "reminders claimed more than once": sum(1 for r in rows.values()
                                                    if r.kind in REMINDER_KINDS and r.attempts > 1),
            "median lateness s": round(sorted(x[0] for x in lateness)[len(lateness) // 2], 2) if lateness else 0.0,
            "posted before due": reminder["early"],
            "closed/changed before due (must not post)": reminder["must_not"],
            "of those posted": reminder["must_not_posted"],
            "closed after due (at most once)": reminder["either"],
            "of those posted ": reminder["either_posted"],
            "future rows (not due yet)": reminder["future"],
            "product rows cancelled without cause": reminder["cancelled_without_cause"],
            "notices expected": notices["rows"],
            "notices posted": notices["posted"],
            "outbox rows": len(rows),
            "sandbox violations": len(self.sandbox.violations),
        }
        problems.extend(f"sandbox: {v}" for v in self.sandbox.violations)
        return Audit(figures, problems)
