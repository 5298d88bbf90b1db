"""HTTP mode: a WSGI application (Slack requests at /slack/events, GET /healthz) served by waitress."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from waitress.server import create_server

from bot.settings import Settings

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
SLACK_PATH = "/slack/events"
GATE_PATH = "/api/v1/gate"


Handler = Callable[["WebApp", dict[str, Any], StartResponse], Iterable[bytes]]


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


class WebApp:
    """Routes requests: Slack's to bolt (which verifies signatures), health checks to the database, and the
    API and pages of ``bot.api_*`` modules."""

    def __init__(self, app: App, engine: Engine, clock: Callable[[], datetime] | None = None,
                 settings: Settings | None = None) -> None:
        from bot import api_evidence, api_packets
        from bot.db import session_factory

        self.slack = SlackRequestHandler(app, path=SLACK_PATH)
        self.engine = engine
        self.clock = clock
        self.settings = settings or Settings()
        self.sessions = session_factory(engine, clock=clock)
        self.routes: list[Route] = [*api_packets.routes(), *api_evidence.routes()]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH:
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST"})
            return self.slack(environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self.health(start_response)
        if path == GATE_PATH and method == "GET":
            return self.gate(environ, start_response)
        for route in self.routes:
            if route.matches(method, path):
                return route.handler(self, environ, start_response)
        return _json(start_response, 404, {"error": "not found"})

    def gate(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """GET /api/v1/gate?system=S&version=V[&allow=go,narrow] with a workspace token."""
        from urllib.parse import parse_qs

        from bot.checklist import Verdict
        from bot.db import session_scope
        from bot.services import tokens
        from bot.services.assessments import find_latest
        from bot.services.gate import evaluate

        header = environ.get("HTTP_AUTHORIZATION", "")
        token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with session_scope(self.sessions) as session:
            who = tokens.authenticate(session, token)
            if who is None:
                return _json(start_response, 401, {"error": "a valid workspace token is required"})
            system, version = query.get("system", "").strip(), query.get("version", "").strip()
            if not system or not version:
                return _json(start_response, 400, {"error": "system and version are required"})
            try:
                allowed = {Verdict(v.strip()) for v in query.get("allow", "go").split(",") if v.strip()}
            except ValueError:
                return _json(start_response, 400, {"error": "allow: verdicts are go, narrow, hold, no-go, incomplete"})
            if find_latest(session, who[0], system, version) is None:
                # another workspace's review, or none at all: the token opens nothing here, and says nothing
                return _json(start_response, 401, {"error": f"this token's workspace has no review of {system} {version}"})
            result = evaluate(session, who[0], system, version, allowed, actor=f"api:{who[1]}",
                              settings=self.settings)
        return _json(start_response, 200, result.as_json())

    def health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:  # a health check reports any failure instead of raising it
            log.warning("health check failed: %s", exc)
            return _json(start_response, 503, {"status": "unavailable", "database": "unreachable"})
        return _json(start_response, 200, {"status": "ok", "database": "ok"})


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


_json = json_response


class Server:
    """A waitress server in this process; ``serve_forever`` for the CLI, ``start``/``stop`` for tests and the demo."""

    def __init__(self, wsgi: Callable[..., Any], host: str = "127.0.0.1", port: int = 0, threads: int = 16) -> None:
        self._server = create_server(wsgi, host=host, port=port, threads=threads, ident="readiness",
                                     clear_untrusted_proxy_headers=True)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_forever(self) -> None:
        self._server.run()

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            # Sockets are closed by the loop's own thread: closing them under its select() from here
            # makes that select() fail with EBADF. With every socket closed, the loop ends.
            self._server.trigger.pull_trigger(self._close_all)  # type: ignore[union-attr]
            self._thread.join(timeout=5)
        else:
            self._server.close()
        task_dispatcher = getattr(self._server, "task_dispatcher", None)
        if task_dispatcher is not None:
            task_dispatcher.shutdown()

    def _close_all(self) -> None:
        for dispatcher in list(self._server._map.values()):  # type: ignore[union-attr]
            dispatcher.close()
