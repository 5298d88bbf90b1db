"""Logging for the long-running commands (`serve`, `run`): what an operator needs, nothing a caller sent.

At the default level the log carries startup and shutdown, refused requests (one short line each, never
their body), failed or dead deliveries and errors with their id. The scheduler's per-run lines (and its
notes that a run was skipped because the previous one is still going) and bolt's request-level chatter
appear only with LOG_LEVEL=DEBUG.

``LOG_FORMAT=json`` writes one JSON object a line: ``time``, ``level``, ``logger``, ``message``, and where there
is one ``error_id``, ``team_id``, ``interaction`` (the kind of Slack request) and ``outbox_row_id`` (a list
when a digest delivers several rows), plus ``exception`` with the traceback.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.observe.logcontext import FIELDS, ContextFilter

QUIET = ("apscheduler", "slack_bolt", "slack_sdk", "urllib3", "alembic")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# APScheduler's per-run warnings: a sweep still running when the next is due is how the schedule works
ROUTINE = ("maximum number of running instances reached", "was missed by")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RoutineSchedulerLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(text in record.getMessage() for text in ROUTINE)


def configure(level: str, fmt: str = "text") -> None:
    wanted = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT))
    handler.addFilter(ContextFilter())
    if wanted > logging.DEBUG:
        handler.addFilter(RoutineSchedulerLines())
    logging.basicConfig(level=wanted, handlers=[handler], force=True)
    for name in QUIET:
        logging.getLogger(name).setLevel(wanted if wanted <= logging.DEBUG else max(wanted, logging.WARNING))
