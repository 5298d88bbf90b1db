"""What every HTTP route shares: the site it serves (database, settings, clock), routes and answers."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.limits import LIMITS
from bot.db import is_outage
from bot.settings import Settings

log = logging.getLogger(__name__)

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
           422: "Unprocessable Content", 500: "Internal Server Error", 503: "Service Unavailable"}
# What a query parameter may hold: short, printable text (names and versions are far shorter).
MAX_PARAM = 200


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


class BadRequest(Exception):
    """Input a route refuses: answered with ``status`` and the message as JSON."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.extra = status, extra


def query_params(environ: Environ, allowed: Iterable[str]) -> dict[str, str]:
    """The query string's parameters (first value each), stripped; refuses control characters, overlong values
    and text that is not UTF-8."""
    try:
        raw = parse_qs(environ.get("QUERY_STRING", ""), errors="strict", max_num_fields=20)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(400, "the query string is not valid UTF-8 or has too many fields") from None
    params: dict[str, str] = {}
    for name in allowed:
        if name not in raw:
            continue
        value = raw[name][0].strip()
        limit = LIMITS.get(name, MAX_PARAM)  # a system or a version: no longer than its column
        if len(value) > limit:
            raise BadRequest(400, f"{name}: at most {limit} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise BadRequest(400, f"{name}: control characters are not allowed")
        params[name] = value
    return params


def guarded(route: Route, site: Site, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Run a route: refused input is a 4xx with a JSON error, a database outage a 503, anything else a 500 with
    an error id in the log and the answer (never a traceback)."""
    try:
        return route.handler(site, environ, start_response)
    except BadRequest as refused:
        return json_response(start_response, refused.status, {"error": str(refused), **refused.extra})
    except Exception as error:
        if is_outage(error):
            log.warning("%s %s: the database is not reachable: %s", route.method, route.path, type(error).__name__)
            return json_response(start_response, 503, {"error": "the database is not reachable; try again shortly"})
        error_id = uuid.uuid4().hex[:8]
        log.error("error %s in %s %s", error_id, route.method, route.path, exc_info=error,
                  extra={"error_id": error_id})
        return json_response(start_response, 500, {"error": "internal error", "error_id": error_id})
