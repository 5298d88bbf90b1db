"""The `readiness` subcommands of the evidence feature."""

from __future__ import annotations

from typing import Any


def add_commands(sub: Any) -> None:  # argparse's _SubParsersAction
    """Add this feature's subcommands to the `readiness` parser."""
