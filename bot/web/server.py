"""HTTP mode: a WSGI application (Slack requests at /slack/events and the routes of ``bot.web``) served by waitress."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine
from waitress import wasyncore
from waitress.server import create_server

from bot.db import session_factory
from bot.errors import ConfigError
from bot.settings import Settings
from bot.web import evidence, gate, health, metrics, oauth, openapi, packets
from bot.web.http import Route, Site, StartResponse, guarded, json_response, respond
from bot.web.slack_events import SLACK_PATH, SlackEvents, bolt_handler

log = logging.getLogger(__name__)


class WebApp:
    """Routes requests: Slack's (verified first, then handed to bolt), and everything else to the routes of
    the ``bot.web`` modules (health, the gate, evidence pushes, packet pages), each behind one guard."""

    def __init__(self, app: App, engine: Engine, clock: Callable[[], datetime] | None = None,
                 settings: Settings | None = None) -> None:
        settings = settings or Settings()
        if settings.slack_signing_secret is None:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode cannot verify Slack's requests without it")
        self.slack = SlackEvents(bolt_handler(app), settings.slack_signing_secret.get_secret_value())
        self.site = Site(engine=engine, sessions=session_factory(engine, clock=clock), settings=settings, clock=clock)
        self.routes: list[Route] = [*health.routes(), *gate.routes(), *packets.routes(), *evidence.routes(),
                                    *metrics.routes(), *openapi.routes()]
        if app.oauth_flow is not None:
            self.routes += oauth.routes(self.slack.bolt)

    draining = False  # set at shutdown: a request still arriving on an open connection gets 503

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.draining:
            return respond(start_response, 503, b'{"error": "shutting down; try again"}', "application/json",
                           [("Connection", "close"), ("Retry-After", "1")])
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH:
            if method != "POST":
                return json_response(start_response, 405, {"error": "use POST"})
            return self.slack(environ, start_response)
        for route in self.routes:
            if route.matches(method, path):
                return guarded(route, self.site, environ, start_response)
        return json_response(start_response, 404, {"error": "not found"})


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

    def stop_accepting(self) -> None:
        """Close the listening socket, in the loop's own thread: no new connection is accepted."""
        self._server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(self._server))  # type: ignore[union-attr]

    def busy(self) -> bool:
        """A request is queued, being handled, or its answer not yet fully written."""
        channels = list(getattr(self._server, "active_channels", {}).values())
        queued = getattr(getattr(self._server, "task_dispatcher", None), "queue", ())
        return bool(queued) or any(ch.requests or ch.total_outbufs_len for ch in channels)

    def drain(self, grace: float, idle: Callable[[], bool] = lambda: True) -> bool:
        """Wait up to ``grace`` seconds until nothing is in flight (and ``idle()``), then end the loop.
        Returns whether everything finished in time."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and (self.busy() or not idle()):
            time.sleep(0.05)
        finished = not self.busy() and idle()
        self._server.trigger.pull_trigger(self._close_all)  # type: ignore[union-attr]
        return finished

    def _close_all(self) -> None:
        for dispatcher in list(self._server._map.values()):  # type: ignore[union-attr]
            dispatcher.close()
