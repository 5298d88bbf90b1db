"""Scoring: marks in, scorecard out. Pure core (standard library and pydantic only)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from bot.core.checklist import Checklist, Mark, Verdict


class MarkEntry(BaseModel):
    """The current mark of one item, as the scorer needs it."""

    model_config = ConfigDict(frozen=True)

    mark: Mark
    evidence: str | None = None
    owner: str | None = None
    due: date | None = None
    note: str | None = None

    @property
    def is_gap(self) -> bool:
        return self.mark is not Mark.NO


class SectionScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    score: int
    max_score: int
    marked: int
    total: int


class Scorecard(BaseModel):
    model_config = ConfigDict(frozen=True)

    checklist_id: str
    checklist_version: str
    checklist_hash: str
    score: int
    max_score: int
    band: str
    band_action: str
    verdict: Verdict
    blockers: list[str] = Field(default_factory=list)
    waived_blockers: list[str] = Field(default_factory=list)
    unmarked: list[str] = Field(default_factory=list)
    unowned_gaps: list[str] = Field(default_factory=list)
    unevidenced: list[str] = Field(default_factory=list)
    marked: int
    total: int
    sections: list[SectionScore] = Field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """The machine-readable result promised by ``readiness score --json``."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "band": self.band,
            "verdict": self.verdict.value,
            "blockers": list(self.blockers),
            "unmarked": list(self.unmarked),
            "unowned_gaps": list(self.unowned_gaps),
            "unevidenced": list(self.unevidenced),
        }


def is_blocker(checklist: Checklist, item_id: str, mark: Mark | None) -> bool:
    if mark is None:
        return False
    return mark in checklist.blocks_on(checklist.item(item_id))


def score(
    checklist: Checklist,
    marks: Mapping[str, MarkEntry],
    waived: Collection[str] = (),
) -> Scorecard:
    """Score an assessment.

    Verdict order: any blocker -> no-go; a score (even provisional) in a no-go band -> no-go;
    any item unmarked -> incomplete; otherwise the band's verdict. A waived blocker does not count
    as a blocker while its waiver lasts (the caller passes only live waivers).
    """
    unknown = sorted(set(marks) - set(checklist.item_ids))
    if unknown:
        raise KeyError(f"unknown item id(s): {', '.join(unknown)}")

    total_score = 0
    blockers: list[str] = []
    waived_blockers: list[str] = []
    unmarked: list[str] = []
    unowned: list[str] = []
    unevidenced: list[str] = []
    sections: list[SectionScore] = []
    top = max(checklist.scoring.points.values())

    for section in checklist.sections:
        section_score = section_max = section_marked = 0
        for item in section.items:
            if checklist.scores(item):
                section_max += top
            entry = marks.get(item.id)
            if entry is None:
                unmarked.append(item.id)
                continue
            section_marked += 1
            section_score += checklist.points_for(item, entry.mark)
            if is_blocker(checklist, item.id, entry.mark):
                (waived_blockers if item.id in waived else blockers).append(item.id)
            if entry.is_gap and not (entry.owner and entry.owner.strip()):
                unowned.append(item.id)
            if entry.mark is Mark.NO and not (entry.evidence and entry.evidence.strip()):
                unevidenced.append(item.id)
        total_score += section_score
        sections.append(
            SectionScore(
                id=section.id,
                title=section.title,
                score=section_score,
                max_score=section_max,
                marked=section_marked,
                total=len(section.items),
            )
        )

    band = checklist.band_for(total_score)
    if blockers or band.verdict is Verdict.NO_GO:
        verdict = Verdict.NO_GO
    elif unmarked:
        verdict = Verdict.INCOMPLETE
    else:
        verdict = band.verdict

    return Scorecard(
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        checklist_hash=checklist.content_hash,
        score=total_score,
        max_score=checklist.max_score,
        band=band.label,
        band_action=band.action,
        verdict=verdict,
        blockers=blockers,
        waived_blockers=waived_blockers,
        unmarked=unmarked,
        unowned_gaps=unowned,
        unevidenced=unevidenced,
        marked=len(checklist.items) - len(unmarked),
        total=len(checklist.items),
        sections=sections,
    )
