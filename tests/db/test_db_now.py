"""The database's clock: one question per transaction on PostgreSQL (its now() is the transaction's start), none
on SQLite (a file shared only on one host, whose clock it is)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.db import db_now, session_scope


def test_the_database_clock_is_asked_at_most_once_per_transaction_and_moves_with_the_next(engine, sessions):
    asked: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "now" in statement.lower():
            asked.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope(sessions) as s:
            first = [db_now(s) for _ in range(3)]
        time.sleep(0.01)
        with session_scope(sessions) as s:
            second = db_now(s)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    wall = datetime.now(UTC)
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in [*first, second])
    assert second > first[-1] and abs(wall - second) < timedelta(seconds=5)
    if engine.dialect.name == "postgresql":
        assert len(asked) == 2 and first[0] == first[1] == first[2]  # one per transaction, its start
    else:
        assert asked == [] and first[0] <= first[1] <= first[2]  # the host's clock, to the millisecond
        assert all(t.microsecond % 1000 == 0 for t in first)


def test_on_sqlite_a_writer_reads_the_clock_once_it_holds_the_write_lock(engine, sessions):
    """A writer that waited for another is later than that one's commit, as when SQLite itself was asked: times
    written follow the order of the writes."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's now() is its transaction's start, by design; row locks order its writers")
    import threading

    holding, committed = threading.Event(), []

    def first() -> None:
        with session_scope(sessions) as s:
            db_now(s)  # holds the write lock from here
            holding.set()
            time.sleep(0.3)
        committed.append(datetime.now(UTC))

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with session_scope(sessions) as s:
        second = db_now(s)
    thread.join(5)
    assert committed and second >= committed[0] - timedelta(milliseconds=1), (second, committed)
