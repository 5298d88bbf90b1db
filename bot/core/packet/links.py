"""Signed, expiring links to a stored packet. Pure: standard library only.

A link is ``<base>/packets/<id>?team=<team>&exp=<unix seconds>&sig=<sig>`` where ``sig`` is the
HMAC-SHA256 of ``"<id>|<team>|<exp>"`` under the server's secret, urlsafe base64 without padding.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, urlencode

_TEAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SIG = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes, urlsafe base64, no padding

REASONS = {
    "missing": "The link is incomplete.",
    "malformed": "The link is not valid.",
    "tampered": "The link has been changed or was not issued by this service.",
    "expired": "The link has expired. Ask for a new one in Slack.",
    "wrong-team": "The link belongs to another workspace.",
}


class LinkRefused(Exception):
    """A packet link that must not be honoured. ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS.get(reason, reason))
        self.reason = reason


def _key(secret: bytes | str) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("the link secret must not be empty")
    return key


def packet_signature(packet_id: int, team_id: str, expires_at: int, secret: bytes | str) -> str:
    message = f"{packet_id}|{team_id}|{expires_at}".encode()
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_packet_link(
    base_url: str, packet_id: int, team_id: str, secret: bytes | str, expires_at: int
) -> str:
    """An absolute link to packet ``packet_id`` of workspace ``team_id``, valid until ``expires_at``."""
    if isinstance(packet_id, bool) or not isinstance(packet_id, int) or packet_id < 1:
        raise ValueError("packet_id must be a positive integer")
    if not _TEAM.match(team_id):
        raise ValueError("team_id must be a workspace id")
    sig = packet_signature(packet_id, team_id, int(expires_at), secret)
    query = urlencode({"team": team_id, "exp": int(expires_at), "sig": sig})
    return f"{base_url.rstrip('/')}/packets/{quote(str(packet_id))}?{query}"


def verify_packet_link(
    packet_id: int | str | None,
    team: str | None,
    exp: int | str | None,
    sig: str | None,
    secret: bytes | str,
    now: float,
    *,
    expected_team: str | None = None,
) -> None:
    """Check a link's parts as the request carries them; raise :class:`LinkRefused` if it must be refused.

    Order: missing part, malformed part, bad signature (tampered id, team, exp or sig), expired, then
    ``expected_team`` (the workspace that owns the packet, when the caller knows it) differs from ``team``.
    """
    if packet_id in (None, "") or not team or exp in (None, "") or not sig:
        raise LinkRefused("missing")
    try:
        id_value = int(packet_id)
        exp_value = int(exp)
    except (TypeError, ValueError):
        raise LinkRefused("malformed") from None
    if str(packet_id).strip() != str(id_value) or str(exp).strip() != str(exp_value) or id_value < 1:
        raise LinkRefused("malformed")
    if not _TEAM.match(team) or not _SIG.match(sig):
        raise LinkRefused("malformed")
    expected = packet_signature(id_value, team, exp_value, secret)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkRefused("tampered")
    if now >= exp_value:
        raise LinkRefused("expired")
    if expected_team is not None and not hmac.compare_digest(expected_team.encode(), team.encode()):
        raise LinkRefused("wrong-team")
