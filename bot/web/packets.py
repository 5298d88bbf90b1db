"""HTTP routes of the rollout packet: the signed page at /packets/<id>.

The page is served only to a link signed by this server, unexpired, for the workspace that owns the packet.
Anything else gets 403 and a short reason, never packet data (an unknown id looks like a bad link).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from bot.core.packet.links import LinkRefused, verify_packet_link
from bot.db import session_scope
from bot.services.errors import ServiceError
from bot.services.packets import link_secret, stored_packet
from bot.web.http import Route, Site, StartResponse, respond

log = logging.getLogger(__name__)

PREFIX = "/packets/"
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "private, no-store"),
]


def routes() -> list[Route]:
    return [Route("GET", PREFIX, packet_page)]


def _refuse(start_response: StartResponse, reason: str) -> Iterable[bytes]:
    text = f"403 Forbidden: {LinkRefused(reason)}\n"
    return respond(start_response, 403, text.encode(), "text/plain; charset=utf-8", SECURITY_HEADERS)


def packet_page(site: Site, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """GET /packets/<id>?team=T&exp=UNIX&sig=SIG: the stored HTML of the packet, or 403."""
    packet_id = environ.get("PATH_INFO", "")[len(PREFIX):]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    now = site.now()
    try:
        secret = link_secret(site.settings)
    except ServiceError:
        log.warning("packet page refused: no PACKET_LINK_SECRET or SLACK_SIGNING_SECRET is set")
        return _refuse(start_response, "malformed")
    try:
        verify_packet_link(packet_id, query.get("team"), query.get("exp"), query.get("sig"), secret,
                           now.timestamp())
        with session_scope(site.sessions) as session:
            record = stored_packet(session, int(packet_id))
            if record is None:  # a validly signed link to a packet that is gone: say no more than for a bad one
                raise LinkRefused("malformed")
            verify_packet_link(packet_id, query.get("team"), query.get("exp"), query.get("sig"), secret,
                               now.timestamp(), expected_team=record.team_id)
            body = record.html.encode("utf-8")
    except LinkRefused as refused:
        return _refuse(start_response, refused.reason)
    return respond(start_response, 200, body, "text/html; charset=utf-8", SECURITY_HEADERS)
