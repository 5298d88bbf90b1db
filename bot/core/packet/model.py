"""The minimum rollout packet as data: one frozen pydantic model, filled by the service, rendered by
:mod:`bot.core.packet.render`. Pure core: standard library and pydantic only.

Every timestamp must be timezone-aware (the renderers show UTC). Lists are tuples so a packet cannot
change after it is built; pydantic accepts lists for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from bot.core.canonical import canonical_json
from bot.core.checklist import Mark, Verdict
from bot.core.scoring import Scorecard


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


HASHING = {"hash": True}  # the serialisation context of the content hash


class PersonRef(_Frozen):
    """A person as the packet shows them: ``display`` is their Slack display name (or real name) when the bot
    knows it, else the id itself; ``id`` is the stored value (a Slack user id, or a free-text owner).

    The content hash covers who a person is (``id``), not how Slack spells their name today: a packet of the
    same review data has the same hash whether or not the names were fetched yet.
    """

    id: str | None = None
    display: str = Field(min_length=1)

    @model_serializer(mode="wrap")
    def _hashed_as_id(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        if self.id and isinstance(info.context, Mapping) and info.context.get("hash"):
            return {"id": self.id}
        return handler(self)


def person(user: str, names: Mapping[str, str] | None = None) -> PersonRef:
    """A reference for a Slack user id or a free-text owner: shown by name when ``names`` has one, else as
    the id (never ``@U123``: that reads as a mention, and the page is read outside Slack)."""
    shown = (names or {}).get(user) or user
    return PersonRef(id=user, display=shown)


# Versioned scorecard ------------------------------------------------------------------------------


class Trend(StrEnum):
    """How one item, section or total moved from the baseline to the candidate (lower is better)."""

    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    ADDED = "added"  # only in the candidate's checklist
    REMOVED = "removed"  # only in the baseline's checklist
    MARKED = "marked"  # unmarked in the baseline, marked now
    UNMARKED = "unmarked"  # marked in the baseline, unmarked now
    NEW = "new"  # no baseline at all


class ItemComparison(_Frozen):
    id: str
    title: str
    section_id: str
    baseline: Mark | None = None
    candidate: Mark | None = None
    trend: Trend


class SectionComparison(_Frozen):
    id: str
    title: str
    baseline: int | None = None
    baseline_max: int | None = None
    candidate: int | None = None
    candidate_max: int | None = None
    trend: Trend


class FieldChange(_Frozen):
    field: str  # title, flags, category or section
    before: str
    after: str


class ItemRef(_Frozen):
    id: str
    title: str


class ItemDefinitionChange(_Frozen):
    id: str
    title: str
    changes: tuple[FieldChange, ...]


class ChecklistDiff(_Frozen):
    """What differs between the baseline's and the candidate's checklists; items matched by id."""

    baseline_version: str
    candidate_version: str
    same_content: bool
    added: tuple[ItemRef, ...] = ()
    removed: tuple[ItemRef, ...] = ()
    changed: tuple[ItemDefinitionChange, ...] = ()


class VersionedScorecard(_Frozen):
    """The candidate's scorecard next to its baseline's (when one is set). Built by ``compare``."""

    candidate: Scorecard
    baseline: Scorecard | None = None
    sections: tuple[SectionComparison, ...]
    items: tuple[ItemComparison, ...]
    score_trend: Trend
    improved: tuple[str, ...] = ()
    regressed: tuple[str, ...] = ()
    checklist_diff: ChecklistDiff | None = None


# Checklist result ---------------------------------------------------------------------------------


class ItemState(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    CLOSED = "closed"
    WAIVED = "waived"
    UNMARKED = "unmarked"


class Waiver(_Frozen):
    """A live waiver on a blocker: it does not block while the waiver lasts."""

    item_id: str
    granted_by: PersonRef
    expires_at: AwareDatetime
    reason: str | None = None
    granted_at: AwareDatetime | None = None


class ItemRow(_Frozen):
    id: str
    section_id: str
    section_title: str
    title: str
    flags: tuple[str, ...] = ()
    mark: Mark | None = None
    evidence: str | None = None
    note: str | None = None
    owner: PersonRef | None = None
    due: date | None = None
    status: ItemState
    blocker: bool = False  # the mark blocks under the checklist's rules (waived or not)
    waiver: Waiver | None = None


# Trace examples -----------------------------------------------------------------------------------


class TraceKind(StrEnum):
    GOOD = "good"
    BAD = "bad"
    ESCALATION = "escalation"


class TraceExample(_Frozen):
    kind: TraceKind
    url: str = Field(min_length=1, max_length=2000)
    description: str = ""
    added_by: PersonRef | None = None


# Release policy -----------------------------------------------------------------------------------


class MarkMeaning(_Frozen):
    mark: Mark
    label: str
    points: int  # for an item that scores (items with a non-scoring flag add none)
    meaning: str
    action: str


class BandRule(_Frozen):
    label: str
    min: int
    max: int | None = None
    verdict: Verdict
    action: str


class FlagRule(_Frozen):
    name: str
    description: str
    blocks_on: tuple[Mark, ...] = ()
    scores: bool = True
    items: tuple[str, ...] = ()


class CategoryRule(_Frozen):
    id: str
    label: str
    items: tuple[str, ...] = ()


class GatePolicy(_Frozen):
    """The checklist's gate thresholds and blocker rules; build it with ``gate_policy(checklist)``."""

    checklist_id: str
    checklist_version: str
    marks: tuple[MarkMeaning, ...]
    bands: tuple[BandRule, ...]
    flags: tuple[FlagRule, ...] = ()
    categories: tuple[CategoryRule, ...] = ()


class Decision(StrEnum):
    APPROVE = "approve"
    STAGED = "staged"
    REJECT = "reject"


class ApproverEntry(_Frozen):
    """One named approver and their live decision (None while pending). Voided decisions go to history."""

    role: str
    approver: PersonRef | None = None
    decision: Decision | None = None
    reason: str | None = None
    decided_at: AwareDatetime | None = None


class ReleasePolicy(_Frozen):
    gates: GatePolicy
    staged_rollout: str | None = None
    rollback: str | None = None
    approvers: tuple[ApproverEntry, ...] = ()


# Monitoring ---------------------------------------------------------------------------------------


class CheckinAnswer(StrEnum):
    CLEAR = "clear"
    ISSUE = "issue"


class Checkin(_Frozen):
    day: int = Field(ge=1)
    by: PersonRef
    answer: CheckinAnswer
    text: str | None = None
    link: str | None = None
    at: AwareDatetime


class CheckinDay(_Frozen):
    """One day's check-in question: when it is (or was) asked, and whether that time has come."""

    day: int = Field(ge=1)
    due_at: AwareDatetime
    asked: bool


class MonitoringPlan(_Frozen):
    alerts: str
    cadence: str
    escalation_owner: PersonRef | None = None
    watch_items: tuple[str, ...] = ()
    days: int = Field(default=7, ge=1)
    started_at: AwareDatetime | None = None
    checkins: tuple[Checkin, ...] = ()  # the answers
    schedule: tuple[CheckinDay, ...] = ()  # the questions, so that a day nobody answered shows too


# Cohort evidence ----------------------------------------------------------------------------------


class CohortRow(_Frozen):
    cohort: str
    metric: str
    baseline: str
    candidate: str
    delta: str
    outcome: str
    rule: str


class CohortEvidence(_Frozen):
    """Pre-rendered cohort evidence. ``svg`` is trusted (our own code) and goes raw into HTML only."""

    svg: str | None = None
    rows: tuple[CohortRow, ...] = ()
    contradicted: tuple[str, ...] = ()  # item ids marked No that the numbers contradict


# History ------------------------------------------------------------------------------------------


class MarkChangeEvent(_Frozen):
    at: AwareDatetime
    by: PersonRef
    item_id: str
    before: Mark | None = None
    after: Mark | None = None
    reason: str | None = None
    change: str = "mark"  # mark, owner, due or details: what the change was (only a mark changes the score)
    was: str | None = None  # the due date before, for a due change
    now: str | None = None
    was_owner: PersonRef | None = None  # the owner before and after, for an owner change (None: nobody)
    now_owner: PersonRef | None = None


class DecisionKind(StrEnum):
    APPROVE = "approve"
    STAGED = "staged"
    REJECT = "reject"
    VOID = "void"
    WAIVE = "waive"
    WAIVER_EXPIRED = "waiver-expired"
    WAIVER_REMARKED = "waiver-remarked"  # ended early: the item was re-marked


class DecisionEvent(_Frozen):
    at: AwareDatetime
    by: PersonRef
    kind: DecisionKind
    role: str | None = None
    item_id: str | None = None
    text: str | None = None  # reason, void reason or waiver reason


class History(_Frozen):
    mark_changes: tuple[MarkChangeEvent, ...] = ()
    decisions: tuple[DecisionEvent, ...] = ()


# The packet ---------------------------------------------------------------------------------------


class Packet(_Frozen):
    """Everything the minimum rollout packet shows. ``generated_at`` is left out of the content hash."""

    system: str = Field(min_length=1)
    version: str = Field(min_length=1)
    baseline_version: str | None = None
    cohorts: tuple[str, ...] = ()
    scorecard: VersionedScorecard
    items: tuple[ItemRow, ...]
    traces: tuple[TraceExample, ...] = ()
    policy: ReleasePolicy
    monitoring: MonitoringPlan | None = None
    cohort: CohortEvidence | None = None
    history: History = History()
    generated_at: AwareDatetime

    @property
    def missing_traces(self) -> tuple[TraceKind, ...]:
        present = {t.kind for t in self.traces}
        return tuple(kind for kind in TraceKind if kind not in present)

    def canonical_json(self) -> str:
        """The packet data as canonical JSON (sorted keys, no whitespace), without ``generated_at`` and with
        people as their ids (see :class:`PersonRef`)."""
        data = self.model_dump(mode="json", exclude={"generated_at"}, context=HASHING)
        return canonical_json(data, ensure_ascii=False)

    @property
    def content_hash(self) -> str:
        """sha256 hex of :meth:`canonical_json`: equal for equal data, whenever it was generated."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()
