"""Evidence from the eval pipeline: evidence sets, the release policy, judging and pictures.

Pure core: standard library, pydantic and PyYAML only.
"""

from __future__ import annotations

from bot.core.evidence.evidence_set import (
    EvidenceError,
    EvidenceRow,
    EvidenceSet,
    RowProblem,
    canonical_cohort,
    evidence_from_data,
    load_evidence,
    parse_evidence,
)
from bot.core.evidence.judge import Cell, CellKey, Check, CohortScorecard, JudgeError, Outcome, judge
from bot.core.evidence.metrics import KNOWN_METRICS, Direction, Kind, MetricSpec, base_metric, lookup
from bot.core.evidence.picture import grid_svg
from bot.core.evidence.policy import PolicyError, Regression, ReleasePolicy, Rule, load_policy, parse_policy
from bot.core.evidence.suggest import Breach, Suggestion, WatchRule, contradictions, suggest, watch_breaches

__all__ = [
    "KNOWN_METRICS",
    "Breach",
    "Cell",
    "CellKey",
    "Check",
    "CohortScorecard",
    "Direction",
    "EvidenceError",
    "EvidenceRow",
    "EvidenceSet",
    "JudgeError",
    "Kind",
    "MetricSpec",
    "Outcome",
    "PolicyError",
    "Regression",
    "ReleasePolicy",
    "RowProblem",
    "Rule",
    "Suggestion",
    "WatchRule",
    "base_metric",
    "canonical_cohort",
    "contradictions",
    "evidence_from_data",
    "grid_svg",
    "judge",
    "load_evidence",
    "load_policy",
    "lookup",
    "parse_evidence",
    "parse_policy",
    "suggest",
    "watch_breaches",
]
