"""`make bench` (data part): is the cost of each interaction flat in the amount of data?

One workspace is seeded with 10 reviews and, in a second database, with 10,000 (``BENCH_QUICK=1``: 2,000):
22 items each, one person owning gaps in every review, about 100 outbox rows and 10 audit events per review
(so 220,000 marks, 1,000,000 outbox rows and 100,000 chained audit events at full size). The first review is
made through the services; the others are copies of it written with bulk inserts, so every row is one the
application itself writes (the audit events form a valid hash chain).

Then, at each size, each interaction is run through the service functions its handler calls (and the Block
Kit builder where the handler builds a view): App Home (the desk), ``/readiness status``, ``list``, ``gaps``,
a mark click (the form), a mark submission, the gate, a packet and a sweep (claim what is due, reap leases,
end lapsed waivers). The median of several runs after a warm-up is printed beside the other size's, with the
ratio (target <= 1.2) and the SQL statements each ran. SQLite always; PostgreSQL when it answers (a private
schema per size). Figures are printed, never asserted.

Usage: python scripts/bench_data.py   (BENCH_QUICK=1 for a shorter run; BENCH_DATABASES=sqlite or =postgresql
for one of the two)
"""

from __future__ import annotations

import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.core.audit_chain import ChainedEvent, event_hash  # noqa: E402
from bot.core.checklist import Mark, load_checklist  # noqa: E402
from bot.core.marking import earliest_today  # noqa: E402
from bot.core.reminder_plan import ReminderPolicy  # noqa: E402
from bot.core.scoring import Verdict  # noqa: E402
from bot.db import make_engine, session_factory, session_scope, upgrade  # noqa: E402
from bot.services import gate, home, outbox, packets, people, reviews, waivers  # noqa: E402
from bot.services.assessments import MarkRequest, StartRequest, start_assessment  # noqa: E402
from bot.services.marks import record_mark  # noqa: E402
from bot.services.workspaces import ensure_workspace  # noqa: E402
from handlers.blocks.home import gap_line, home_view, lines_message, review_line  # noqa: E402
from handlers.blocks.modals import mark_modal  # noqa: E402
from handlers.state import MarkModalState  # noqa: E402
from models import Assessment, AuditEvent, AuditHead, ItemMark, MarkChange, OutboxMessage, Person  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEAM, LEAD, OWNER, CHANNEL = "T0BENCHDATA", "U0LEAD", "U0OWNER", "C0REVIEW"
SIZES = (10, 2_000 if QUICK else 10_000)
OUTBOX_PER_REVIEW = 100
AUDIT_PER_REVIEW = 10
RUNS = 7 if QUICK else 21
CHUNK = 5_000
TARGET = 1.2
# the template review's marks: gaps owned by OWNER (one overdue), controls, and items left unmarked
GAPS = {0: (Mark.YES, -3), 3: (Mark.PARTIAL, 5), 7: (Mark.YES, 12)}
CONTROLS = (1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)


def line(label: str, value: str) -> None:
    print(f"  {label + ' ':.<50} {value}", flush=True)


# -- databases --------------------------------------------------------------------------------------------


@dataclass
class Database:
    name: str
    engine: Engine
    cleanup: Callable[[], None] = lambda: None


def sqlite_database(size: int) -> Database:
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench_data_{size}.db")
    upgrade(engine)
    return Database("sqlite", engine)


def pg_database(size: int) -> Database | str:
    """A fresh private schema on the PostgreSQL server, or why it cannot be used."""
    try:
        admin = make_engine(PG_URL)
        schema = f"bench_data_{size}_{uuid.uuid4().hex[:6]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure to connect means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    engine = make_engine(PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}")
    upgrade(engine)

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return Database("postgresql", engine, cleanup)


# -- seeding ----------------------------------------------------------------------------------------------


def _rows(conn: Any, table: Any, where: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(table).where(where).order_by(table.c.id))]


def _bulk(conn: Any, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    batch: list[dict[str, Any]] = []
    written = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            conn.execute(insert(table), batch)
            written += len(batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)
        written += len(batch)
    return written


def seed(engine: Engine, size: int, now: datetime) -> int:
    """``size`` reviews in one workspace; returns the id of the newest (the one the interactions touch)."""
    checklist = load_checklist()
    sessions = session_factory(engine)
    today = now.date()
    items = checklist.item_ids
    with session_scope(sessions) as s:  # the template, through the services
        ensure_workspace(s, TEAM, "Bench")
        s.add(Person(team_id=TEAM, user_id=OWNER, tz="Europe/Berlin", display_name="owner", fetched_at=now))
        template = start_assessment(s, checklist, StartRequest(TEAM, "svc-0", "1.0", LEAD, channel_id=CHANNEL))
        template_id = template.id
    for index, (mark, days) in GAPS.items():
        with session_scope(sessions) as s:
            record_mark(s, TEAM, template_id, MarkRequest(items[index], mark, owner=OWNER, due=today + timedelta(
                days=max(days, 1)), note="what is missing"), actor=LEAD, today=today, now=now)
    for index in CONTROLS:
        with session_scope(sessions) as s:
            record_mark(s, TEAM, template_id, MarkRequest(items[index], Mark.NO, evidence="https://runbook/x"),
                        actor=LEAD, today=today, now=now)
    with engine.begin() as conn:  # the overdue gap (a due date in the past cannot be given through a form)
        for index, (_, days) in GAPS.items():
            if days < 0:
                conn.execute(ItemMark.__table__.update().where(
                    ItemMark.assessment_id == template_id, ItemMark.item_id == items[index]).values(
                    due=today + timedelta(days=days)))
    a_t, m_t, c_t, o_t, e_t = (Assessment.__table__, ItemMark.__table__, MarkChange.__table__,
                               OutboxMessage.__table__, AuditEvent.__table__)
    copies_of = range(template_id + 1, template_id + size)  # the template stays the oldest review
    with engine.begin() as conn:
        review = _rows(conn, a_t, a_t.c.id == template_id)[0]
        marks = _rows(conn, m_t, m_t.c.assessment_id == template_id)
        changes = _rows(conn, c_t, c_t.c.assessment_id == template_id)
        owed = _rows(conn, o_t, o_t.c.team_id == TEAM)
        events = _rows(conn, e_t, e_t.c.assessment_id == template_id)[:AUDIT_PER_REVIEW]
        _bulk(conn, a_t, ({**review, "id": i, "system": f"svc-{i % 50}", "version": f"1.{i}"} for i in copies_of))
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('assessments', 'id'), "
                              "(SELECT max(id) FROM assessments))"))

        def copies(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for i in copies_of:
                for r in rows:
                    yield {**{k: v for k, v in r.items() if k != "id"}, "assessment_id": i}

        _bulk(conn, m_t, copies(marks))
        _bulk(conn, c_t, copies(changes))
        old = now - timedelta(days=30)

        def outbox_rows() -> Iterator[dict[str, Any]]:
            for i in (template_id, *copies_of):
                if i != template_id:
                    for r in owed:  # what the template owes, re-keyed per review and due later (what is due
                        # now is the template's own: the same few rows at every size)
                        key = r["dedupe_key"].replace(f":{template_id}:", f":{i}:")
                        later = max(r["next_attempt_at"], now + timedelta(days=1))
                        yield {**{k: v for k, v in r.items() if k != "id"}, "next_attempt_at": later,
                               "assessment_id": r["assessment_id"] and i,
                               "dedupe_key": key if key != r["dedupe_key"] else f"{key}:{i}"}
                for j in range(OUTBOX_PER_REVIEW - len(owed)):  # what was delivered before: sent and settled
                    yield {**{k: v for k, v in owed[j % len(owed)].items() if k != "id"},
                           "assessment_id": i, "dedupe_key": f"past:{i}:{j}", "status": outbox.SENT,
                           "due_at": old, "next_attempt_at": old, "attempts": 1, "sent_channel": CHANNEL,
                           "sent_ts": f"{1_700_000_000 + i}.{j:06d}"}

        _bulk(conn, o_t, outbox_rows())
        head = conn.execute(select(AuditHead.seq, AuditHead.row_hash).where(AuditHead.team_id == TEAM)).one()
        chain = {"seq": head.seq, "hash": head.row_hash}

        def audit_rows() -> Iterator[dict[str, Any]]:
            for i in copies_of:
                for e in events:
                    chain["seq"] += 1
                    fields = {k: e[k] for k in ("team_id", "actor", "action", "subject", "before", "after")}
                    at = (e["at"] if e["at"].tzinfo else e["at"].replace(tzinfo=UTC)) + timedelta(microseconds=i)
                    chained = ChainedEvent(seq=chain["seq"], prev_hash=chain["hash"], at=at, assessment_id=i,
                                           **fields)
                    row_hash = event_hash(chained)
                    yield {**fields, "assessment_id": i, "at": at, "seq": chain["seq"],
                           "prev_hash": chain["hash"], "row_hash": row_hash}
                    chain["hash"] = row_hash

        _bulk(conn, e_t, audit_rows())
        conn.execute(AuditHead.__table__.update().where(AuditHead.team_id == TEAM).values(
            seq=chain["seq"], row_hash=chain["hash"]))
    # the tables at rest, as the database's own maintenance (autovacuum) leaves them: statistics, and on
    # PostgreSQL the visibility map that lets a count be read from an index alone; on SQLite the bulk writes
    # moved from the write-ahead log into the database (else the first commits measured would do it)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    if engine.dialect.name == "sqlite":  # (outside the engine, whose connections always begin a transaction)
        raw = sqlite3.connect(str(engine.url.database))
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        raw.close()
    return template_id + size - 1


# -- measuring --------------------------------------------------------------------------------------------


@dataclass
class Counter:
    statements: int = 0
    on: bool = False

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        if self.on:
            self.statements += 1


@dataclass
class Result:
    ms: float
    statements: int
    shown: int | None = None
    samples: list[float] = field(default_factory=list)


def interactions(sessions: sessionmaker[Session], newest: int, now: datetime,
                 shown: dict[str, int]) -> dict[str, Callable[[], Any]]:
    """Each interaction as its handler runs it; ``shown`` gets the rows on screen of those that list some."""
    checklist = load_checklist()
    gap_item = checklist.item_ids[3]
    marks = iter(range(10**9))
    today = earliest_today(now)

    def app_home() -> Any:
        with session_scope(sessions) as s:
            desk = home.desk(s, TEAM, OWNER, now)
        shown["App Home (desk)"] = len(desk.gaps) + len(desk.overdue) + len(desk.reviews)
        return home_view(desk)

    def status() -> Any:
        with session_scope(sessions) as s:
            rows = reviews.review_rows(s, TEAM, limit=1)
        shown["/readiness status"] = len(rows)
        return lines_message("Latest review", [review_line(r) for r in rows], "No review found.")

    def listing() -> Any:
        with session_scope(sessions) as s:
            rows = reviews.review_rows(s, TEAM, limit=20)
        shown["/readiness list"] = len(rows)
        return lines_message("Reviews", [review_line(r) for r in rows], "No review yet.")

    def gaps() -> Any:
        with session_scope(sessions) as s:
            found = reviews.open_gaps_for(s, TEAM, OWNER, today, limit=reviews.GAPS_LISTED)
            total = reviews.count_open_gaps(s, TEAM, OWNER, up_to=reviews.GAPS_COUNTED + 1)
        shown["/readiness gaps"] = len(found)
        return lines_message("Your open gaps", [gap_line(g) for g in found] + [f"…and {total} more"],
                             "You own no open gaps.")

    def click() -> Any:
        with session_scope(sessions) as s:
            listed, current = reviews.item_status(s, TEAM, newest, gap_item)
            people.timezone_of(s, TEAM, OWNER)
            live = reviews.live_decisions(s, TEAM, newest)
        state = MarkModalState(assessment_id=newest, item_id=gap_item, mark=Mark.YES)
        return mark_modal(listed, state, current, today, live_decisions=live)

    def submit() -> Any:
        n = next(marks)
        mark = Mark.YES if n % 2 else Mark.PARTIAL
        with session_scope(sessions) as s:
            if reviews.claim_interaction(s, TEAM, f"view:bench:{uuid.uuid4().hex}", "mark"):
                record_mark(s, TEAM, newest, MarkRequest(gap_item, mark, owner=OWNER, due=today + timedelta(days=5),
                                                         note="what is missing"),
                            actor=OWNER, today=today, now=now, policy=ReminderPolicy())

    def gate_query() -> Any:
        with session_scope(sessions) as s:
            return gate.evaluate(s, TEAM, f"svc-{newest % 50}", f"1.{newest}", {Verdict.GO}, actor="ci")

    def packet() -> Any:
        s = sessions()
        try:
            return packets.generate(s, TEAM, newest, actor=OWNER, now=now)
        finally:
            s.rollback()
            s.close()

    def sweep() -> Any:
        s = sessions()
        try:
            claimed = outbox.claim_due(s, owner="bench", lease=timedelta(seconds=60), limit=100)
            outbox.reap_expired_leases(s)
            waivers.expire_due(s, now)
            return claimed
        finally:
            s.rollback()
            s.close()

    return {"App Home (desk)": app_home, "/readiness status": status, "/readiness list": listing,
            "/readiness gaps": gaps, "mark click (form)": click, "mark submission": submit, "gate": gate_query,
            "packet": packet, "sweep (claim, reap, waivers)": sweep}


def measure(engines: list[Engine], newest: list[int], now: datetime) -> list[dict[str, Result]]:
    """Each interaction at every size, the sizes taking turns run by run (so a busy moment of the machine
    weighs on both alike)."""
    counters = [Counter() for _ in engines]
    for engine, counter in zip(engines, counters, strict=True):
        event.listen(engine, "before_cursor_execute", counter)
    shown: list[dict[str, int]] = [{} for _ in engines]
    runs = [interactions(session_factory(e), n, now, seen) for e, n, seen in zip(engines, newest, shown, strict=True)]
    results: list[dict[str, Result]] = [{} for _ in engines]
    try:
        for name in runs[0]:
            for run, counter in zip(runs, counters, strict=True):
                run[name]()  # warm-up: caches filled, plans made
                counter.statements, counter.on = 0, True
                run[name]()
                counter.on = False
            samples: list[list[float]] = [[] for _ in engines]
            gc.collect()
            for _ in range(RUNS):
                for i, run in enumerate(runs):
                    started = time.perf_counter()
                    run[name]()
                    samples[i].append((time.perf_counter() - started) * 1000)
            for i, counter in enumerate(counters):
                results[i][name] = Result(statistics.median(samples[i]), counter.statements, shown[i].get(name),
                                          samples[i])
    finally:
        for engine, counter in zip(engines, counters, strict=True):
            event.remove(engine, "before_cursor_execute", counter)
    return results


def report(name: str, small: dict[str, Result], large: dict[str, Result]) -> None:
    print(f"\n== {name}: {SIZES[0]:,} vs {SIZES[1]:,} reviews (median of {RUNS} runs after a warm-up, the sizes "
          "taking turns) ==")
    a_size, b_size = format(SIZES[0], ","), format(SIZES[1], ",")
    print(f"{'interaction':<30}{'ms @' + a_size:>10}{'ms @' + b_size:>13}{'ratio':>7}{'target':>8}"
          f"{'SQL @' + a_size:>10}{'SQL @' + b_size:>13}{'shown @' + a_size:>12}{'@' + b_size:>8}")
    worst = 0.0
    for key, a in small.items():
        b = large[key]
        ratio = b.ms / a.ms if a.ms else float("inf")
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET else "  over"
        seen = f"{a.shown:>12}{b.shown:>8}" if a.shown is not None and b.shown is not None else f"{'':>20}"
        print(f"{key:<30}{a.ms:>10.2f}{b.ms:>13.2f}{ratio:>7.2f}{'<= ' + str(TARGET):>8}{a.statements:>10}"
              f"{b.statements:>13}{seen}{flag}")
    print(f"worst ratio: {worst:.2f} (target <= {TARGET}); 'shown': the rows the screen lists (a list of "
          f"{SIZES[0]} reviews shows {SIZES[0]}, not 20)", flush=True)


def newest_of(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(Assessment.id))).scalar_one())


def counts(engine: Engine) -> str:
    with engine.connect() as conn:
        found = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("assessments", "item_marks", "outbox", "audit_events")}
    return ", ".join(f"{v:,} {k}" for k, v in found.items())


def main() -> int:
    print("Flat with data: each interaction's cost at two sizes of one workspace (ms, in-process, through the")
    print("service functions the handlers call). Figures are printed, never asserted.")
    now = datetime.now(UTC).replace(microsecond=0)
    wanted = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    backends = [make for name, make in (("sqlite", sqlite_database), ("postgresql", pg_database)) if name in wanted]
    for make in backends:
        made: list[Database] = []
        try:
            for size in SIZES:
                db = make(size)
                if isinstance(db, str):
                    print(f"\n(PostgreSQL skipped: {db})")
                    break
                made.append(db)
                started = time.perf_counter()
                seed(db.engine, size, now)
                line(f"{db.name}: seeded {size:,} reviews", f"{time.perf_counter() - started:.1f} s "
                     f"({counts(db.engine)})")
            if len(made) == len(SIZES):
                report(made[0].name, *measure([d.engine for d in made], [newest_of(d.engine) for d in made], now))
        finally:
            for db in made:
                db.engine.dispose()
                db.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
