"""Shared fixtures: the shipped checklist, and databases (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from bot.core import documents
from bot.core.checklist import Checklist, load_checklist
from bot.db import make_engine, session_factory, upgrade

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def checklist() -> Checklist:
    return load_checklist()


@pytest.fixture
def checklist_data() -> dict[str, Any]:
    """The shipped checklist as plain data, for tests that build variants of it."""
    text_ = resources.files("bot.checklists").joinpath("enterprise-ai-rollout.yaml").read_text()
    return documents.safe_load(text_)


def _pg_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)


_pg_state: dict[str, str | None] = {}


def _pg_unreachable_reason() -> str | None:
    if "reason" not in _pg_state:
        try:
            probe = make_engine(_pg_url())
            with probe.connect() as conn:
                conn.execute(text("select 1"))
            probe.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure to connect means "not reachable"
            _pg_state["reason"] = f"PostgreSQL not reachable at {_pg_url()}: {type(exc).__name__}"
    return _pg_state["reason"]


def postgres_schema_engine() -> tuple[Engine, Engine, str]:
    """A fresh schema on the test PostgreSQL server, with an engine bound to it."""
    reason = _pg_unreachable_reason()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(reason + " (REQUIRE_POSTGRES is set)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(_pg_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(_pg_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    return engine, admin, schema


def drop_schema(admin: Engine, schema: str) -> None:
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url_and_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[str, Engine]]:
    """An empty database of each kind (not migrated)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'readiness.db'}"
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    engine, admin, schema = postgres_schema_engine()
    yield engine.url.render_as_string(hide_password=False), engine
    engine.dispose()
    drop_schema(admin, schema)


@pytest.fixture
def blank_engine(db_url_and_engine: tuple[str, Engine]) -> Engine:
    return db_url_and_engine[1]


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    upgrade(blank_engine)
    return blank_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def allow_golive_before_signoff(session: Session, team_id: str) -> None:
    """For tests of what follows a go-live: the workspace setting that lets it be recorded before sign-off."""
    from dataclasses import replace

    from bot.services import config

    config.update(session, team_id, replace(config.get(session, team_id), golive_without_signoff=True),
                  actor="U_ADMIN")
