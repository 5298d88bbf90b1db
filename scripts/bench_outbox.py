"""`make bench` (outbox part): the claim query's cost against table size, and the delivery rate under Slack's limits.

1. Claim cost (PostgreSQL, skipped with the reason when it does not answer): one sweep's claim
   (``bot.services.outbox.claim_due`` with ``limit=1000``: the SELECT ... FOR UPDATE SKIP LOCKED and
   the update of the claimed rows) when 1,000 rows are due among 10,000 and among 1,000,000 pending
   rows (the others due in the future). Rows are COPYed into a private schema, the table is analysed,
   and each claim is rolled back so every run sees the same table; the median of several runs is
   printed. Target: the 1,000,000-row claim takes at most 1.5x the 10,000-row one (the cost follows the
   due rows, not the table).
2. Delivery rate: ``Deliverer.sweep`` against ``SlackSandbox(rate_limits=True)`` (chat.postMessage:
   one message a second per channel, a burst of three) posting escalations to several channels at once.
   Messages per second per channel against the allowed rate, and the 429s the sandbox sent. Target: at
   least 90% of the allowed rate and no 429. For information, the same with three deliverers (three
   replicas: each paces itself; nothing coordinates their pace).

Figures and ratios are printed, never asserted. ``BENCH_QUICK=1`` runs a shorter version.
Usage: python scripts/bench_outbox.py [--skip-claim] [--skip-delivery]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.core.checklist import Mark, load_checklist  # noqa: E402
from bot.core.reminder_plan import ReminderPolicy  # noqa: E402
from bot.db import db_now, make_engine, session_factory, session_scope, upgrade  # noqa: E402
from bot.sandbox.limits import POST_MESSAGE_BURST, POST_MESSAGE_PER_SECOND  # noqa: E402
from bot.sandbox.server import SlackSandbox  # noqa: E402
from bot.services import outbox  # noqa: E402
from bot.services.assessments import MarkRequest, StartRequest, start_assessment  # noqa: E402
from bot.services.marks import record_mark  # noqa: E402
from bot.services.workspaces import ensure_workspace  # noqa: E402
from models import OutboxMessage  # noqa: E402
from scheduler.delivery import keys_of  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEAM = "T0BENCH"
DUE_ROWS = 1_000
SIZES = (10_000, 1_000_000)
CLAIM_RUNS = 3 if QUICK else 7
CHANNELS = 5
PER_CHANNEL = 10 if QUICK else 20
# The claim's query as claim_due builds it (bot/services/outbox.py), for timing the SELECT on its own.
CLAIM_SELECT = ("SELECT {columns} FROM outbox WHERE status IN ('pending', 'unknown') AND next_attempt_at <= now() "
                "ORDER BY next_attempt_at, id LIMIT 1000 FOR UPDATE SKIP LOCKED")


def line(label: str, value: str) -> None:
    print(f"  {label + ' ':.<58} {value}", flush=True)


# -- 1. the claim query against the table's size ---------------------------------------------------------


def pg_schema() -> tuple[Engine, Engine, str] | str:
    """(engine on a fresh private schema, admin engine, schema), or why PostgreSQL cannot be used."""
    try:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            version = conn.execute(text("show server_version")).scalar_one()
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure to connect means "not reachable"
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
    print(f"  PostgreSQL {version}, schema {schema}", flush=True)
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    return engine, admin, schema


def fill(engine: Engine, total: int, due: int) -> float:
    """Empty the outbox, then COPY ``total`` pending rows into it, ``due`` of them due now. Returns seconds."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE outbox"))
        now = conn.execute(text("SELECT now()")).scalar_one()
    past, future = now - timedelta(minutes=5), now + timedelta(days=30)
    columns = ("team_id", "dedupe_key", "kind", "recipient", "payload", "due_at", "status", "attempts",
               "next_attempt_at", "created_at", "updated_at")
    step = total // due  # due rows are spread through the table, as they would be in a real one
    stamp = now.isoformat()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # The rows are valid (their workspace exists); skipping the per-row foreign-key trigger only makes
        # loading a million of them quicker. Needs a superuser; without one the load is just slower.
        try:
            cursor.execute("SET LOCAL session_replication_role = replica")
        except Exception:
            raw.rollback()
        with cursor.copy(f"COPY outbox ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for chunk in range(0, total, 50_000):
                lines = []
                for n in range(chunk, min(total, chunk + 50_000)):
                    when = (past + timedelta(milliseconds=n % 60_000) if n % step == 0
                            else future + timedelta(seconds=n)).isoformat()
                    lines.append(f"{TEAM}\tbench:{n}\tdue_today\tU{n % 500:06d}\t{{}}\t{when}\tpending\t0\t"
                                 f"{when}\t{stamp}\t{stamp}\n")
                copy.write("".join(lines).encode())
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE outbox"))
    return time.perf_counter() - started


def time_claims(sessions: sessionmaker[Session], runs: int) -> tuple[float, int, str]:
    """Median seconds of claim_due(limit=1000) and of its SELECT alone, each rolled back; rows claimed; plan."""
    times: list[float] = []
    selects: list[float] = []
    claimed = 0
    for _ in range(runs):
        session = sessions()
        try:
            started = time.perf_counter()
            rows = outbox.claim_due(session, owner="bench", lease=timedelta(seconds=30), limit=DUE_ROWS)
            times.append(time.perf_counter() - started)
            claimed = len(rows)
        finally:
            session.rollback()
            session.close()
        with sessions() as session:
            started = time.perf_counter()
            session.execute(text(CLAIM_SELECT.format(columns="*"))).all()
            selects.append(time.perf_counter() - started)
            session.rollback()
    with sessions() as session:
        plan = session.execute(text("EXPLAIN " + CLAIM_SELECT.format(columns="id"))).scalars().all()
        session.rollback()
    shape = " > ".join(p.strip().lstrip("-> ").split("  ")[0] for p in plan if "->" in p or p is plan[0])
    return statistics.median(times), statistics.median(selects), claimed, shape


def bench_claims() -> None:
    print("\nClaim of one sweep (claim_due, limit 1000) against the table's size, PostgreSQL", flush=True)
    made = pg_schema()
    if isinstance(made, str):
        print(f"  skipped: {made}")
        return
    engine, admin, schema = made
    try:
        with session_scope(session_factory(engine)) as session:
            ensure_workspace(session, TEAM, "bench")
        results: dict[int, float] = {}
        selected: dict[int, float] = {}
        for total in SIZES:
            seconds = fill(engine, total, DUE_ROWS)
            line(f"{total:,} pending rows ({DUE_ROWS:,} due) loaded in", f"{seconds:.1f} s")
            median, select, claimed, shape = time_claims(session_factory(engine), CLAIM_RUNS)
            results[total] = median
            selected[total] = select
            line(f"claim among {total:,}: median of {CLAIM_RUNS}", f"{median * 1000:.1f} ms ({claimed} rows claimed)")
            line("  of which the SELECT ... FOR UPDATE SKIP LOCKED alone", f"{select * 1000:.1f} ms")
            line("  its plan", shape)
        small, large = results[SIZES[0]], results[SIZES[1]]
        ratio = large / small if small else float("inf")
        line(f"ratio {SIZES[1]:,} / {SIZES[0]:,} (whole claim)",
             f"{ratio:.2f} (target at most 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
        select_ratio = selected[SIZES[1]] / selected[SIZES[0]] if selected[SIZES[0]] else float("inf")
        line(f"ratio {SIZES[1]:,} / {SIZES[0]:,} (SELECT alone)", f"{select_ratio:.2f}")
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# -- 2. the delivery rate under the sandbox's rate limits ---------------------------------------------------


def escalations(sessions: sessionmaker[Session], channels: list[str], per_channel: int) -> None:
    """Open gaps, and per channel ``per_channel`` escalation rows due now (one message each)."""
    checklist = load_checklist()
    due = date.today() + timedelta(days=30)
    safe = [i for i in checklist.item_ids if Mark.PARTIAL not in checklist.blocks_on(checklist.item(i))]
    with session_scope(sessions) as s:
        ensure_workspace(s, TEAM)
        gaps = []
        while len(gaps) < len(channels) * per_channel:
            a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system=f"bench-{len(gaps)}", version="1",
                                                            started_by="U0LEAD"))
            for item in safe:
                record_mark(s, TEAM, a.id, MarkRequest(item_id=item, mark=Mark.PARTIAL, owner="U0OWNER", due=due,
                                                       note="bench"), actor="U0LEAD", today=date.today())
                gaps.append((a.id, item))
        # Only the escalations are measured: what the marks queued (plans, owner DMs) is set aside.
        s.execute(text("UPDATE outbox SET status = 'cancelled'"))
        now = db_now(s)
        for n, (aid, item) in enumerate(gaps[: len(channels) * per_channel]):
            channel = channels[n % len(channels)]
            outbox.enqueue(s, TEAM, dedupe_key=f"bench:{aid}:{item}:{channel}", kind="escalation_channel",
                           recipient=channel, due_at=now, assessment_id=aid, item_id=item,
                           payload={"owner": "U0OWNER", "due": due.isoformat(), "day": due.isoformat(),
                                    "reminder": "escalation"})


def deliver(replicas: int, workdir: Path) -> dict[str, float]:
    from scheduler.delivery import Deliverer, sending_client

    engine = make_engine(f"sqlite:///{workdir / f'rate-{replicas}.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    sandbox = SlackSandbox(token="xoxb-bench", team_id=TEAM, rate_limits=True).start()
    channels = [f"C0RATE{n}" for n in range(CHANNELS)]
    for channel in channels:
        sandbox.add_channel(channel, channel.lower(), bot_is_member=True)
    sandbox.add_user("U0OWNER", "owner", tz="UTC")
    try:
        escalations(sessions, channels, PER_CHANNEL)
        # A lease long enough for a whole batch: PER_CHANNEL messages to one channel take PER_CHANNEL seconds.
        lease = timedelta(seconds=PER_CHANNEL * 3)
        # Every hour is a working hour here: what is measured is the pace, not the working-hours hold
        # (which would keep every escalation back when the bench runs at night or at the weekend).
        always = ReminderPolicy(window_start=dt_time(0), window_end=dt_time(23, 59, 59),
                                working_days=frozenset(range(7)))
        workers = [Deliverer(sessions, sending_client(sandbox.token, sandbox.api_url), lease=lease,
                             worker_id=f"bench-{n}", batch=100 // replicas, policy=always) for n in range(replicas)]
        stop = threading.Event()

        def run(worker: Deliverer) -> None:
            while not stop.is_set():
                if not worker.sweep():
                    time.sleep(0.05)

        started = time.perf_counter()
        threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        deadline = time.monotonic() + PER_CHANNEL * 4 + 20
        while time.monotonic() < deadline:
            with session_scope(sessions) as s:
                left = s.query(OutboxMessage).filter(OutboxMessage.status.in_(outbox.OPEN)).count()
            if not left:
                break
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        elapsed = time.perf_counter() - started
        rates = []
        posted = 0
        for channel in channels:
            stamps = sorted(float(m["ts"]) for m in sandbox.messages(channel))
            posted += len(stamps)
            if len(stamps) > 1:
                rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
        return {"posted": posted, "left": left, "elapsed": elapsed, "rate": statistics.mean(rates) if rates else 0.0,
                "slowest": min(rates, default=0.0), "429": sandbox.ratelimited_count,
                "duplicates": posted - len({k for c in channels for m in sandbox.messages(c)
                                            for k in keys_of(m.get("metadata"))})}
    finally:
        sandbox.stop()
        engine.dispose()


def bench_delivery() -> None:
    allowed = POST_MESSAGE_PER_SECOND
    print(f"\nDelivery rate against the sandbox's limits (chat.postMessage: {allowed:g}/s per channel, burst "
          f"{POST_MESSAGE_BURST}); {CHANNELS} channels x {PER_CHANNEL} messages", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for replicas in (1, 3):
            r = deliver(replicas, Path(tmp))
            label = "one deliverer" if replicas == 1 else "three deliverers (for information)"
            share = r["rate"] / allowed
            line(f"{label}: posted / still open", f"{int(r['posted'])} / {int(r['left'])} in {r['elapsed']:.1f} s")
            line("  messages per second per channel (mean, slowest)",
                 f"{r['rate']:.3f}, {r['slowest']:.3f} = {share:.0%} of the allowed rate")
            line("  429 received", f"{int(r['429'])}")
            line("  keys posted more than once", f"{int(r['duplicates'])}")
            if replicas == 1:
                met = share >= 0.9 and r["429"] == 0
                line("  target (>= 90% of the allowed rate, no 429)", "met" if met else "NOT met")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-claim", action="store_true", help="skip the PostgreSQL claim benchmark")
    parser.add_argument("--skip-delivery", action="store_true", help="skip the delivery-rate benchmark")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"Outbox benchmark ({'quick' if QUICK else 'full'}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    if not args.skip_claim:
        bench_claims()
    if not args.skip_delivery:
        bench_delivery()
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
