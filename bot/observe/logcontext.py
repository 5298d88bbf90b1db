"""What a log line is about, carried by context variables: workspace, interaction kind, outbox row.

``about(team_id=..., kind=..., outbox_row=...)`` sets them for a block of work; ``ContextFilter`` copies
them onto every record (a value given with ``extra=`` wins), so the JSON log format can print them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FIELDS = ("team_id", "interaction", "outbox_row_id", "error_id")
_vars: dict[str, ContextVar[Any]] = {name: ContextVar(f"readiness_{name}", default=None) for name in FIELDS}


@contextmanager
def about(**values: Any) -> Iterator[None]:
    tokens = [(_vars[name], _vars[name].set(value)) for name, value in values.items() if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, Any]:
    return {name: var.get() for name, var in _vars.items() if var.get() is not None}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _vars.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True
