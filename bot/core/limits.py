"""How long a system name, a candidate version and the name of who acted may be, wherever they come in.

These are the widths of the columns that store them (``models/``): a longer value is refused where it arrives
(a form, the query string, a file, a flag) with these numbers, never found too long by the database.
"""

from __future__ import annotations

MAX_SYSTEM = 120
MAX_VERSION = 80
MAX_ACTOR = 120  # who acted, as stored: a Slack user id, "api:" and a token's name, "cli:" and --actor
MAX_ACTOR_NAME = 100  # --actor and --by on the command line: room left for the "cli:" before it
LIMITS: dict[str, int] = {"system": MAX_SYSTEM, "version": MAX_VERSION, "actor": MAX_ACTOR_NAME,
                          "by": MAX_ACTOR_NAME}


def too_long(name: str, value: str) -> str | None:
    """Why ``value`` cannot be the ``name`` (a key of LIMITS), or None when it fits."""
    limit = LIMITS[name]
    return f"at most {limit} characters (this one has {len(value)})" if len(value) > limit else None
