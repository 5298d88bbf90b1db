"""The JSON the HTTP API answers (and the evidence it takes), as pydantic models.

The gate and evidence endpoints serialise their answers through these models, and ``bot.web.openapi``
generates the published OpenAPI description from the same models, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.core.limits import MAX_SYSTEM, MAX_VERSION


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorAnswer(BaseModel):
    """Every refusal and failure: a readable ``error``; a 500 also carries the ``error_id`` found in the log."""

    model_config = ConfigDict(extra="allow")

    error: str
    error_id: str | None = Field(default=None, description="Only on 500: the id under which the error was logged.")


class RowProblem(ApiModel):
    row: int = Field(description="1-based data row; 0 for the file as a whole.")
    field: str
    reason: str
    line: int | None = Field(default=None, description="The CSV line, for CSV bodies.")


class RefusedRows(ApiModel):
    """422: the evidence was refused whole; every problem is listed, and nothing was stored."""

    error: str
    problems: list[RowProblem]


class GateAnswer(ApiModel):
    """GET /api/v1/gate: whether the latest review of a system's version may widen, and why (not)."""

    passed: bool
    system: str
    version: str
    reasons: list[str]
    assessment_id: int | None
    verdict: str | None = Field(description="go, narrow, hold, no-go or incomplete")
    score: int | None
    max_score: int | None
    band: str | None
    blockers: list[str]
    waivers: list[dict[str, Any]] = Field(description="Live waivers: item, by whom, until when, why.")
    approvals: list[dict[str, Any]] = Field(description="Sign-off decisions per role.")
    signoff: str | None = Field(description="The sign-off outcome so far.")
    packet_link: str | None = Field(description="A fresh signed link to the latest rollout packet.")
    cohort: dict[str, Any] | None = Field(description="The cohort scorecard of the version's evidence, if any.")


class EvidenceStored(ApiModel):
    """POST /api/v1/evidence: 201 stored, or 200 with ``duplicate`` when the same set was stored before."""

    evidence_id: int
    system: str
    version: str
    content_hash: str
    rows: int
    duplicate: bool
    current: bool
    assessment_id: int | None
    suggestions: int
    breaches: int
    watch_skipped: list[dict[str, Any]]
    scorecard: dict[str, Any] | None
    notes: list[str]


class ImportSummary(ApiModel):
    """What an eval tool's file held, as counted."""

    format: str
    tool: str | None
    tool_version: str | None
    samples: int
    without_cohort: int
    notes: list[str]


class EvidenceImported(EvidenceStored):
    """POST /api/v1/evidence with an eval tool's file: stored as a pushed set is, and what was read."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    imported: ImportSummary = Field(alias="import", serialization_alias="import")


class EvidenceUploadRow(BaseModel):
    cohort: str | dict[str, str] = Field(description="A cohort name, or an object of labels.")
    metric: str = Field(max_length=200)
    value: float
    n: int = Field(ge=0, le=1_000_000_000, description="The sample size.")
    count: int | None = Field(default=None, ge=0, le=1_000_000_000, description="The successes behind a rate.")
    source: str | None = None
    system: str | None = None
    version: str | None = None


class MetricDeclaration(BaseModel):
    unit: str
    direction: str = Field(description="higher or lower is better")
    kind: str | None = None


class EvidenceUpload(BaseModel):
    """A JSON evidence body (a bare list of rows is taken too). CSV bodies have the same columns."""

    system: str | None = Field(default=None, max_length=MAX_SYSTEM)
    version: str | None = Field(default=None, max_length=MAX_VERSION)
    metrics: dict[str, MetricDeclaration] | None = None
    rows: list[EvidenceUploadRow]


def answer(model: type[ApiModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as the model publishes it (a field the model does not know is an error, not a leak)."""
    return model.model_validate(data).model_dump(mode="json", by_alias=True)
