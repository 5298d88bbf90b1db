"""Crash points for the chaos tests: ``READINESS_CRASH_AT=<name>`` kills this process right there.

after_claim: rows are claimed (committed), nothing is posted; after_post: Slack accepted a post, the outbox
does not know yet; refresh_drawn: a refresh drew the review as it is, nothing is updated yet.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def crash_point(name: str) -> None:
    if os.environ.get("READINESS_CRASH_AT") == name:
        log.warning("crash point %s reached: exiting", name)
        os._exit(137)
