"""Pure builders for the packet: the versioned scorecard, item statuses and the gate policy.

Marks run from No (risk under control, 0 points) to Yes (a real gap), so a lower score is better.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

from bot.core.checklist import Checklist, Item, Mark
from bot.core.packet.model import (
    BandRule,
    CategoryRule,
    ChecklistDiff,
    FieldChange,
    FlagRule,
    GatePolicy,
    ItemComparison,
    ItemDefinitionChange,
    ItemRef,
    ItemRow,
    ItemState,
    MarkMeaning,
    PersonRef,
    SectionComparison,
    Trend,
    VersionedScorecard,
    Waiver,
    person,
)
from bot.core.scoring import MarkEntry, SectionScore, score
from bot.core.words import MARK

_RANK = {Mark.NO: 0, Mark.PARTIAL: 1, Mark.YES: 2}


def _trend(before: int, after: int) -> Trend:
    if after < before:
        return Trend.BETTER
    return Trend.WORSE if after > before else Trend.SAME


def _item_trend(before: Mark | None, after: Mark | None) -> Trend:
    if before is None and after is None:
        return Trend.SAME
    if before is None:
        return Trend.MARKED
    if after is None:
        return Trend.UNMARKED
    return _trend(_RANK[before], _RANK[after])


def _section_of(checklist: Checklist) -> dict[str, str]:
    return {item.id: section.id for section in checklist.sections for item in section.items}


def _item_changes(base: Checklist, cand: Checklist, before: Item, after: Item) -> tuple[FieldChange, ...]:
    changes: list[FieldChange] = []
    if before.title != after.title:
        changes.append(FieldChange(field="title", before=before.title, after=after.title))
    if sorted(before.flags) != sorted(after.flags):
        changes.append(
            FieldChange(
                field="flags",
                before=", ".join(sorted(before.flags)) or "none",
                after=", ".join(sorted(after.flags)) or "none",
            )
        )
    if before.category != after.category:
        changes.append(
            FieldChange(field="category", before=before.category or "none", after=after.category or "none")
        )
    section_before, section_after = _section_of(base)[before.id], _section_of(cand)[after.id]
    if section_before != section_after:
        changes.append(FieldChange(field="section", before=section_before, after=section_after))
    return tuple(changes)


def checklist_diff(baseline: Checklist, candidate: Checklist) -> ChecklistDiff:
    """Items added, removed and changed (title, flags, category, section), matched by id."""
    base_ids, cand_ids = set(baseline.item_ids), set(candidate.item_ids)
    changed = []
    for item in candidate.items:
        if item.id in base_ids:
            changes = _item_changes(baseline, candidate, baseline.item(item.id), item)
            if changes:
                changed.append(ItemDefinitionChange(id=item.id, title=item.title, changes=changes))
    return ChecklistDiff(
        baseline_version=baseline.version,
        candidate_version=candidate.version,
        same_content=baseline.content_hash == candidate.content_hash,
        added=tuple(ItemRef(id=i.id, title=i.title) for i in candidate.items if i.id not in base_ids),
        removed=tuple(ItemRef(id=i.id, title=i.title) for i in baseline.items if i.id not in cand_ids),
        changed=tuple(changed),
    )


def compare(
    candidate_checklist: Checklist,
    candidate_marks: Mapping[str, MarkEntry],
    baseline_checklist: Checklist | None,
    baseline_marks: Mapping[str, MarkEntry] | None,
    *,
    waived: Collection[str] = (),
    baseline_waived: Collection[str] = (),
) -> VersionedScorecard:
    """Score the candidate and its baseline and say what got better or worse.

    There is a baseline when ``baseline_marks`` is not None; without ``baseline_checklist`` it is
    scored against the candidate's checklist. ``waived`` and ``baseline_waived`` hold the item ids
    under a live waiver for each side. Raises KeyError for marks on items their checklist lacks.
    """
    card = score(candidate_checklist, candidate_marks, waived)
    if baseline_marks is None:
        sections = tuple(
            SectionComparison(
                id=s.id, title=s.title, candidate=s.score, candidate_max=s.max_score, trend=Trend.NEW
            )
            for s in card.sections
        )
        items = tuple(
            ItemComparison(
                id=item.id,
                title=item.title,
                section_id=section.id,
                candidate=_mark(candidate_marks, item.id),
                trend=Trend.NEW,
            )
            for section in candidate_checklist.sections
            for item in section.items
        )
        return VersionedScorecard(candidate=card, sections=sections, items=items, score_trend=Trend.NEW)

    base_list = baseline_checklist or candidate_checklist
    base_card = score(base_list, baseline_marks, baseline_waived)
    items = _compare_items(candidate_checklist, candidate_marks, base_list, baseline_marks)
    return VersionedScorecard(
        candidate=card,
        baseline=base_card,
        sections=_compare_sections(card.sections, base_card.sections),
        items=items,
        score_trend=_trend(base_card.score, card.score),
        improved=tuple(i.id for i in items if i.trend is Trend.BETTER),
        regressed=tuple(i.id for i in items if i.trend is Trend.WORSE),
        checklist_diff=checklist_diff(base_list, candidate_checklist),
    )


def _mark(marks: Mapping[str, MarkEntry], item_id: str) -> Mark | None:
    entry = marks.get(item_id)
    return entry.mark if entry is not None else None


def _compare_sections(cand: list[SectionScore], base: list[SectionScore]) -> tuple[SectionComparison, ...]:
    base_by_id = {s.id: s for s in base}
    cand_ids = {s.id for s in cand}
    rows: list[SectionComparison] = []
    for s in cand:
        b = base_by_id.get(s.id)
        rows.append(
            SectionComparison(
                id=s.id,
                title=s.title,
                baseline=b.score if b else None,
                baseline_max=b.max_score if b else None,
                candidate=s.score,
                candidate_max=s.max_score,
                trend=_trend(b.score, s.score) if b else Trend.ADDED,
            )
        )
    for b in base:
        if b.id not in cand_ids:
            rows.append(
                SectionComparison(
                    id=b.id, title=b.title, baseline=b.score, baseline_max=b.max_score, trend=Trend.REMOVED
                )
            )
    return tuple(rows)


def _compare_items(
    cand_list: Checklist,
    cand_marks: Mapping[str, MarkEntry],
    base_list: Checklist,
    base_marks: Mapping[str, MarkEntry],
) -> tuple[ItemComparison, ...]:
    base_ids = set(base_list.item_ids)
    rows: list[ItemComparison] = []
    for section in cand_list.sections:
        for item in section.items:
            now = _mark(cand_marks, item.id)
            if item.id in base_ids:
                then = _mark(base_marks, item.id)
                trend = _item_trend(then, now)
            else:
                then, trend = None, Trend.ADDED
            rows.append(
                ItemComparison(
                    id=item.id,
                    title=item.title,
                    section_id=section.id,
                    baseline=then,
                    candidate=now,
                    trend=trend,
                )
            )
    cand_ids = set(cand_list.item_ids)
    for section in base_list.sections:
        for item in section.items:
            if item.id not in cand_ids:
                rows.append(
                    ItemComparison(
                        id=item.id,
                        title=item.title,
                        section_id=section.id,
                        baseline=_mark(base_marks, item.id),
                        trend=Trend.REMOVED,
                    )
                )
    return tuple(rows)


def item_status(mark: Mark | None, due: date | None, today: date, *, waived: bool = False) -> ItemState:
    """unmarked; waived (a blocker under a live waiver); closed (No); overdue (due before today); open."""
    if mark is None:
        return ItemState.UNMARKED
    if waived:
        return ItemState.WAIVED
    if mark is Mark.NO:
        return ItemState.CLOSED
    if due is not None and due < today:
        return ItemState.OVERDUE
    return ItemState.OPEN


def checklist_rows(
    checklist: Checklist,
    marks: Mapping[str, MarkEntry],
    *,
    today: date,
    waivers: Mapping[str, Waiver] | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[ItemRow, ...]:
    """One row per checklist item. ``waivers`` holds live waivers by item id; a waiver shows only on an
    item whose current mark blocks. ``names`` maps owner ids to display names (see ``person``)."""
    waivers = waivers or {}
    rows: list[ItemRow] = []
    for section in checklist.sections:
        for item in section.items:
            entry = marks.get(item.id)
            mark = entry.mark if entry else None
            blocker = mark is not None and mark in checklist.blocks_on(item)
            waiver = waivers.get(item.id) if blocker else None
            owner: PersonRef | None = person(entry.owner, names) if entry and entry.owner else None
            rows.append(
                ItemRow(
                    id=item.id,
                    section_id=section.id,
                    section_title=section.title,
                    title=item.title,
                    flags=item.flags,
                    mark=mark,
                    evidence=entry.evidence if entry else None,
                    note=entry.note if entry else None,
                    owner=owner,
                    due=entry.due if entry else None,
                    status=item_status(mark, entry.due if entry else None, today, waived=waiver is not None),
                    blocker=blocker,
                    waiver=waiver,
                )
            )
    return tuple(rows)


def gate_policy(checklist: Checklist) -> GatePolicy:
    """The checklist's mark meanings, bands with verdicts and actions, blocker flags and categories. Marks are
    named as everywhere else (:data:`bot.core.words.MARK`); the checklist gives their meaning and action."""
    scoring = checklist.scoring
    return GatePolicy(
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        marks=tuple(
            MarkMeaning(mark=m, label=MARK[m], points=scoring.points[m], meaning=t.meaning, action=t.action)
            for m in Mark
            for t in [checklist.marks[m]]
        ),
        bands=tuple(
            BandRule(label=b.label, min=b.min, max=b.max, verdict=b.verdict, action=b.action)
            for b in scoring.bands
        ),
        flags=tuple(
            FlagRule(
                name=name,
                description=flag.description,
                blocks_on=tuple(m for m in Mark if m in flag.blocks_on),
                scores=flag.scores,
                items=tuple(i.id for i in checklist.items if name in i.flags),
            )
            for name, flag in scoring.flags.items()
        ),
        categories=tuple(
            CategoryRule(id=cid, label=label, items=tuple(i.id for i in checklist.items if i.category == cid))
            for cid, label in scoring.categories.items()
        ),
    )
