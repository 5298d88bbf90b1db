"""HTTP routes of evidence from the eval pipeline: POST /api/v1/evidence."""

from __future__ import annotations

from bot.server import Route


def routes() -> list[Route]:
    return []
