"""POST /api/v1/evidence with an eval tool's own file as the body (``?format=promptfoo|inspect|lm-eval|samples``,
or a ZIP: an Inspect ``.eval`` log): counted into an evidence set, then stored as a pushed set is.

``?cohort=KEY`` (repeat it for a cohort of several labels), ``?system=S&version=V`` (needed: a tool's file names
neither), and for per-sample files ``?pass=COL`` or ``?score=COL&threshold=X``, ``?latency=COL``. Answers as the
push's: 201 stored, 200 stored before, 422 the file refused (one line naming the place), with ``"import"``
saying what was read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from bot.core.documents import text_problem
from bot.core.evidence.importers import TOOLS, ImportProblem, import_bytes, options_from, to_evidence
from bot.db import session_scope
from bot.services import evidence
from bot.web.api_models import EvidenceImported
from bot.web.api_models import answer as published
from bot.web.http import MAX_PARAM, Site, StartResponse, json_response, query_params

SOURCE = "request body"
MAX_FIELDS = 40


def _refused(start_response: StartResponse, message: str) -> Iterable[bytes]:
    return json_response(start_response, 422, {"error": message, "problems": []})


def answer(site: Site, who: tuple[str, str], environ: dict[str, Any], body: bytes,
           start_response: StartResponse) -> Iterable[bytes]:
    """``who``: (team, token name) of the authenticated caller; ``body``: already read within the size limit."""
    first = query_params(environ, ("format", "system", "version", "threshold", "pass", "score", "latency"))
    cohorts = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=MAX_FIELDS).get("cohort", [])
    if any(len(c) > MAX_PARAM or text_problem(c) for c in cohorts):
        return _refused(start_response, f"cohort: at most {MAX_PARAM} printable characters")
    tool = first.get("format") or None
    if tool is not None and tool not in TOOLS:
        return _refused(start_response, f"format: {tool!r} is not one of {', '.join(TOOLS)}")
    system, version = first.get("system") or None, first.get("version") or None
    if not (system and version):
        return _refused(start_response, "give ?system=S&version=V: an eval tool's file names neither")
    try:
        threshold = float(first["threshold"]) if first.get("threshold") else None
        options = options_from(cohort=[c.strip() for c in cohorts], pass_field=first.get("pass"),
                               score=first.get("score"), threshold=threshold, latency=first.get("latency"),
                               source="query string")
        found = import_bytes(body, SOURCE, options, tool)
        parsed = to_evidence(found, system=system, version=version, source=SOURCE)
    except ValueError as exc:  # ImportProblem, or a threshold that is not a number
        message = str(exc) if isinstance(exc, ImportProblem) else "threshold: not a number"
        return _refused(start_response, message)
    with session_scope(site.sessions) as session:
        result = evidence.push(session, who[0], parsed, actor=f"api:{who[1]}", policy_path=site.settings.policy_path)
    about = {"format": found.format, "tool": found.tool, "tool_version": found.tool_version, "samples": found.samples,
             "without_cohort": found.without_cohort, "notes": found.notes}
    return json_response(start_response, 200 if result.duplicate else 201,
                         published(EvidenceImported, {**result.as_json(), "import": about}))
