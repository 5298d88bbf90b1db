"""A read model of one review: everything a message, the home tab or a report shows. Pure core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.checklist import Checklist, Item, Mark, Section
from bot.core.scoring import Scorecard

ITEMS_PER_MESSAGE = 12


@dataclass(frozen=True)
class ItemStatus:
    item_id: str
    mark: Mark | None = None
    evidence: str | None = None
    owner: str | None = None
    due: date | None = None
    note: str | None = None
    marked_by: str | None = None
    marked_at: datetime | None = None


@dataclass(frozen=True)
class WaiverNote:
    """A live waiver of a blocker: who granted it, until when, why."""

    granted_by: str
    expires_at: datetime
    reason: str


@dataclass(frozen=True)
class Review:
    assessment_id: int
    team_id: str
    system: str
    version: str
    started_by: str
    status: str
    checklist: Checklist
    card: Scorecard
    items: dict[str, ItemStatus]
    cohorts: list[str] = field(default_factory=list)
    channel_id: str | None = None
    thread_ts: str | None = None
    release_channel_id: str | None = None
    baseline_label: str | None = None
    thread_link: str | None = None
    waivers: dict[str, WaiverNote] = field(default_factory=dict)
    contradicted: frozenset[str] = frozenset()  # items marked No that the cohort evidence contradicts
    rev: int = 0  # the state revision this read model shows
    signoff_requested: bool = False  # approvers are named and the card is out
    signoff_outcome: str | None = None  # approved, approved-staged or rejected, once every role decided
    golive_allowed_early: bool = False  # the workspace lets go-live be recorded before sign-off
    section_ts: dict[str, str] = field(default_factory=dict)  # message part key -> its message ts

    @property
    def label(self) -> str:
        return f"{self.system} {self.version}"

    @property
    def owners(self) -> dict[str, str | None]:
        return {item_id: st.owner for item_id, st in self.items.items()}

    def status_of(self, item_id: str) -> ItemStatus:
        return self.items.get(item_id) or ItemStatus(item_id=item_id)

    def gaps(self) -> list[tuple[Item, ItemStatus]]:
        return [
            (item, st)
            for item in self.checklist.items
            if (st := self.status_of(item.id)).mark is not None and st.mark is not Mark.NO
        ]


@dataclass(frozen=True)
class MessagePart:
    """One threaded message of a section; long sections are split, never cut."""

    key: str
    section: Section
    part: int
    parts: int
    items: tuple[Item, ...]


def message_parts(checklist: Checklist, per_message: int = ITEMS_PER_MESSAGE) -> list[MessagePart]:
    parts: list[MessagePart] = []
    for section in checklist.sections:
        chunks = [section.items[i : i + per_message] for i in range(0, len(section.items), per_message)]
        for index, chunk in enumerate(chunks, start=1):
            key = section.id if len(chunks) == 1 else f"{section.id}#{index}"
            parts.append(MessagePart(key=key, section=section, part=index, parts=len(chunks), items=chunk))
    return parts


def part_of_item(checklist: Checklist, item_id: str, per_message: int = ITEMS_PER_MESSAGE) -> MessagePart:
    for part in message_parts(checklist, per_message):
        if any(item.id == item_id for item in part.items):
            return part
    raise KeyError(item_id)


@dataclass(frozen=True)
class GapRow:
    """An open gap as a list shows it."""

    assessment_id: int
    label: str
    item_id: str
    title: str
    mark_label: str
    owner: str | None
    due: date | None
    overdue: bool


@dataclass(frozen=True)
class Proposal:
    """A gap owner's request to move a due date, waiting for the release lead."""

    assessment_id: int
    item_id: str
    owner: str
    current_due: date
    new_due: date
    lead: str
    label: str
    title: str


@dataclass(frozen=True)
class ReviewRow:
    assessment_id: int
    label: str
    status: str
    card: Scorecard
    channel_id: str | None


def message_link(thread_link: str | None, channel_id: str | None, message_ts: str | None,
                 thread_ts: str | None) -> str | None:
    """A link to one reply of the review thread, built from the thread's permalink."""
    if not (thread_link and channel_id and message_ts and thread_ts):
        return thread_link
    base = thread_link.split("?")[0].rsplit("/p", 1)[0]
    return f"{base}/p{message_ts.replace('.', '')}?thread_ts={thread_ts}&cid={channel_id}"
