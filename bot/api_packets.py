"""HTTP routes of the rollout packet: the signed page at /packets/<id>."""

from __future__ import annotations

from bot.server import Route


def routes() -> list[Route]:
    return []
