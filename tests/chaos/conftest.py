"""The chaos tests' database: one SQLite file or one PostgreSQL schema, migrated, shared by the replicas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.db import make_engine, upgrade
from tests.conftest import _pg_url, drop_schema, postgres_schema_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def chaos_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Engine]]:
    """(name, DATABASE_URL for the replicas, engine for the test), migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chaos.db'}"
        engine = make_engine(url)
        upgrade(engine)
        yield "sqlite", url, engine
        engine.dispose()
        return
    engine, admin, schema = postgres_schema_engine()
    upgrade(engine)
    base = _pg_url()
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    yield "postgresql", url, engine
    engine.dispose()
    drop_schema(admin, schema)
