"""System names and versions are checked against the columns that store them (120 and 80 characters) wherever
they come in: the evidence endpoint's query string and body, an eval tool's import, the gate, and the command
line's flags. Too long is a 400/422 with a clear message or exit 2 with one line, never a 500 or exit 70
(PostgreSQL refuses an overlong value with StringDataRightTruncation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.cli.main import main
from bot.db import session_factory, session_scope
from bot.sandbox.local import TEAM, LocalSlack
from bot.services import tokens
from models import Assessment, EvidenceRecord, PolicyRecord
from tests.hostile.test_api import call, row, stored

MAX_SYSTEM, MAX_VERSION = 120, 80  # as the README states them
LONG_SYSTEM, LONG_VERSION = "s" * (MAX_SYSTEM + 30), "v" * (MAX_VERSION + 10)
ROWS = [{"cohort": "eu", "metric": "task_success_rate", "value": 0.9, "n": 100}]


def test_the_limits_are_the_columns_widths():
    from bot.core import limits

    assert (limits.MAX_SYSTEM, limits.MAX_VERSION) == (MAX_SYSTEM, MAX_VERSION)
    for model in (Assessment, EvidenceRecord, PolicyRecord):
        assert model.__table__.c.system.type.length == MAX_SYSTEM
    for model in (Assessment, EvidenceRecord):
        assert model.__table__.c.version.type.length == MAX_VERSION


@pytest.fixture
def token(local: LocalSlack) -> str:
    with session_scope(local.sessions) as s:
        return tokens.create(s, TEAM, "ci-lengths", actor="test")


CSV_SAMPLES = b"id,ok\n1,true\n2,false\n"


@pytest.mark.parametrize("query", [f"?system={LONG_SYSTEM}&version=1", f"?system=s&version={LONG_VERSION}",
                                   f"?system={LONG_SYSTEM}&version=1&format=samples&pass=ok"])
def test_an_overlong_system_or_version_in_the_query_is_400(local: LocalSlack, token: str, query: str):
    body, kind = (CSV_SAMPLES, "text/csv") if "format" in query else (row(), "application/json")
    status, answer, raw = call(local.server.url, f"/api/v1/evidence{query}", body=body, token=token, content_type=kind)
    assert status == 400, raw
    name, limit = ("system", MAX_SYSTEM) if "s" * MAX_SYSTEM in query else ("version", MAX_VERSION)
    assert answer["error"] == f"{name}: at most {limit} characters"
    assert stored(local) == (0, 0)


def test_an_overlong_system_of_the_gate_is_400(local: LocalSlack, token: str):
    status, answer, raw = call(local.server.url, f"/api/v1/gate?system={LONG_SYSTEM}&version=1", token=token)
    assert status == 400 and answer["error"] == f"system: at most {MAX_SYSTEM} characters", raw


def test_a_system_as_long_as_its_column_is_stored_and_a_longer_one_in_the_body_is_422(local: LocalSlack, token: str):
    widest = "w" * MAX_SYSTEM
    status, answer, raw = call(local.server.url, "/api/v1/evidence",
                               body=json.dumps({"system": widest, "version": "1", "rows": ROWS}).encode(), token=token)
    assert status == 201 and answer["system"] == widest, raw
    for body in ({"system": LONG_SYSTEM, "version": "1", "rows": ROWS},
                 {"rows": [{**ROWS[0], "system": LONG_SYSTEM, "version": "1"}]},
                 {"system": "s", "version": LONG_VERSION, "rows": ROWS}):
        status, answer, raw = call(local.server.url, "/api/v1/evidence", body=json.dumps(body).encode(), token=token)
        assert status == 422, raw
        assert any("characters" in p["reason"] for p in answer["problems"]), raw
    assert stored(local) == (1, 1)


def test_a_token_with_the_longest_name_the_settings_allow_can_push(local: LocalSlack):
    """Regression: its audit actor ("api:" and 80 characters) was wider than the column (64) on PostgreSQL."""
    with session_scope(local.sessions) as s:
        longest = tokens.create(s, TEAM, "n" * 80, actor="test")
    body = json.dumps({"system": "s", "version": "1", "rows": ROWS}).encode()
    status, _, raw = call(local.server.url, "/api/v1/evidence", body=body, token=longest)
    assert status == 201, raw


@pytest.fixture
def cli_database(engine: Engine, db_url_and_engine: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("DATABASE_URL", db_url_and_engine[0])
    monkeypatch.delenv("POLICY_PATH", raising=False)
    return engine


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["evidence", "push", "{rows}", "--system", LONG_SYSTEM, "--version", "1", "--team", "T1"],
    ["evidence", "push", "{rows}", "--system", "s", "--version", LONG_VERSION, "--team", "T1"],
    ["evidence", "import", "{csv}", "--system", LONG_SYSTEM, "--version", "1", "--team", "T1", "--pass", "ok"],
    ["policy", "push", "{policy}", "--system", LONG_SYSTEM, "--team", "T1"],
    ["evidence", "show", "--system", LONG_SYSTEM, "--version", "1", "--team", "T1"],
    ["gate", "--system", LONG_SYSTEM, "--version", "1", "--team", "T1"],
    ["evidence", "push", "{rows}", "--system", "s", "--version", "1", "--team", "T1", "--actor", "a" * 101],
    ["workspace", "export", "--team", "T1", "--by", "b" * 101],
])
def test_an_overlong_system_or_version_flag_exits_2_with_one_line(cli_database: Engine, capsys, tmp_path: Path,
                                                                  argv: list[str]):
    files = {"{rows}": tmp_path / "rows.json", "{csv}": tmp_path / "rows.csv", "{policy}": tmp_path / "policy.yaml"}
    files["{rows}"].write_text(json.dumps(ROWS))
    files["{csv}"].write_text("id,ok\n1,true\n2,false\n")
    files["{policy}"].write_text("id: p\nversion: '1'\nrules:\n  - metric: task_success_rate\n    floor: 0.5\n")
    code, err = run(capsys, *[str(files.get(a, a)) for a in argv])
    name, limit = next((n, limit) for n, limit in (("system", MAX_SYSTEM), ("version", MAX_VERSION), ("actor", 100),
                                                  ("by", 100)) if f"--{n}" in argv and len(argv[argv.index(f"--{n}") + 1]) > limit)
    assert code == 2, err
    assert err.strip() == f"readiness: --{name}: at most {limit} characters (this one has {len(argv[argv.index('--' + name) + 1])})"
    with session_scope(session_factory(cli_database)) as s:
        assert s.scalar(select(func.count()).select_from(EvidenceRecord)) == 0
