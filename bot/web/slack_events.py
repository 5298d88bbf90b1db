"""POST /slack/events: Slack's requests, verified before anything else reads them.

A request whose signature cannot be verified, for whatever reason (no or non-numeric timestamp, a stale one,
a missing or forged signature, a body too large to be Slack's), gets 401 with an empty body and one short
log line: its body is never parsed and nothing is sent anywhere because of it. Verified requests go to bolt
(which checks the signature again); a verified body that is not what Slack sends (not a form or a JSON
object, a payload that is not a JSON object) gets 400 with an empty body, before bolt reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse

from bot.observe import metrics
from bot.web.http import Environ, StartResponse, respond

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's payloads (a view submission with its state) stay far below this
MAX_SKEW_SECONDS = 5 * 60  # Slack's own rule: older (or newer) requests may be replays
TIMESTAMP = re.compile(r"^[0-9]{1,11}$")
SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


def refusal(environ: Environ, secret: bytes, body: bytes, now: float) -> str | None:
    """Why this request is not verifiably Slack's, or None when its signature holds."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not TIMESTAMP.match(timestamp):
        return "no valid timestamp"
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return "stale timestamp"
    if not SIGNATURE.match(signature):
        return "no valid signature"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "signature mismatch"


def _read_body(environ: Environ) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY (nothing past that is read)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length < 0 or length > MAX_BODY:
        return None
    return environ["wsgi.input"].read(length) if length else b""


class SlackEvents:
    """The WSGI side of /slack/events in HTTP mode."""

    def __init__(self, bolt: SlackRequestHandler, signing_secret: str,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.bolt = bolt
        self.secret = signing_secret.encode()
        self.wall_clock = wall_clock  # Slack's timestamps are real time, whatever clock the app runs on

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        body = _read_body(environ)
        why = "body missing or too large" if body is None else refusal(environ, self.secret, body, self.wall_clock())
        if why is not None:
            log.warning("refused an unverified request to %s from %s: %s", SLACK_PATH,
                        environ.get("REMOTE_ADDR", "?"), why)
            metrics.SLACK_REQUESTS.labels("unverified", "refused").inc()
            return respond(start_response, 401, b"", "text/plain; charset=utf-8")
        assert body is not None
        parsed = readable(environ, body)
        kind, answered = request_kind(parsed), []

        def counted(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            answered.append(int(status.split()[0]))
            return start_response(status, headers, *rest)

        token = metrics.RECEIVED.set(started)
        try:
            if parsed is None:  # signed, but not a body Slack sends: answered here, never handed to bolt
                log.warning("a signed request to %s could not be read: not a form or a JSON object", SLACK_PATH)
                return respond(counted, 400, b"", "text/plain; charset=utf-8")
            return self._verified(environ, body, parsed, counted)
        finally:
            metrics.RECEIVED.reset(token)
            code = answered[0] if answered else 500
            metrics.SLACK_REQUESTS.labels(kind, OUTCOMES.get(code, f"http_{code}")).inc()
            metrics.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)

    def _verified(self, environ: Environ, body: bytes, parsed: dict[str, Any],
                  start_response: StartResponse) -> Iterable[bytes]:
        try:
            response = self.bolt.app.dispatch(read_request(environ, body, parsed))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            # signed, but not a body bolt can read (a form without its payload, broken JSON)
            log.warning("a signed request to %s could not be read: %s", SLACK_PATH, type(exc).__name__)
            return respond(start_response, 400, b"", "text/plain; charset=utf-8")
        except Exception:  # a real defect: logged once with an id, never a traceback to the caller
            error_id = uuid.uuid4().hex[:8]
            log.exception("error %s while handling a signed request to %s", error_id, SLACK_PATH,
                          extra={"error_id": error_id})
            return respond(start_response, 500, f'{{"error": "internal error", "error_id": "{error_id}"}}'.encode(),
                           "application/json")
        answer = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        start_response(answer.status, answer.get_headers())
        return answer.get_body()


def read_request(environ: Environ, body: bytes, parsed: dict[str, Any]) -> BoltRequest:
    """The request for bolt, with the body as read here (not parsed a second time) and its raw text, which
    bolt's own signature check reads."""
    headers: dict[str, str | list[str]] = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = value
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
    # bolt takes a parsed body only in its Socket Mode; the request is then an HTTP one again, with its raw body
    request = BoltRequest(body=parsed, query=environ.get("QUERY_STRING", ""), headers=headers, mode="socket_mode")
    request.raw_body, request.mode = body.decode("utf-8"), "http"
    return request


OUTCOMES = {200: "ok", 400: "unreadable", 401: "refused", 404: "unhandled", 500: "error"}


def readable(environ: Environ, body: bytes) -> dict[str, Any] | None:
    """What a signed body holds, when it is what Slack sends: an event's JSON object, a form whose ``payload``
    is a JSON object (clicks, forms), or a form without one (a command: its fields, as bolt reads them). None
    for anything else (not UTF-8, broken JSON, JSON that is not an object), which bolt would fail on."""
    try:
        if "json" in (environ.get("CONTENT_TYPE") or ""):
            data: Any = json.loads(body)
        else:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100))
            data = json.loads(form["payload"]) if "payload" in form else form
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return data if isinstance(data, dict) else None


def request_kind(parsed: dict[str, Any] | None) -> str:
    """The kind of a verified Slack request, for the metrics: command, block_actions, view_submission, event..."""
    if parsed is None:
        return "other"
    if parsed.get("command"):
        return "command"
    return metrics.kind_of(parsed) if isinstance(parsed.get("type"), str) else "other"


def bolt_handler(app: Any) -> SlackRequestHandler:
    return SlackRequestHandler(app, path=SLACK_PATH)
