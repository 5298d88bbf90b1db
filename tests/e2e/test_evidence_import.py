"""An eval tool's own file pushed over HTTP, on SQLite and PostgreSQL: the format from ?format= or from the
content, an Inspect .eval ZIP as the body, the push's answers and limits; a refused file stores nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.db import session_scope
from models import EvidenceRecord
from tests.e2e.test_evidence import post, token_for

EVAL = Path(__file__).parents[1] / "fixtures" / "eval"
[INSPECT] = sorted((EVAL / "inspect" / "baseline").glob("*.eval"))
PROMPTFOO = EVAL / "promptfoo" / "baseline" / "results.json.gz"
QUERY = "?cohort=tenant&system=copilot&version=1.0"


def stored(local) -> int:
    with session_scope(local.sessions) as s:
        return s.scalar(select(func.count()).select_from(EvidenceRecord))


def test_tool_files_are_counted_and_pushed_over_http(local, monkeypatch):
    token = token_for(local)
    status, body = post(local, INSPECT.read_bytes(), token, content_type="application/zip", query=QUERY)
    assert status == 201 and body["rows"] == 24 and body["system"] == "copilot"
    assert body["import"]["tool"] == "inspect_ai" and body["import"]["without_cohort"] == 2
    assert "no release policy applies to copilot" in body["notes"][0]
    status, body = post(local, INSPECT.read_bytes(), token, content_type="application/octet-stream", query=QUERY)
    assert status == 200 and body["duplicate"] is True

    gz = PROMPTFOO.read_bytes()
    status, body = post(local, gz, token, content_type="application/gzip",
                        query="?format=promptfoo&cohort=tenant&cohort=vars.region&system=copilot&version=1.1")
    assert status == 201 and body["import"]["tool_version"] == "0.121.20"
    with session_scope(local.sessions) as s:
        record = s.scalar(select(EvidenceRecord).where(EvidenceRecord.version == "1.1"))
        cohorts = {r["cohort"] for r in record.body["rows"]}
    assert "tenant=eu-legal,vars.region=eu" in cohorts and "(none)" in cohorts

    before = stored(local)
    refused = [
        (INSPECT.read_bytes()[:30_000], "application/zip", QUERY, "request body: a broken or truncated ZIP archive"),
        (gz, "application/json", "?format=inspect&system=copilot&version=1.2", "request body: not an Inspect log"),
        (gz, "application/json", "?format=tensorboard&system=copilot&version=1.2", "format: 'tensorboard' is not"),
        (INSPECT.read_bytes(), "application/zip", "?cohort=tenant", "give ?system=S&version=V"),
        (b"tenant,ok\na,1\n", "text/csv", "?format=samples&system=c&version=1&threshold=x", "threshold: not a number"),
        (INSPECT.read_bytes(), "application/zip", QUERY + "&score=mach",  # a typo must not count every sample failed
         "request body: no sample has the score mach that decides success (the file's scores: match, abs_error_credit)"),
    ]
    for data, kind, query, expected in refused:
        status, body = post(local, data, token, content_type=kind, query=query)
        assert status == 422 and expected in body["error"] and "\n" not in body["error"], (query, body)
    assert post(local, INSPECT.read_bytes(), None, content_type="application/zip", query=QUERY)[0] == 401
    assert post(local, gz, token, content_type="application/x-tar", query=QUERY)[0] == 415
    monkeypatch.setattr("bot.web.evidence.MAX_BODY", 1000)
    assert post(local, INSPECT.read_bytes(), token, content_type="application/zip", query=QUERY)[0] == 413
    assert stored(local) == before
