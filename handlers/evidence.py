"""Slack listeners of the evidence feature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

SUBCOMMANDS: tuple[str, ...] = ()
# work after the ack of `/readiness <one of SUBCOMMANDS>` (each a handlers.lazy.after_ack/opens_modal step)
AFTER_COMMAND: list[Callable[..., None]] = []


def command(ack: Ack, command: dict[str, Any], context: BoltContext, sub: str, args: list[str]) -> None:
    """Answer `/readiness <sub> ...` in the ack (or ack and leave a note in ``context`` for AFTER_COMMAND)."""
    ack(text=f"`/readiness {sub}` is not available yet.")


def register(app: App) -> None:
    """Actions and views of this feature."""
