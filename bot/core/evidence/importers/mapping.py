"""What an import reads from a file: the cohort keys, the pass or score that decides success, the error and
latency fields, and how each score becomes a metric. Given on the command line, in a small YAML (or JSON)
mapping file, or both (the command line wins). Pure core.

```yaml
cohort: [tenant]                        # dot paths; several make a cohort of several labels
success: {score: correct, threshold: 1} # or {pass: passed} for a true/false column (per-sample files)
error: error                            # per-sample files: a non-empty, non-false value means it errored
latency: {field: latency_ms, unit: ms}  # per-sample files: ms or s
filter: strict-match                    # lm-eval: the filter whose lines are counted
metrics:                                # scores and scorers -> metrics (others keep their own names)
  faithfulness: {metric: groundedness, threshold: 0.8}
  concise: {metric: concise_rate, direction: higher}
  abs_error_credit: {kind: value, unit: points, optional: true}  # not every file has it
  verbose_debug: false                  # left out
```

An entry of ``metrics`` names a score the file must have: a score that no sample carries (a typo, or the
wrong file) refuses the import with one line naming every such entry, so a metric is never lost in silence;
``optional: true`` allows it to be absent. An entry that leaves a score out (``false``) is not checked: leaving
out an absent score loses nothing. The score that decides success (``success.score``, ``--score``) must be
carried by the samples too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core import documents
from bot.core.canonical import describe
from bot.core.evidence.importers.counting import ERRORS, SUCCESS, ScoreRule, metric_name
from bot.core.evidence.importers.reading import ImportProblem, shown
from bot.core.evidence.metrics import Kind, lookup, valid_name

MAX_KEYS = 5
MAX_SHOWN = 12  # names a message lists
MAX_MAP_BYTES = 256 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SuccessMap(_Strict):
    score: str | None = Field(default=None, min_length=1, max_length=200)
    pass_: str | None = Field(default=None, alias="pass", min_length=1, max_length=200)
    threshold: float | None = None


class LatencyMap(_Strict):
    field: str = Field(min_length=1, max_length=200)
    unit: Literal["ms", "s"] = "ms"


class ScoreMap(_Strict):
    metric: str | None = None
    threshold: float | None = None
    kind: Literal["rate", "value"] | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    direction: Literal["higher", "lower"] | None = None
    optional: bool = False

    @field_validator("metric")
    @classmethod
    def _name(cls, name: str | None) -> str | None:
        if name is not None and not valid_name(name):
            raise ValueError(f"{name!r} is not a metric name (lower-case letters, digits and underscores)")
        return name


class MappingFile(_Strict):
    cohort: list[str] | str | None = None
    success: SuccessMap | None = None
    error: str | None = Field(default=None, min_length=1, max_length=200)
    latency: LatencyMap | None = None
    filter: str | None = Field(default=None, min_length=1, max_length=200)
    metrics: dict[str, ScoreMap | Literal[False]] = {}


@dataclass
class Options:
    """Everything an importer needs besides the file. ``rules`` maps a score to its metric (None: left out);
    a score not named keeps its own name."""

    cohort: tuple[str, ...] = ()
    success_score: str | None = None
    pass_field: str | None = None
    threshold: float | None = None
    error_field: str | None = None
    latency_field: str | None = None
    latency_unit: Literal["ms", "s"] = "ms"
    lm_filter: str | None = None
    rules: dict[str, ScoreRule | None] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()  # rules whose score may be absent from the file
    origin: str = "--map"  # where the rules come from, as a message names it

    def rule_for(self, score: str) -> ScoreRule | None:
        if score in self.rules:
            return self.rules[score]
        return ScoreRule(metric=_own_name(score))

    def success_threshold(self) -> float:
        return 1.0 if self.threshold is None else self.threshold

    def check_scores(self, seen: Iterable[str], source: str, listed: Iterable[str] | None = None,
                     what: str = "scores") -> None:
        """Refuse (ImportProblem, one line) a rule for a score no sample carries, unless it is optional: a typo
        in the mapping would otherwise drop a metric without a word. ``seen``: the scores the file's samples
        carry; ``listed``: the names the message shows as the file's (``seen`` unless given: a per-sample file
        shows its columns)."""
        carried = list(dict.fromkeys(seen))
        have = carried if listed is None else list(dict.fromkeys(listed))
        unknown = [name for name, rule in self.rules.items()
                   if rule is not None and name not in carried and name not in self.optional]
        if unknown:
            raise ImportProblem(f"{source}: {self.origin} maps score(s) that no sample has: "
                                f"{', '.join(shown(n, 60) for n in unknown[:MAX_SHOWN])}"
                                f"{' …' if len(unknown) > MAX_SHOWN else ''} (the file's {what}: {_listed(have)}); "
                                "correct the name, or mark the entry optional: true")

    def check_success_score(self, seen: Iterable[str], source: str) -> None:
        """Refuse a named success score (``success.score``, ``--score``) that no sample carries."""
        have = list(dict.fromkeys(seen))
        if self.success_score is not None and self.success_score not in have:
            raise ImportProblem(f"{source}: no sample has the score {shown(self.success_score, 60)} that decides "
                                f"success (the file's scores: {_listed(have)})")


def _listed(names: list[str]) -> str:
    shown_names = ", ".join(shown(n, 40) for n in names[:MAX_SHOWN])
    return (shown_names + (" …" if len(names) > MAX_SHOWN else "")) or "none"


def _own_name(score: str) -> str:
    name = metric_name(score)
    return f"{name}_score" if name in (SUCCESS, ERRORS) or name.startswith("latency_") else name


def _keys(raw: list[str] | str | None) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in ([raw] if isinstance(raw, str) else raw or ()))
    if any(not k or len(k) > 200 for k in keys):
        raise ValueError("a cohort key is a dot path of 1 to 200 characters")
    if len(keys) > MAX_KEYS or len(set(keys)) != len(keys):
        raise ValueError(f"name at most {MAX_KEYS} different cohort keys")
    return keys


def _rule(score: str, entry: ScoreMap) -> ScoreRule:
    metric = entry.metric or _own_name(score)
    known = lookup(metric)
    if metric in (SUCCESS, ERRORS):
        raise ValueError(f"{metric} is counted by the importer itself; map the score that decides success "
                         "with success: instead")
    if known is not None and known.kind is Kind.LATENCY:
        raise ValueError(f"{metric} is a latency; a score cannot become one")
    if known is not None and (entry.unit or entry.direction or entry.kind):
        raise ValueError(f"{metric} is a known metric: its unit, direction and kind are fixed")
    return ScoreRule(metric=metric, threshold=entry.threshold, kind=Kind(entry.kind) if entry.kind else None,
                     unit=entry.unit, direction=entry.direction)


def options_from(mapping: MappingFile | None = None, *, cohort: list[str] | None = None, pass_field: str | None = None,
                 score: str | None = None, threshold: float | None = None, latency: str | None = None,
                 source: str = "--map") -> Options:
    """The mapping file's options with the command line's on top. Raises ImportProblem."""
    mapping = mapping or MappingFile()
    success = mapping.success or SuccessMap()
    try:
        keys = _keys(cohort if cohort else mapping.cohort)
        rules = {name: None if entry is False else _rule(name, entry) for name, entry in mapping.metrics.items()}
        optional = frozenset(name for name, entry in mapping.metrics.items() if entry is not False and entry.optional)
    except ValueError as exc:
        raise ImportProblem(f"{source}: {exc}") from None
    chosen = Options(cohort=keys, success_score=score or success.score, pass_field=pass_field or success.pass_,
                     threshold=threshold if threshold is not None else success.threshold,
                     error_field=mapping.error, lm_filter=mapping.filter, rules=rules, optional=optional,
                     origin=source)
    if latency:
        chosen.latency_field = latency
    elif mapping.latency is not None:
        chosen.latency_field, chosen.latency_unit = mapping.latency.field, mapping.latency.unit
    if chosen.pass_field and chosen.success_score:
        raise ImportProblem(f"{source}: success is decided by a pass field or by a score, not both")
    return chosen


def load_mapping(text: str, source: str) -> MappingFile:
    """A mapping file's text (YAML or JSON) to its model. Raises ImportProblem, one line."""
    if len(text.encode()) > MAX_MAP_BYTES:
        raise ImportProblem(f"{source}: larger than {MAX_MAP_BYTES // 1024} KB; a mapping is a few lines")
    try:
        data = documents.parse(text, source)
    except documents.FileProblem as exc:
        raise ImportProblem(str(exc)) from None
    except RecursionError:
        raise ImportProblem(f"{source}: nested too deeply") from None
    if not isinstance(data, dict):
        raise ImportProblem(f"{source}: expected a mapping of cohort, success, error, latency, filter, metrics")
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        raise ImportProblem(f"{source}: {shown(describe(exc), 200)}") from None


def describe_keys(keys: tuple[str, ...]) -> str:
    return " and ".join(keys) if keys else "a cohort key"

