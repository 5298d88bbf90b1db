"""GET /healthz: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import text

from bot.web.http import Environ, Route, Site, StartResponse, json_response

log = logging.getLogger(__name__)


def health(site: Site, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    try:
        with site.engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # a health check reports any failure instead of raising it
        log.warning("health check failed: %s", exc)
        return json_response(start_response, 503, {"status": "unavailable", "database": "unreachable"})
    return json_response(start_response, 200, {"status": "ok", "database": "ok"})


def routes() -> list[Route]:
    return [Route("GET", "/healthz", health)]
