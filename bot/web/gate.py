"""GET /api/v1/gate?system=S&version=V[&allow=go,narrow]: the release gate for pipelines, to a workspace token."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.checklist import Verdict
from bot.db import session_scope
from bot.observe.metrics import GATE_ANSWERS
from bot.services import tokens
from bot.services.assessments import find_latest
from bot.services.gate import evaluate
from bot.web.api_models import GateAnswer, answer
from bot.web.http import Environ, Route, Site, StartResponse, bearer_token, json_response, query_params

GATE_PATH = "/api/v1/gate"


def gate(site: Site, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    with session_scope(site.sessions) as session:
        who = tokens.authenticate(session, bearer_token(environ))
        if who is None:
            GATE_ANSWERS.labels("refused", "false").inc()
            return json_response(start_response, 401, {"error": "a valid workspace token is required"})
        query = query_params(environ, ("system", "version", "allow"))
        system, version = query.get("system", "").strip(), query.get("version", "").strip()
        if not system or not version:
            return json_response(start_response, 400, {"error": "system and version are required"})
        try:
            allowed = {Verdict(v.strip()) for v in query.get("allow", "go").split(",") if v.strip()}
        except ValueError:
            return json_response(start_response, 400,
                                 {"error": "allow: verdicts are go, narrow, hold, no-go, incomplete"})
        if find_latest(session, who[0], system, version) is None:
            # another workspace's review, or none at all: the token opens nothing here, and says nothing
            return json_response(start_response, 401,
                                 {"error": f"this token's workspace has no review of {system} {version}"})
        result = evaluate(session, who[0], system, version, allowed, actor=f"api:{who[1]}", settings=site.settings)
    GATE_ANSWERS.labels(result.verdict or "none", str(result.passed).lower()).inc()
    return json_response(start_response, 200, answer(GateAnswer, result.as_json()))


def routes() -> list[Route]:
    return [Route("GET", GATE_PATH, gate)]
