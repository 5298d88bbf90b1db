"""The JSON endpoints: every bad input is a 4xx with a JSON error, nothing is stored, and an outage is a 503."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import make_engine, session_scope
from bot.sandbox.local import TEAM, LocalSlack
from bot.services import tokens
from bot.web.server import Server, WebApp
from models import AuditEvent, EvidenceRecord
from tests.hostile.conftest import tried

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def call(base: str, path: str, *, body: bytes | None = None, token: str | None = None,
         content_type: str = "application/json") -> tuple[int, dict[str, Any], str]:
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(base + path, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            status, raw = answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read().decode()
    return status, (json.loads(raw) if raw.startswith("{") else {}), raw


@pytest.fixture
def token(local: LocalSlack) -> str:
    with session_scope(local.sessions) as s:
        return tokens.create(s, TEAM, "ci-fuzz", actor="test")


def stored(local: LocalSlack) -> tuple[int, int]:
    with session_scope(local.sessions) as s:
        return (s.scalar(select(func.count()).select_from(EvidenceRecord)) or 0,
                s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "evidence.pushed")) or 0)


def row(**values: Any) -> bytes:
    base = {"cohort": "eu", "metric": "task_success_rate", "value": 0.9, "n": 100, "count": 90}
    return json.dumps({"rows": [{**base, **values}]}).encode()


REFUSED_BODIES = {
    "a 400-digit number": b'{"rows": [{"cohort": "eu", "metric": "task_success_rate", "value": 0.9, "n": 1'
                          + b"0" * 400 + b"}]}",
    "an integer of 1e309 or more": b'{"rows": [{"cohort": "eu", "metric": "task_success_rate", "value": 1'
                                   + b"0" * 309 + b', "n": 10}]}',
    "a huge count": row(count=10**40),
    "a float beyond range": b'{"rows": [{"cohort": "eu", "metric": "task_success_rate", "value": 1e999, "n": 10}]}',
    "NaN": b'{"rows": [{"cohort": "eu", "metric": "task_success_rate", "value": NaN, "n": 10}]}',
    "deep nesting": b'{"rows": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a NUL in a cohort": row(cohort="eu\u0000legal"),
    "a lone surrogate in a cohort": b'{"rows": [{"cohort": "eu\\ud800", "metric": "task_success_rate", "value": 0.9, "n": 10}]}',
    "a control character in a metric": row(metric="task\u0007rate"),
    "not UTF-8": b'{"rows": [{"cohort": "\xff\xfe"}]}',
    "a sample size beyond 32 bits": row(n=3_000_000_000, count=2_700_000_000),
}


@pytest.mark.parametrize("case", sorted(REFUSED_BODIES))
def test_bad_evidence_bodies_are_422_and_store_nothing(local: LocalSlack, token: str, case: str):
    before = stored(local)
    status, answer, raw = call(local.server.url, "/api/v1/evidence?system=s&version=1", body=REFUSED_BODIES[case],
                               token=token)
    assert status == 422, raw
    assert answer["error"] and "Traceback" not in raw
    assert stored(local) == before


@pytest.mark.parametrize("query", ["?system=" + "s" * 300 + "&version=1", "?system=a%00b&version=1",
                                   "?system=s&version=%ff%fe", "?system=s&version=1%0a2"])
def test_bad_query_parameters_are_400(local: LocalSlack, token: str, query: str):
    for path, body in ((f"/api/v1/evidence{query}", row()), (f"/api/v1/gate{query}", None)):
        status, answer, raw = call(local.server.url, path, body=body, token=token)
        assert status == 400, (path, raw)
        assert "error" in answer
    assert stored(local) == (0, 0)


def test_a_nul_in_the_gates_system_is_400_not_500(local: LocalSlack, token: str):
    status, answer, _ = call(local.server.url, "/api/v1/gate?system=a%00b&version=1", token=token)
    assert status == 400 and "control characters" in answer["error"]


def test_a_database_outage_is_503_on_both_endpoints(local: LocalSlack, token: str):
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    server = Server(WebApp(local.app, dead, settings=local.settings)).start()
    try:
        for path, body in (("/api/v1/evidence?system=s&version=1", row()), ("/api/v1/gate?system=s&version=1", None)):
            status, answer, raw = call(server.url, path, body=body, token=token)
            assert status == 503, raw
            assert "not reachable" in answer["error"]
    finally:
        server.stop()
        dead.dispose()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
rows = st.lists(st.fixed_dictionaries({}, optional={
    "cohort": json_values | st.text(max_size=30), "metric": st.sampled_from(["task_success_rate", "x", ""]) | json_values,
    "value": json_values, "n": json_values, "count": json_values, "extra": json_values}), max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(rows.map(lambda r: json.dumps({"rows": r}).encode()), json_values.map(
    lambda v: json.dumps(v).encode()), st.binary(max_size=300)),
    content_type=st.sampled_from(["application/json", "text/csv", "text/plain", "application/zip"]),
    query=st.sampled_from(["", "?system=s&version=1", "?system=%00", "?version=" + "v" * 250]))
def test_fuzz_evidence_pushes_never_get_a_5xx_and_refusals_store_nothing(local: LocalSlack, token: str,
                                                                        body: bytes, content_type: str, query: str):
    before = stored(local)
    status, answer, raw = call(local.server.url, f"/api/v1/evidence{query}", body=body, token=token,
                               content_type=content_type)
    tried("POST /api/v1/evidence", status)
    assert status < 500 and "Traceback" not in raw
    assert "error" in answer or status in (200, 201)
    if status >= 400:
        assert stored(local) == before


@FUZZ
@given(query=st.text(max_size=80))
def test_fuzz_gate_queries_never_get_a_5xx(local: LocalSlack, token: str, query: str):
    from urllib.parse import quote

    status, answer, raw = call(local.server.url, "/api/v1/gate?" + quote(query, safe="=&%"), token=token)
    tried("GET /api/v1/gate", status)
    assert status < 500 and "Traceback" not in raw and "error" in answer
