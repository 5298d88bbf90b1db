"""What every HTTP route shares: the site it serves (database, settings, clock), routes and answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


@dataclass(frozen=True)
class Site:
    """What a route needs besides the request."""

    engine: Engine
    sessions: sessionmaker[Session]
    settings: Settings
    clock: Callable[[], datetime] | None = None

    def now(self) -> datetime:
        return self.clock() if self.clock is not None else datetime.now(UTC)


Handler = Callable[[Site, Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Route:
    """``method`` requests whose path is ``path`` (or starts with it, when it ends with a slash)."""

    method: str
    path: str
    handler: Handler

    def matches(self, method: str, path: str) -> bool:
        if method != self.method and not (self.method == "GET" and method == "HEAD"):
            return False
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Content", 503: "Service Unavailable"}


def respond(start_response: StartResponse, status: int, body: bytes, content_type: str,
            headers: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    start_response(f"{status} {REASONS[status]}", [("Content-Type", content_type),
                                                   ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


def json_response(start_response: StartResponse, status: int, payload: dict[str, Any]) -> Iterable[bytes]:
    return respond(start_response, status, json.dumps(payload).encode(), "application/json")


def bearer_token(environ: Environ) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    return header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
