"""Errors a use case raises for bad input; each carries a message fit to show a user."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; nothing was changed."""


class NotFound(ServiceError):
    pass


class MarkRejected(ServiceError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class AssessmentClosed(ServiceError):
    pass
