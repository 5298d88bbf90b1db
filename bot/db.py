"""Engines, sessions and the schema check. SQLite is the embedded default, PostgreSQL the production store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, literal, text
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

import migrations
from bot.errors import SchemaNotAtHead

MIGRATIONS_DIR = Path(migrations.__file__).parent


def make_engine(url: str, *, busy_timeout_ms: int = 5000, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs)
        _tune_sqlite(engine, busy_timeout_ms)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys, and write transactions that take the lock up front.

    BEGIN IMMEDIATE makes concurrent writers queue on the busy timeout instead of failing
    when a reader tries to upgrade its lock. SQLite is a single-host store.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Read-only scopes take no write lock, so the acks that only read never queue behind writers.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")


def session_factory(engine: Engine, *, readonly: bool = False,
                    clock: Callable[[], datetime] | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``readonly`` ones are for reads only (on SQLite: a deferred BEGIN).

    ``clock`` is the application's clock, which decides what time-bound state (a waiver) holds now;
    services read it with ``clock_now(session)``.
    """
    bind = engine.execution_options(readonly=True) if readonly else engine
    return sessionmaker(bind=bind, expire_on_commit=False, info={"clock": clock} if clock else None)


def clock_now(session: Session) -> datetime:
    """The application's clock for this session (UTC): the one it was made with, else the system's."""
    clock = session.info.get("clock")
    return clock() if clock is not None else datetime.now(UTC)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_schema(engine: Engine) -> None:
    """SQLite is upgraded in place at start; PostgreSQL must be upgraded by the operator."""
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotAtHead(
            f"the database schema is at {current or 'nothing'}, this release needs {head}; "
            "run `readiness db upgrade` first"
        )


_DB_NOW = "db_now"  # session.info: (the transaction, PostgreSQL's now() in it)


def db_now(session: Session) -> datetime:
    """The database's clock (UTC): due checks use it, so replicas with skewed clocks agree.

    PostgreSQL's ``now()`` is the time its transaction began, so it is asked once per transaction. An SQLite
    file is only ever shared by processes on one host, whose clock is the database's: it is read here, to
    SQLite's millisecond, with no round trip, once the transaction has begun (a writer's holds the write lock),
    so writers' times follow the order they write in, as when SQLite was asked."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection()  # begins the transaction, as a query would: BEGIN IMMEDIATE waits for the writer
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)
    transaction = session.get_transaction()
    asked = session.info.get(_DB_NOW)
    if transaction is not None and asked is not None and asked[0] is transaction:
        return asked[1]
    value = session.execute(text("SELECT now()")).scalar_one().astimezone(UTC)
    session.info[_DB_NOW] = (session.get_transaction(), value)
    return value


def db_now_sql(session: Session, type_: Any) -> Any:
    """``db_now`` for a statement to use: PostgreSQL's ``now()`` itself (no round trip), SQLite's time as a
    value of ``type_``."""
    if session.get_bind().dialect.name == "postgresql":
        return func.now()
    return literal(db_now(session), type_)


def dialect_insert(session: Session, model: Any) -> PostgresInsert | SqliteInsert:
    """An INSERT into ``model`` in the session's dialect, so it can say ``ON CONFLICT DO NOTHING``."""
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def is_outage(error: BaseException) -> bool:
    """The database could not be reached or is too busy (retry later), as opposed to a refused statement."""
    if isinstance(error, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
