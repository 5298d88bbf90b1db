"""Canonical JSON and content hashes of validated documents, and one-line validation messages. Pure."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import ValidationError

from bot.core.documents import shown


def canonical_json(data: Any, *, ensure_ascii: bool = True) -> str:
    """Sorted keys, no whitespace: equal data gives equal text, whatever its layout was."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii)


def content_hash(data: Any, *, ensure_ascii: bool = True) -> str:
    """sha256 hex of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data, ensure_ascii=ensure_ascii).encode()).hexdigest()


def describe(error: ValidationError) -> str:
    """The first problem pydantic found, as ``field.path: message``."""
    first = error.errors()[0]
    msg = first["msg"].removeprefix("Value error, ")
    where = ".".join(shown(p) for p in first["loc"])  # keys come from the file: printable and short
    return f"{where}: {msg}" if where else msg
