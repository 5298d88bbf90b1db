"""Marks the renderer adds itself (not Block Kit): the visible marker for what it does not draw."""

from __future__ import annotations

import html
from typing import Any


def unsupported(kind: Any, where: str = "element") -> str:
    """A visible marker for a type this renderer does not draw (never dropped silently)."""
    return (f'<div class="unsupported">unsupported {html.escape(where)}: '
            f"<code>{html.escape(str(kind))}</code></div>")
