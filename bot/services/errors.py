"""Errors a use case raises for bad input; each carries a message fit to show a user.

A message is plain words, with any user-supplied name in it as typed. The people and channels it names by
their Slack ids are kept apart as :class:`Mention` parts (and the links it makes as :class:`Link` parts), so that the one place that sends a refusal to Slack
(``handlers/errors.py``) can escape the words (nothing a user typed becomes markup) and still mention them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Mention:
    """A person (``user``) or a channel (``channel``) named by Slack id in a message."""

    kind: Literal["user", "channel"]
    id: str

    def __str__(self) -> str:
        return f"<@{self.id}>" if self.kind == "user" else f"<#{self.id}>"


@dataclass(frozen=True)
class Link:
    """A link the product made (never one a user typed), with its label."""

    url: str
    label: str

    def __str__(self) -> str:
        return f"{self.label} ({self.url})"


def mention(user_id: str) -> Mention:
    return Mention("user", user_id)


def channel_mention(channel_id: str) -> Mention:
    return Mention("channel", channel_id)


Part = str | Mention | Link


class ServiceError(Exception):
    """A request that cannot be carried out; nothing was changed. ``parts`` are its words and mentions."""

    def __init__(self, *parts: Part) -> None:
        self.parts: tuple[Part, ...] = parts
        super().__init__("".join(str(part) for part in parts))


class NotFound(ServiceError):
    pass


class MarkRejected(ServiceError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class AssessmentClosed(ServiceError):
    pass
