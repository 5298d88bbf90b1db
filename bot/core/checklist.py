"""The checklist definition: a YAML file validated by pydantic.

Pure core: standard library, pydantic and PyYAML only.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.core import documents
from bot.core.canonical import content_hash, describe

DEFAULT_CHECKLIST = "enterprise-ai-rollout.yaml"


class Mark(StrEnum):
    NO = "no"
    PARTIAL = "partial"
    YES = "yes"


class Verdict(StrEnum):
    GO = "go"
    NARROW = "narrow"
    HOLD = "hold"
    NO_GO = "no-go"
    INCOMPLETE = "incomplete"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarkText(_Strict):
    label: str = Field(min_length=1)
    meaning: str = Field(min_length=1)
    action: str = Field(min_length=1)


class Band(_Strict):
    label: str = Field(min_length=1)
    min: int = Field(ge=0)
    max: int | None = None
    verdict: Verdict
    action: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"band {self.label!r}: max {self.max} is below min {self.min}")
        if self.verdict is Verdict.INCOMPLETE:
            raise ValueError(f"band {self.label!r}: 'incomplete' is not a band verdict")
        return self

    def contains(self, score: int) -> bool:
        return score >= self.min and (self.max is None or score <= self.max)


class Flag(_Strict):
    description: str = Field(min_length=1)
    blocks_on: tuple[Mark, ...] = ()
    scores: bool = True


class Scoring(_Strict):
    points: dict[Mark, int]
    bands: tuple[Band, ...] = Field(min_length=1)
    flags: dict[str, Flag]
    categories: dict[str, str] = Field(default_factory=dict)

    @field_validator("points")
    @classmethod
    def _all_marks(cls, points: dict[Mark, int]) -> dict[Mark, int]:
        missing = [m.value for m in Mark if m not in points]
        if missing:
            raise ValueError(f"points missing for mark(s): {', '.join(missing)}")
        if any(p < 0 for p in points.values()):
            raise ValueError("points must not be negative")
        if not points[Mark.NO] <= points[Mark.PARTIAL] <= points[Mark.YES]:
            raise ValueError("points must not fall from no to partial to yes")
        return points


class Item(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    title: str = Field(min_length=1, max_length=80)
    question: str = Field(min_length=1, max_length=400)
    evidence: str = Field(min_length=1, max_length=600)
    flags: tuple[str, ...] = ()
    category: str | None = None
    metrics: tuple[str, ...] = ()


class Section(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    title: str = Field(min_length=1, max_length=80)
    summary: str = ""
    proof: str = ""
    items: tuple[Item, ...] = Field(min_length=1)


class Checklist(_Strict):
    """A validated checklist. Build it with :func:`parse_checklist` or :func:`load_checklist`."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,60}$")
    version: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1)
    description: str = ""
    marks: dict[Mark, MarkText]
    scoring: Scoring
    sections: tuple[Section, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Checklist:
        missing_marks = [m.value for m in Mark if m not in self.marks]
        if missing_marks:
            raise ValueError(f"marks: no text for {', '.join(missing_marks)}")
        seen: set[str] = set()
        section_ids: set[str] = set()
        for section in self.sections:
            if section.id in section_ids:
                raise ValueError(f"duplicate section id {section.id!r}")
            section_ids.add(section.id)
            for item in section.items:
                if item.id in seen:
                    raise ValueError(f"duplicate item id {item.id!r}")
                seen.add(item.id)
                unknown = [f for f in item.flags if f not in self.scoring.flags]
                if unknown:
                    raise ValueError(f"item {item.id}: unknown flag(s) {', '.join(unknown)}")
                if item.category is not None and item.category not in self.scoring.categories:
                    raise ValueError(f"item {item.id}: unknown category {item.category!r}")
        self._check_bands()
        return self

    def _check_bands(self) -> None:
        bands = self.scoring.bands
        if bands[0].min != 0:
            raise ValueError("scoring.bands: the first band must start at 0")
        for before, after in zip(bands, bands[1:], strict=False):
            if before.max is None:
                raise ValueError(f"scoring.bands: band {before.label!r} is open-ended but is not the last")
            if after.min != before.max + 1:
                raise ValueError(
                    f"scoring.bands: {before.label!r} ends at {before.max} but {after.label!r} "
                    f"starts at {after.min}; bands must be contiguous"
                )
        last = bands[-1]
        if last.max is not None and last.max < self.max_score:
            raise ValueError(
                f"scoring.bands: the last band ends at {last.max}, below the maximum score {self.max_score}"
            )

    # Derived views -------------------------------------------------------

    @cached_property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        return self.items_by_id[item_id]

    def scores(self, item: Item) -> bool:
        return all(self.scoring.flags[f].scores for f in item.flags)

    def points_for(self, item: Item, mark: Mark) -> int:
        return self.scoring.points[mark] if self.scores(item) else 0

    def blocks_on(self, item: Item) -> frozenset[Mark]:
        return frozenset(m for f in item.flags for m in self.scoring.flags[f].blocks_on)

    @cached_property
    def max_score(self) -> int:
        top = max(self.scoring.points.values())
        return sum(top for item in self.items if self.scores(item))

    def band_for(self, score: int) -> Band:
        for band in self.scoring.bands:
            if band.contains(score):
                return band
        return self.scoring.bands[-1]

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the validated checklist (whitespace and key order do not count)."""
        return content_hash(self.model_dump(mode="json"))


class ChecklistError(ValueError):
    """A checklist file that cannot be used, with a one-line reason naming the file and the field."""


def parse_checklist(data: Any, source: str = "<checklist>") -> Checklist:
    if not isinstance(data, dict):
        raise ChecklistError(f"{source}: expected a mapping at the top level")
    try:
        return Checklist.model_validate(data)
    except ValidationError as exc:
        raise ChecklistError(f"{source}: {describe(exc)}") from None


def load_checklist(path: str | Path | None = None) -> Checklist:
    """Load a checklist file; without a path, the checklist shipped with the product."""
    if path is None:
        text = resources.files("bot.checklists").joinpath(DEFAULT_CHECKLIST).read_text(encoding="utf-8")
        source = DEFAULT_CHECKLIST
    else:
        source = str(path)
        try:
            text = documents.read_text(path, source, documents.MAX_YAML_BYTES)
        except documents.FileProblem as exc:
            raise ChecklistError(str(exc)) from None
    return checklist_from_text(text, source)


def checklist_from_text(text: str, source: str = "<checklist>") -> Checklist:
    try:
        data = documents.parse(text, source)
    except documents.FileProblem as exc:
        raise ChecklistError(str(exc)) from None
    return parse_checklist(data, source)


def checklist_json_schema() -> dict[str, Any]:
    return Checklist.model_json_schema()
