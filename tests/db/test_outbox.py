"""The outbox on SQLite and PostgreSQL: idempotent enqueue, exclusive claims, leases, retries."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert, select, update

from bot.db import db_now, session_scope
from bot.services import outbox
from bot.services.workspaces import ensure_workspace
from models import OutboxMessage

TEAM = "T001"
PAST = datetime(2026, 1, 1, tzinfo=UTC)


def add(sessions, key: str, due: datetime = PAST, **kw) -> bool:
    with session_scope(sessions) as s:
        ensure_workspace(s, TEAM)
        return outbox.enqueue(s, TEAM, dedupe_key=key, kind=kw.get("kind", "due_today"),
                              recipient=kw.get("recipient", "U1"), due_at=due, assessment_id=None,
                              item_id=kw.get("item_id"))


def statuses(sessions) -> dict[str, str]:
    with session_scope(sessions) as s:
        return {r.dedupe_key: r.status for r in s.scalars(select(OutboxMessage))}


def test_enqueue_is_idempotent_and_moves_a_pending_row(sessions):
    assert add(sessions, "k1") is True
    assert add(sessions, "k1") is False
    later = PAST + timedelta(hours=3)
    add(sessions, "k1", due=later)
    with session_scope(sessions) as s:
        rows = list(s.scalars(select(OutboxMessage)))
    assert len(rows) == 1 and rows[0].due_at == later and rows[0].next_attempt_at == later


def test_db_clock_is_utc_and_close_to_now(sessions):
    with session_scope(sessions) as s:
        now = db_now(s)
    assert now.tzinfo is not None and abs((now - datetime.now(UTC)).total_seconds()) < 60


def test_claims_take_only_due_rows_and_mark_them_sending(sessions):
    add(sessions, "due")
    add(sessions, "future", due=datetime.now(UTC) + timedelta(days=1))
    with session_scope(sessions) as s:
        claimed = outbox.claim_due(s, owner="w1", lease=timedelta(seconds=30))
    assert [(r.dedupe_key, before) for r, before in claimed] == [("due", "pending")]
    assert statuses(sessions) == {"due": "sending", "future": "pending"}


def test_two_workers_never_claim_the_same_row(sessions):
    for n in range(60):
        add(sessions, f"k{n}")
    got: dict[str, list[str]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        barrier.wait()
        while True:
            with session_scope(sessions) as s:
                rows = outbox.claim_due(s, owner=name, lease=timedelta(seconds=30), limit=7)
                keys = [r.dedupe_key for r, _ in rows]
            if not keys:
                return
            got[name].extend(keys)

    threads = [threading.Thread(target=work, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got["a"] + got["b"]) == sorted(f"k{n}" for n in range(60))
    assert not set(got["a"]) & set(got["b"])


def test_only_the_lease_holder_records_the_result(sessions):
    add(sessions, "k")
    with session_scope(sessions) as s:
        (row, _), = outbox.claim_due(s, owner="w1", lease=timedelta(seconds=30))
        row_id = row.id
    with session_scope(sessions) as s:
        assert outbox.mark_sent(s, row_id, "w2", "C1", "1.1") is False
        assert outbox.mark_sent(s, row_id, "w1", "C1", "1.1") is True
        assert outbox.mark_sent(s, row_id, "w1", "C1", "1.1") is False  # already recorded
    assert statuses(sessions) == {"k": "sent"}


def test_expired_leases_become_unknown_and_are_claimed_again_as_unknown(sessions):
    add(sessions, "k")
    with session_scope(sessions) as s:
        outbox.claim_due(s, owner="w1", lease=timedelta(seconds=-1))  # already expired
    with session_scope(sessions) as s:
        assert outbox.reap_expired_leases(s) == 1
    assert statuses(sessions) == {"k": "unknown"}
    with session_scope(sessions) as s:
        (row, before), = outbox.claim_due(s, owner="w2", lease=timedelta(seconds=30))
        assert before == "unknown" and row.attempts == 2


def test_retries_end_dead_after_max_attempts(sessions):
    add(sessions, "k")
    for attempt in range(1, 4):
        with session_scope(sessions) as s:
            (row, _), = outbox.claim_due(s, owner="w", lease=timedelta(seconds=30))
            status = outbox.retry_later(s, row.id, "w", after=timedelta(seconds=-1), error="refused: x",
                                        unknown=False, max_attempts=3)
        assert status == ("dead" if attempt == 3 else "pending")
    with session_scope(sessions) as s:
        assert outbox.claim_due(s, owner="w", lease=timedelta(seconds=30)) == []


def test_cancel_gap_keeps_the_current_plan(sessions, checklist):
    from bot.services.assessments import StartRequest, start_assessment

    with session_scope(sessions) as s:
        a = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="x", version="1", started_by="U"))
        for key in ("old", "new"):
            outbox.enqueue(s, TEAM, dedupe_key=key, kind="overdue", recipient="U1", due_at=PAST,
                           assessment_id=a.id, item_id="s1")
        assert outbox.cancel_gap(s, TEAM, a.id, "s1", keep=["new"]) == 1
    assert statuses(sessions) == {"old": "cancelled", "new": "pending"}


LATER = PAST + timedelta(hours=3)


def _as_before(sessions, team: str) -> None:
    """One row in each state ``enqueue`` has a rule for (and the states it leaves alone)."""
    with session_scope(sessions) as s:
        ensure_workspace(s, team)
        for key in ("pending-same", "pending-moved", "cancelled", "sent", "unknown", "dead", "sending"):
            outbox.enqueue(s, team, dedupe_key=key, kind="due_today", recipient="U1", due_at=PAST, payload={"v": 1})
    with session_scope(sessions) as s:
        for key, values in (("cancelled", {"status": "cancelled", "attempts": 3, "last_error": "gap closed"}),
                            ("sent", {"status": "sent", "attempts": 1}),
                            ("unknown", {"status": "unknown", "attempts": 2, "last_error": "timeout"}),
                            ("dead", {"status": "dead", "attempts": 5, "last_error": "refused"}),
                            ("sending", {"status": "sending", "attempts": 1})):
            s.execute(update(OutboxMessage).where(OutboxMessage.team_id == team, OutboxMessage.dedupe_key == key)
                      .values(**values))


ASKED = [  # what a plan asks for: a new row, the same key twice, and each existing row again (most at a new time)
    {"dedupe_key": "new", "kind": "overdue", "recipient": "U2", "due_at": LATER, "assessment_id": None,
     "item_id": "s1", "payload": {"v": 2}},
    {"dedupe_key": "new-bare", "kind": "escalation_channel", "recipient": "C1", "due_at": PAST},
    {"dedupe_key": "twice", "kind": "due_soon", "recipient": "U2", "due_at": PAST, "payload": {"v": 2}},
    {"dedupe_key": "twice", "kind": "due_soon", "recipient": "U2", "due_at": LATER, "payload": {"v": 3}},
    *({"dedupe_key": key, "kind": "due_today", "recipient": "U1", "due_at": PAST if key == "pending-same" else LATER,
       "payload": {"v": 2}}
      for key in ("pending-same", "pending-moved", "cancelled", "sent", "unknown", "dead", "sending")),
]


def _rows(s, team: str) -> dict[str, tuple]:
    return {r.dedupe_key: (r.kind, r.recipient, r.status, r.due_at, r.next_attempt_at, r.attempts, r.last_error,
                           r.payload, r.assessment_id, r.item_id, r.requeue)
            for r in s.scalars(select(OutboxMessage).where(OutboxMessage.team_id == team))}


def test_enqueue_many_does_what_enqueue_does_row_by_row(sessions):
    """``enqueue_many`` (one SELECT, one INSERT) leaves the rows as ``enqueue`` called for each would, and says
    as many were inserted or revived: a pending row moves, a cancelled one is revived, a sent (or claimed, dead,
    unknown) one is left alone, a missing one is inserted once however often its key is asked for."""
    _as_before(sessions, "T_ONE_BY_ONE")
    _as_before(sessions, "T_BATCH")
    with session_scope(sessions) as s:
        one_by_one = sum(outbox.enqueue(s, "T_ONE_BY_ONE", **row) for row in ASKED)
    with session_scope(sessions) as s:
        s.info.pop(outbox.OWED, None)
        batch = outbox.enqueue_many(s, "T_BATCH", ASKED)
        assert s.info.get(outbox.OWED)  # the deliverer is asked at commit, as after enqueue
        in_transaction = _rows(s, "T_BATCH")  # the inserted rows are read back in the same transaction
    assert batch == one_by_one == 4  # new, new-bare, twice, cancelled
    with session_scope(sessions) as s:
        expected, got = _rows(s, "T_ONE_BY_ONE"), _rows(s, "T_BATCH")
    assert got == expected == in_transaction
    assert expected["pending-moved"][3:5] == (LATER, LATER) and expected["pending-same"][3] == PAST
    assert expected["cancelled"][2:8] == ("pending", LATER, LATER, 0, None, {"v": 2})
    assert expected["sent"][2:4] == ("sent", PAST) and expected["twice"][3:5] == (LATER, LATER)
    assert expected["new-bare"][7] == {} and expected["twice"][7] == {"v": 2}
    with session_scope(sessions) as s:  # asked again: nothing to insert or revive
        assert outbox.enqueue_many(s, "T_BATCH", ASKED) == 0
        assert outbox.enqueue_many(s, "T_BATCH", []) == 0
    with session_scope(sessions) as s:
        assert _rows(s, "T_BATCH") == expected


def test_enqueue_many_skips_a_key_another_replica_inserted_meanwhile(sessions):
    """A key inserted between the batch's SELECT and its INSERT (by another replica) is not inserted again, nor
    counted: the other replica's row stands, the rest of the batch is inserted."""
    with session_scope(sessions) as s:
        ensure_workspace(s, TEAM)

    def meanwhile(state) -> None:
        if state.is_insert:
            state.session.connection().execute(insert(OutboxMessage.__table__).values(
                team_id=TEAM, dedupe_key="raced", kind="overdue", recipient="U_OTHER", due_at=PAST,
                next_attempt_at=PAST, status="pending", attempts=0, payload={"by": "the other replica"}))

    with session_scope(sessions) as s:
        event.listen(s, "do_orm_execute", meanwhile)
        inserted = outbox.enqueue_many(s, TEAM, [
            {"dedupe_key": key, "kind": "overdue", "recipient": "U1", "due_at": LATER} for key in ("raced", "fresh")])
    assert inserted == 1
    with session_scope(sessions) as s:
        rows = {r.dedupe_key: (r.recipient, r.payload) for r in s.scalars(select(OutboxMessage))}
    assert rows == {"raced": ("U_OTHER", {"by": "the other replica"}), "fresh": ("U1", {})}
