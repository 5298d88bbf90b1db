"""State that travels through Slack: modal private_metadata and button values, as pydantic models."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bot.core.checklist import Mark

# A database row id as it travels through Slack: refused when no row could have it (a forged value).
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


class _Button(_Wire):
    """A button value: short field aliases on the wire (a value is at most 2,000 characters)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


class ItemRef(_Button):
    """The value of an item's mark buttons."""

    assessment: RowId = Field(alias="a")
    item: str = Field(alias="i", max_length=48)


class MarkChoice(_Button):
    """An option of a marked item's overflow: the item and the mark to give it (the same one: its details)."""

    assessment: RowId = Field(alias="a")
    item: str = Field(alias="i", max_length=48)
    mark: Mark = Field(alias="m")


class SnoozeRef(_Button):
    """A reminder's snooze option: the gap and for how many days."""

    assessment: RowId = Field(alias="a")
    item: str = Field(alias="i", max_length=48)
    days: int = Field(alias="d", ge=1, le=7)


class SectionRef(_Button):
    """The value of a section message's "Mark this section" button: a message part of a review."""

    assessment: RowId = Field(alias="a")
    part: str = Field(alias="p", max_length=64)


class SectionModalState(_Wire):
    assessment_id: RowId
    part: str
    items: list[str]  # the items the form shows (re-checked on submit: only items of that part)


class StartModalState(_Wire):
    channel_id: str
    user_id: str


class MarkModalState(_Wire):
    assessment_id: RowId
    item_id: str
    mark: Mark
    channel_id: str | None = None
    message_ts: str | None = None


class ProposalRef(_Button):
    """A proposed due date, carried by the release lead's Accept / Refuse buttons."""

    assessment: RowId = Field(alias="a")
    item: str = Field(alias="i", max_length=48)
    was: date = Field(alias="w")
    due: date = Field(alias="d")
    by: str = Field(alias="b", max_length=32)


class GoLiveModalState(_Wire):
    assessment_id: RowId


class CheckinRef(_Button):
    """A day of a go-live's watch, carried by the check-in buttons and the issue modal."""

    golive: RowId = Field(alias="g")
    day: int = Field(alias="d", ge=1, le=31)


class IssueModalState(_Wire):
    golive: RowId
    day: int
    channel_id: str | None = None
    message_ts: str | None = None


class SignoffModalState(_Wire):
    assessment_id: RowId


class SuggestionRef(_Button):
    """A suggested mark's Apply / Dismiss buttons (in the thread message that offers it)."""

    suggestion: RowId = Field(alias="s")


class ApplySuggestionState(_Wire):
    """The usual mark modal, opened from a suggestion: ``mark`` is what that modal carries anyway."""

    suggestion_id: RowId
    mark: MarkModalState


class DismissSuggestionState(_Wire):
    suggestion_id: RowId
    channel_id: str | None = None
    message_ts: str | None = None


class DecisionRef(_Button):
    """A role's decision buttons on the approval card (and the reason modal)."""

    assessment: RowId = Field(alias="a")
    role: str = Field(alias="r", max_length=40)
    decision: str | None = Field(default=None, alias="d", max_length=12)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


class ConfigModalState(_Wire):
    """Who opened the settings form; their rights are checked again on submit, never read from here."""

    user_id: str


class PacketModalState(_Wire):
    """The review a trace-example or rollout-plan modal writes to."""

    assessment_id: RowId
