"""The release policy: which metrics gate a release, per cohort, and how strictly.

Pure core. A YAML file validated by pydantic and versioned like the checklist. Which rule
applies to a cell: a rule for the exact metric beats a rule for its base metric (a rule on
``major_failure_rate`` covers ``major_failure_rate:<class>``), and a rule naming the cohort
beats an ``all`` rule. Two rules that would tie are refused.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.core import documents
from bot.core.canonical import content_hash, describe
from bot.core.documents import shown
from bot.core.evidence.metrics import (
    Kind,
    MetricSpec,
    base_metric,
    canonical_cohort,
    declaration_problem,
    lookup,
    valid_name,
)

SAMPLE_POLICY = "policy.yaml"
DEFAULT_CONFIDENCE = 0.95
DEFAULT_LATENCY_TOLERANCE = 0.10
DEFAULT_MIN_SAMPLE = 30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Regression(_Strict):
    """How much worse than the baseline a metric may get: ``absolute`` or ``relative`` to the baseline."""

    absolute: float | None = Field(default=None, ge=0)
    relative: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _one(self) -> Regression:
        if (self.absolute is None) == (self.relative is None):
            raise ValueError("give exactly one of absolute or relative")
        return self

    def allowed(self, baseline: float) -> float:
        """The allowed worsening, in the metric's own unit, from this baseline value."""
        if self.absolute is not None:
            return self.absolute
        assert self.relative is not None
        return self.relative * abs(baseline)

    def describe(self) -> str:
        return f"{self.absolute:g}" if self.absolute is not None else f"{self.relative:.0%} of the baseline"


class Rule(_Strict):
    metric: str
    floor: float | None = None
    ceiling: float | None = None
    max_regression: Regression | None = None
    cohorts: Literal["all"] | tuple[str, ...] = "all"
    min_sample: int | None = Field(default=None, ge=1)
    confidence: float | None = Field(default=None, gt=0.5, lt=1)
    note: str = ""

    @field_validator("metric")
    @classmethod
    def _name(cls, metric: str) -> str:
        if not valid_name(metric):
            raise ValueError(f"{shown(metric)!r} is not a metric name")
        return metric

    @field_validator("cohorts", mode="before")
    @classmethod
    def _cohorts(cls, cohorts: Any) -> Any:
        if cohorts == "all":
            return cohorts
        if not isinstance(cohorts, list | tuple) or not cohorts:
            raise ValueError("say all, or list the cohort names")
        names = tuple(canonical_cohort(c) for c in cohorts)
        if len(set(names)) != len(names):
            raise ValueError("a cohort is listed twice")
        return names

    @model_validator(mode="after")
    def _checks(self) -> Rule:
        if self.floor is None and self.ceiling is None and self.max_regression is None:
            raise ValueError(f"rule for {self.metric}: give a floor, a ceiling or max_regression")
        if self.floor is not None and self.ceiling is not None and self.floor > self.ceiling:
            raise ValueError(
                f"rule for {self.metric}: floor {self.floor:g} is above ceiling {self.ceiling:g}"
            )
        return self

    def covers(self, cohort: str) -> bool:
        return self.cohorts == "all" or cohort in self.cohorts


class ReleasePolicy(_Strict):
    """A validated release policy. Build it with :func:`parse_policy` or :func:`load_policy`."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,60}$")
    version: str = Field(min_length=1, max_length=40)
    title: str = ""
    description: str = ""
    system: str | None = Field(default=None, min_length=1)
    confidence: float = Field(default=DEFAULT_CONFIDENCE, gt=0.5, lt=1)
    latency_tolerance: float = Field(default=DEFAULT_LATENCY_TOLERANCE, ge=0, le=10)
    min_sample: int = Field(default=DEFAULT_MIN_SAMPLE, ge=1)
    metrics: dict[str, MetricSpec] = {}
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ReleasePolicy:
        for name, spec in self.metrics.items():
            problem = declaration_problem(name, spec)
            if problem:
                raise ValueError(f"metrics.{shown(name)}: {problem}")
        taken: dict[tuple[str, str], int] = {}
        for index, rule in enumerate(self.rules):
            self._check_rule(index, rule)
            for cohort in ("*",) if rule.cohorts == "all" else rule.cohorts:
                other = taken.setdefault((rule.metric, cohort), index)
                if other != index:
                    who = "all cohorts" if cohort == "*" else f"cohort {cohort}"
                    raise ValueError(f"rules.{index}: rule {other} already covers {rule.metric} for {who}")
        return self

    def _check_rule(self, index: int, rule: Rule) -> None:
        spec = self.spec(rule.metric)
        if spec is None:
            raise ValueError(
                f"rules.{index}.metric: unknown metric {shown(rule.metric)!r} (declare it under metrics:)"
            )
        if spec.kind is Kind.RATE:
            for name in ("floor", "ceiling"):
                value = getattr(rule, name)
                if value is not None and not 0 <= value <= 1:
                    raise ValueError(
                        f"rules.{index}.{name}: {rule.metric} is a rate; use a value from 0 to 1"
                    )

    def spec(self, metric: str) -> MetricSpec | None:
        return lookup(metric, self.metrics)

    def rule_for(self, cohort: str, metric: str) -> Rule | None:
        """The rule that judges this cell, or None (see the module text for the order)."""
        for name in dict.fromkeys((metric, base_metric(metric))):
            specific = [r for r in self.rules if r.metric == name and r.cohorts != "all" and r.covers(cohort)]
            general = [r for r in self.rules if r.metric == name and r.cohorts == "all"]
            if specific or general:
                return (specific or general)[0]
        return None

    def min_sample_for(self, rule: Rule) -> int:
        return rule.min_sample if rule.min_sample is not None else self.min_sample

    def confidence_for(self, rule: Rule) -> float:
        return rule.confidence if rule.confidence is not None else self.confidence

    @cached_property
    def named_cohorts(self) -> tuple[str, ...]:
        """Cohorts the rules name explicitly."""
        return tuple(sorted({c for r in self.rules if r.cohorts != "all" for c in r.cohorts}))

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the validated policy (layout and key order do not count)."""
        return content_hash(self.model_dump(mode="json"))


class PolicyError(ValueError):
    """A policy file that cannot be used; one line naming the file and the field."""


def policy_from_data(data: Any, source: str = "<policy>") -> ReleasePolicy:
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level")
    try:
        return ReleasePolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{source}: {describe(exc)}") from None


def parse_policy(text: str, source: str = "<policy>") -> ReleasePolicy:
    try:
        data = documents.parse(text, source)
    except documents.FileProblem as exc:
        raise PolicyError(str(exc)) from None
    return policy_from_data(data, source)


def load_policy(path: str | Path | None = None) -> ReleasePolicy:
    """Load a policy file; without a path, the sample shipped in ``bot/samples/policy.yaml``."""
    if path is None:
        text = resources.files("bot.samples").joinpath(SAMPLE_POLICY).read_text(encoding="utf-8")
        return parse_policy(text, SAMPLE_POLICY)
    source = str(path)
    try:
        text = documents.read_text(path, source, documents.MAX_YAML_BYTES)
    except documents.FileProblem as exc:
        raise PolicyError(str(exc)) from None
    return parse_policy(text, source)


def policy_json_schema() -> dict[str, Any]:
    return ReleasePolicy.model_json_schema()
