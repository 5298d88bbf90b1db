"""Names and values: the metric registry, metric declarations, cohort keys, number checks.

Pure core (standard library and pydantic). Every known metric has a unit, a kind and a good
direction. This registry is the single place that decides
which way a known metric should move. ``escalation_rate`` counts as lower-is-better here:
an assistant that hands off more often than before is treated as getting worse. A team
that measures escalation only on should-escalate cases (where more is better) should
report that as its own declared metric, or change the entry below.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.core.documents import shown, text_problem


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Kind(StrEnum):
    RATE = "rate"  # a share in [0, 1], with a count behind it
    LATENCY = "latency"  # a percentile in a time unit, no count
    VALUE = "value"  # any other number


class MetricSpec(BaseModel):
    """What a metric measures and which way is better."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str = Field(min_length=1, max_length=20)
    direction: Direction
    kind: Kind = Kind.VALUE

    def worse(self, before: float, after: float) -> float:
        """How much worse ``after`` is than ``before`` (negative when it improved)."""
        return before - after if self.direction is Direction.HIGHER else after - before


NAME = re.compile(r"^[a-z][a-z0-9_]{0,60}$")
CLASSED_NAME = re.compile(r"^([a-z][a-z0-9_]{0,60}):([a-z0-9][a-z0-9_-]{0,40})$")

_RATES_UP = (
    "task_success_rate",
    "groundedness",
    "retrieval_recall_proxy",
    "citation_validity",
    "tool_success_rate",
    "workflow_completion_rate",
)
_RATES_DOWN = (
    "escalation_rate",
    "reask_rate",
    "major_failure_rate",
    "unsupported_claim_rate",
    "retry_rate",
    "error_rate",  # samples whose provider, solver or tool call errored (as the eval tools record them)
)
PERCENTILES = ("p50", "p95", "p99")
STAGES = ("end_to_end", "model", "retrieval", "rerank", "tool")
#: Metrics that may carry a class suffix, as in ``major_failure_rate:wrong_action``.
CLASSED = frozenset({"major_failure_rate"})
MAX_TEXT = 200
MAX_WHOLE = 1_000_000_000  # sample sizes and counts: stored as 32-bit integers


def _registry() -> dict[str, MetricSpec]:
    known = {
        name: MetricSpec(unit="fraction", direction=Direction.HIGHER, kind=Kind.RATE) for name in _RATES_UP
    }
    known |= {
        name: MetricSpec(unit="fraction", direction=Direction.LOWER, kind=Kind.RATE) for name in _RATES_DOWN
    }
    latency = MetricSpec(unit="ms", direction=Direction.LOWER, kind=Kind.LATENCY)
    known |= {f"latency_{p}_{stage}": latency for p in PERCENTILES for stage in STAGES}
    return known


KNOWN_METRICS: Mapping[str, MetricSpec] = _registry()


def base_metric(name: str) -> str:
    """The metric without its class: ``major_failure_rate:timeout`` -> ``major_failure_rate``."""
    return name.split(":", 1)[0]


def valid_name(name: str) -> bool:
    return bool(NAME.match(name) or CLASSED_NAME.match(name))


def lookup(name: str, declared: Mapping[str, MetricSpec] | None = None) -> MetricSpec | None:
    """The spec of a metric: the registry first, then the declarations; None when unknown.

    A class suffix is allowed only on the metrics in :data:`CLASSED`.
    """
    declared = declared or {}
    base = base_metric(name)
    if name != base and base not in CLASSED:
        return None
    return KNOWN_METRICS.get(base) or declared.get(base)


def declaration_problem(name: str, spec: MetricSpec) -> str | None:
    """Why a declaration of ``name`` cannot be accepted, or None."""
    if not NAME.match(name):
        return "a metric name is lower-case letters, digits and underscores"
    known = KNOWN_METRICS.get(name)
    if known is not None and known != spec:
        return (
            f"{name} is a known metric ({known.kind.value}, {known.unit}, {known.direction.value} is better); "
            "it cannot be declared differently"
        )
    return None


def canonical_cohort(raw: Any) -> str:
    """``tenant=acme, workflow=refund`` (or a mapping of labels) -> ``tenant=acme,workflow=refund``.

    A plain name stays as it is (trimmed). Raises ValueError with the reason.
    """
    if isinstance(raw, Mapping):
        pairs = [(_label(k), _label(v)) for k, v in raw.items()]
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ValueError("must not be empty")
        if "=" not in text:
            if "," in text or "\n" in text or len(text) > MAX_TEXT:
                raise ValueError("a plain cohort name has no commas or newlines and at most 200 characters")
            if text_problem(text):
                raise ValueError(f"the cohort name {text_problem(text)}")
            return text
        pairs = [_pair(part) for part in text.split(",")]
    else:
        raise ValueError(f"expected text or a mapping of labels, got {type(raw).__name__}")
    if not pairs:
        raise ValueError("has no labels")
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("repeats a label")
    return ",".join(f"{k}={v}" for k, v in sorted(pairs))


def _pair(part: str) -> tuple[str, str]:
    key, sep, value = part.partition("=")
    if not sep:
        raise ValueError(f"{part.strip()!r} is not label=value")
    return _label(key), _label(value)


def _label(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("labels are text")
    text = str(raw).strip()
    if not text or any(c in text for c in ",=\n") or len(text) > MAX_TEXT or text_problem(text):
        raise ValueError(f"label {shown(text)!r} must be non-empty, printable, without ',', '=' or newlines")
    return text


def number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"{shown(raw)} is not a number")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (ValueError, OverflowError):
        raise ValueError(f"{shown(raw)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{shown(raw)} is not a finite number")
    return value


def whole(raw: Any) -> int:
    value = number(raw)
    if value != int(value):
        raise ValueError(f"{shown(raw)} is not a whole number")
    if abs(value) > MAX_WHOLE:
        raise ValueError(f"at most {MAX_WHOLE:,} (a sample size or a count)")
    return int(value)


def text_value(raw: Any, limit: int = MAX_TEXT) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    text = str(raw).strip()
    if not text or len(text) > limit or "\n" in text:
        raise ValueError(f"must be one line of 1 to {limit} characters")
    problem = text_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def declare(name: str, unit: Any, direction: Any, kind: Any) -> MetricSpec:
    """A metric declaration from a file; known metrics may repeat their registry entry."""
    known = KNOWN_METRICS.get(name)
    try:
        spec = MetricSpec(
            unit=text_value(unit, 20) if unit is not None else (known.unit if known else ""),
            direction=Direction(direction if direction is not None else (known.direction if known else "")),
            kind=Kind(kind if kind is not None else (known.kind if known else Kind.VALUE)),
        )
    except ValueError as exc:
        missing = [f for f, v in (("unit", unit), ("direction", direction)) if v is None and known is None]
        if missing:
            raise ValueError(f"declare {' and '.join(missing)} for metric {name}") from None
        raise ValueError(
            f"bad declaration for {name}: unit is text, direction higher or lower, "
            f"kind rate, latency or value ({str(exc).splitlines()[0]})"
        ) from None
    problem = declaration_problem(name, spec)
    if problem:
        raise ValueError(problem)
    return spec
