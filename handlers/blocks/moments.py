"""A message that recorded a moment, once what it said is no longer true: kept, but marked superseded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.blocks import text as t
from handlers.blocks.kit import Block, context

SUPERSEDED_PREFIX = "Superseded: "


def superseded(text: str, blocks: list[Block], at: datetime, link: str | None) -> tuple[str, list[Block]]:
    """The message as posted, under a line that says it no longer shows the state and where the state is;
    its buttons are removed (what they offered may no longer apply)."""
    see = f" <{link}|See the review as it is now>." if link else " See the review's thread for its state now."
    kept: list[Block] = [{k: v for k, v in b.items() if k != "accessory"} for b in blocks
                         if b.get("type") != "actions" and b.get("block_id") != "superseded"]
    note: list[Block] = [context(f":arrows_counterclockwise: *Superseded* {t.when(at)}: the review has changed "
                                 f"since this was posted.{see}", block_id="superseded")]
    return t.clip(SUPERSEDED_PREFIX + text, 3000), [*note, *kept][:50]


def is_superseded(blocks: list[dict[str, Any]]) -> bool:
    return any(b.get("block_id") == "superseded" for b in blocks)
