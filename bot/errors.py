"""Errors of set-up and operation that the command line reports as one line (no dependencies)."""

from __future__ import annotations


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class SchemaNotAtHead(RuntimeError):
    """The database schema is older (or newer) than this release of the bot."""
