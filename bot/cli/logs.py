"""Logging for the long-running commands (`serve`, `run`): what an operator needs, nothing a caller sent.

At the default level the log carries startup and shutdown, refused requests (one short line each, never
their body), failed or dead deliveries and errors with their id. The scheduler's per-run lines and bolt's
request-level chatter are kept to warnings unless LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import logging

QUIET = ("apscheduler", "slack_bolt", "slack_sdk", "urllib3")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    wanted = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=wanted, format=FORMAT, force=True)
    for name in QUIET:
        logging.getLogger(name).setLevel(wanted if wanted <= logging.DEBUG else max(wanted, logging.WARNING))
