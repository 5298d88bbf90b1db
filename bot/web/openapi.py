"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the gate and the evidence endpoints.

Generated at each request from the pydantic models the endpoints answer with (``bot.web.api_models``) and
from the limits the endpoints enforce (query parameters, body size), so it cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic.json_schema import models_json_schema

from bot.core.evidence.importers import TOOLS
from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from bot.web import evidence, gate
from bot.web.api_models import (
    ErrorAnswer,
    EvidenceImported,
    EvidenceStored,
    EvidenceUpload,
    GateAnswer,
    RefusedRows,
)
from bot.web.http import MAX_PARAM, Environ, Route, Site, StartResponse, json_response

OPENAPI_PATH = "/api/v1/openapi.json"
REF = "#/components/schemas/{model}"
ERRORS = {
    400: "A query parameter is missing, too long, or holds control characters.",
    401: "No valid workspace token, or the token's workspace has no such review.",
    413: "The body is larger than the limit.",
    415: "The body is neither JSON nor CSV.",
    422: "The evidence was refused: every row problem is listed, and nothing was stored.",
    500: "A defect: the answer names the error id that is in the log.",
    503: "The database cannot be reached; try again shortly.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": ERRORS[code], **_json("RefusedRows" if code == 422 else "ErrorAnswer")}
            for code in codes}


TOOL_BODIES = ("application/zip", "application/octet-stream", "application/gzip", "application/x-ndjson",
               "application/jsonl")
IMPORT_OPTIONS = (("pass", "Per-sample files: the column that says pass (true/false, 1/0, PASS/FAIL)"),
                  ("score", "Per-sample files: a score column, passed at `threshold`"),
                  ("threshold", "Per-sample files: the score that passes"),
                  ("latency", "Per-sample files: a latency column"))


def _param(name: str, required: bool, description: str, max_length: int = MAX_PARAM) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string", "minLength": 1 if required else 0, "maxLength": max_length}}


def document(public_url: str) -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(GateAnswer, "serialization"), (EvidenceStored, "serialization"), (EvidenceImported, "serialization"),
         (ErrorAnswer, "serialization"),
         (RefusedRows, "serialization"), (EvidenceUpload, "validation")], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Readiness API", "version": "1",
                 "description": "The release gate and the evidence pushes of Readiness, for pipelines. Every "
                                "call needs a workspace token (`readiness token create`)."},
        "servers": [{"url": public_url.rstrip("/")}],
        "security": [{"workspaceToken": []}],
        "paths": {
            gate.GATE_PATH: {"get": {
                "operationId": "gate", "summary": "May this version widen? The verdict, sign-off and reasons.",
                "parameters": [_param("system", True, f"The system reviewed (at most {MAX_SYSTEM} characters)"),
                               _param("version", True, f"The candidate version (at most {MAX_VERSION} characters)"),
                               _param("allow", False, "Comma-separated verdicts that pass (default: go)")],
                "responses": {"200": {"description": "The gate's answer; `passed` says whether it may widen.",
                                      **_json("GateAnswer")}, **_errors(400, 401, 500, 503)},
            }},
            evidence.EVIDENCE_PATH: {"post": {
                "operationId": "pushEvidence", "summary": "Store an evidence set from the eval pipeline (all rows "
                                                          "or none).",
                "parameters": [_param("system", False, "When given, must match every row (needed for a tool's file)"),
                               _param("version", False, "When given, must match every row (needed for a tool's file)"),
                               {"name": "format", "in": "query", "required": False,
                                "description": "An eval tool's own file, counted into rows (recognised from the "
                                               "content when left out for ZIP and JSON Lines bodies)",
                                "schema": {"type": "string", "enum": list(TOOLS)}},
                               {"name": "cohort", "in": "query", "required": False, "style": "form", "explode": True,
                                "description": "The metadata key (a dot path) holding the cohort; repeat it for "
                                               "several labels",
                                "schema": {"type": "array", "items": {"type": "string", "maxLength": MAX_PARAM}}},
                               *(_param(name, False, text) for name, text in IMPORT_OPTIONS)],
                "requestBody": {"required": True, "description": f"At most {evidence.MAX_BODY} bytes.", "content": {
                    "application/json": {"schema": _ref("EvidenceUpload")},
                    "text/csv": {"schema": {"type": "string", "description": "cohort,metric,value,n[,count,source,"
                                                                             "system,version,unit,direction,kind]"}},
                    **{kind: {"schema": {"type": "string", "format": "binary"}} for kind in TOOL_BODIES},
                }},
                "responses": {"201": {"description": "Stored (an eval tool's file: with `import`, what was read).",
                                      "content": {"application/json": {"schema": {"oneOf": [
                                          _ref("EvidenceStored"), _ref("EvidenceImported")]}}}},
                              "200": {"description": "The same set was stored before (`duplicate`).",
                                      "content": {"application/json": {"schema": {"oneOf": [
                                          _ref("EvidenceStored"), _ref("EvidenceImported")]}}}},
                              **_errors(400, 401, 413, 415, 422, 500, 503)},
            }},
        },
        "components": {"schemas": schemas["$defs"], "securitySchemes": {
            "workspaceToken": {"type": "http", "scheme": "bearer", "description": "A workspace token, rdy_…"}}},
    }


def openapi(site: Site, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    return json_response(start_response, 200, document(site.settings.public_url))


def routes() -> list[Route]:
    return [Route("GET", OPENAPI_PATH, openapi)]
