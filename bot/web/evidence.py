"""HTTP routes of evidence from the eval pipeline: POST /api/v1/evidence.

``Authorization: Bearer rdy_…`` (a workspace token); the body is the evidence file itself, JSON
(``Content-Type: application/json``) or CSV (``text/csv``); ``?system=S&version=V`` are optional and,
when given, must match every row. Answers: 201 stored, 200 the same set was stored before
(``"duplicate": true``), 401 no or a wrong token, 413 too large, 415 another content type,
422 refused rows (every problem, with its row number). Nothing is stored unless the whole set is valid.
An eval tool's own file (``?format=...``, a ZIP, JSON Lines) goes through ``bot.web.evidence_import``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.core import documents
from bot.core.evidence import EvidenceError, parse_evidence
from bot.db import session_scope
from bot.services import evidence, tokens
from bot.web import evidence_import
from bot.web.api_models import EvidenceStored, answer
from bot.web.http import Route, Site, StartResponse, bearer_token, json_response, query_params

EVIDENCE_PATH = "/api/v1/evidence"
MAX_BODY = 10 * 1024 * 1024
FORMATS = {"application/json": "json", "text/json": "json", "text/csv": "csv", "application/csv": "csv",
           "application/zip": "binary", "application/octet-stream": "binary", "application/gzip": "binary",
           "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}


def _format(environ: dict[str, Any]) -> str | None:
    kind = (environ.get("CONTENT_TYPE") or "application/json").split(";")[0].strip().lower()
    return FORMATS.get(kind)


def _body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY (read no further than that)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > MAX_BODY:
        return None
    stream = environ["wsgi.input"]
    data = stream.read(length) if length >= 0 else stream.read(MAX_BODY + 1)
    return None if len(data) > MAX_BODY else data


def _problems(exc: EvidenceError) -> list[dict[str, Any]]:
    return [{"row": p.row, "field": p.field, "reason": p.reason, "line": p.line} for p in exc.problems]


def push(site: Site, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    with session_scope(site.sessions) as session:
        who = tokens.authenticate(session, bearer_token(environ))
    if who is None:
        return json_response(start_response, 401, {"error": "a valid workspace token is required"})
    fmt = _format(environ)
    if fmt is None:
        return json_response(start_response, 415, {"error": "send JSON (application/json), CSV (text/csv), JSON "
                                                            "Lines or an Inspect log (application/zip)"})
    body = _body(environ)
    if body is None:
        return json_response(start_response, 413, {"error": f"the body is limited to {MAX_BODY // (1024 * 1024)} MB"})
    query = query_params(environ, ("system", "version", "format"))
    if "format" in query or fmt in ("binary", "jsonl"):  # an eval tool's own file: counted, then pushed
        return evidence_import.answer(site, who, environ, body, start_response)
    try:
        text = documents.decode(body, "request body")
    except documents.FileProblem as exc:
        return json_response(start_response, 422, {"error": str(exc), "problems": []})
    try:
        parsed = parse_evidence(text, fmt, system=query.get("system") or None,  # type: ignore[arg-type]
                                version=query.get("version") or None, source="request body")
    except EvidenceError as exc:
        return json_response(start_response, 422, {"error": f"refused: {len(exc.problems)} problem(s); nothing "
                                                            "was stored", "problems": _problems(exc)})
    with session_scope(site.sessions) as session:
        result = evidence.push(session, who[0], parsed, actor=f"api:{who[1]}",
                               policy_path=site.settings.policy_path)
    return json_response(start_response, 200 if result.duplicate else 201, answer(EvidenceStored, result.as_json()))


def routes() -> list[Route]:
    return [Route("POST", EVIDENCE_PATH, push)]
