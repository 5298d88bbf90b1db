"""The published API description: generated from the endpoints' models, and schemathesis holds the endpoints
to it (bounded examples, SQLite and PostgreSQL, a valid workspace token): no 5xx, every status code, content
type and body as published."""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.core.evidence import parse_evidence
from bot.db import session_scope
from bot.sandbox.local import TEAM, Conversation, LocalSlack
from bot.services import tokens
from bot.web.api_models import EvidenceUpload

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 40


@pytest.fixture
def api(engine):
    with LocalSlack(engine=engine) as local:
        Conversation(local).start_review(local.people.lead, "copilot", "2.0")  # something for the gate to find
        with session_scope(local.sessions) as s:
            token = tokens.create(s, TEAM, "schemathesis", actor="test")
        yield local, token


def test_every_answer_matches_the_published_description(api, capsys):
    """Valid and invalid requests generated from the description (hypothesis, bounded), each checked against it."""
    from hypothesis import given
    from schemathesis import GenerationMode

    local, token = api
    schema = schemathesis.openapi.from_url(local.server.url + "/api/v1/openapi.json")
    seen: dict[str, dict[int, int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        counts: dict[int, int] = seen.setdefault(operation.label, {})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
            def run(case):
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                counts[response.status_code] = counts.get(response.status_code, 0) + 1  # noqa: B023 - run at once
                assert response.status_code < 500, response.text[:300]
                case.validate_response(response, checks=CHECKS)

            run()
        # and the requests that succeed, which random text rarely is: the review's gate, a real evidence set
        for case in known_good(operation):
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS)
    with capsys.disabled():
        print(f"\nschemathesis ({local.engine.dialect.name}): answers by status per operation: {seen}")
    assert 200 in seen["GET /api/v1/gate"] and 201 in seen["POST /api/v1/evidence"], seen


def known_good(operation):
    from importlib import resources

    if operation.method.upper() == "GET":
        yield operation.Case(query={"system": "copilot", "version": "2.0", "allow": "go,narrow"})
        return
    sample = json.loads(resources.files("bot.samples.evidence").joinpath("candidate.json").read_text())
    for _ in range(2):  # stored, then a duplicate
        yield operation.Case(body=sample, media_type="application/json")
    csv = resources.files("bot.samples.evidence").joinpath("candidate.csv").read_text()
    yield operation.Case(body=csv, media_type="text/csv")


def test_the_description_is_openapi_3_1_with_every_error_answer(api):
    local, _ = api
    with urllib.request.urlopen(local.server.url + "/api/v1/openapi.json", timeout=10) as response:
        doc = json.loads(response.read())
    assert doc["openapi"] == "3.1.0"
    evidence = doc["paths"]["/api/v1/evidence"]["post"]["responses"]
    gate = doc["paths"]["/api/v1/gate"]["get"]["responses"]
    assert {"200", "201", "401", "413", "415", "422", "503"} <= set(evidence)
    assert {"200", "401", "503"} <= set(gate)
    assert evidence["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/RefusedRows")


def test_the_shipped_evidence_samples_fit_the_published_upload_model():
    from importlib import resources

    for sample in resources.files("bot.samples.evidence").iterdir():
        if sample.name.endswith(".json"):
            data = json.loads(sample.read_text())
            EvidenceUpload.model_validate({"rows": data} if isinstance(data, list) else data)
            parse_evidence(sample.read_text(), "json")
