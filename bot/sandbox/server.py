"""``SlackSandbox``: a local stand-in for Slack's Web API, served over HTTP on loopback.

Point the real client at it::

    with SlackSandbox() as sandbox:
        sandbox.add_channel("C0READY", "readiness", bot_is_member=True)
        client = WebClient(token=sandbox.token, base_url=sandbox.api_url)
        client.chat_postMessage(channel="C0READY", text="hello")
        assert sandbox.violations == []

Every call is checked against the contract derived from Slack's method reference
(``contract.json``) and Block Kit limits, recorded in ``sandbox.calls``, and answered the
way Slack answers. Broken rules are also listed in ``sandbox.violations``.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import bot.sandbox.methods as methods
import bot.sandbox.surfaces as surfaces
from bot.sandbox.contract import Contract, load_contract
from bot.sandbox.limits import FailurePlan, RateLimiter
from bot.sandbox.oauth import AUTHORIZE_PATH, OAuthProvider
from bot.sandbox.socket_mode import LINK_PATH, SocketModeHub
from bot.sandbox.state import ApiError, CallRecord, SandboxState
from bot.sandbox.wire import WireRequest, parse_request
from bot.sandbox.workspace import WorkspaceMixin

HANDLERS: dict[str, methods.Handler] = {**methods.HANDLERS, **surfaces.HANDLERS}
EARLY_ERRORS = ("unknown_method", "invalid_http_method", "invalid_post_type")
HISTORY_METHODS = ("conversations.history", "conversations.replies")


@dataclass
class Outcome:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @property
    def error(self) -> str | None:
        if isinstance(self.body, dict):
            return None if self.body.get("ok") else self.body.get("error")
        return None if self.status == 200 else str(self.body)


def _error(error: str, messages: list[str] | None = None, status: int = 200,
           headers: dict[str, str] | None = None) -> Outcome:
    body: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        body["response_metadata"] = {"messages": messages}
    return Outcome(status, body, headers or {})


class SlackSandbox(WorkspaceMixin):
    """A Slack Web API stand-in on ``127.0.0.1`` (free port), serving from a background thread."""

    def __init__(
        self,
        token: str = "xoxb-sandbox",
        team_id: str = "T0SANDBOX",
        bot_user_id: str = "U0BOT",
        rate_limits: bool = False,
        *,
        team_domain: str = "sandbox",
        bot_id: str | None = None,
        app_id: str = "A0READY",
        contract: Contract | None = None,
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.rate_limits = rate_limits
        self.contract = contract or load_contract()
        self._state = SandboxState(team_id=team_id, team_domain=team_domain, bot_user_id=bot_user_id,
                                   bot_id=bot_id or "B" + bot_user_id[1:], app_id=app_id)
        self._failures = FailurePlan()
        self._limiter = RateLimiter(self._state.now)
        self._ratelimited: Counter[str] = Counter()
        self._history_window: tuple[int, float] | None = None  # limit_history
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.oauth: OAuthProvider | None = None  # several workspaces and OAuth v2 (enable_oauth)
        self.socket_mode: SocketModeHub | None = None  # the app connects over a WebSocket (enable_socket_mode)

    def enable_socket_mode(self, app_token: str = "xapp-1-sandbox") -> SocketModeHub:
        """Slack's Socket Mode (``bot.sandbox.socket_mode``): ``apps.connections.open`` with ``app_token``."""
        self.socket_mode = SocketModeHub(app_token, self._state.app_id)
        return self.socket_mode

    def enable_oauth(self, client_id: str, client_secret: str, *, token_ttl: int | None = None) -> OAuthProvider:
        """Slack's OAuth v2 and more workspaces than the sandbox's own (``bot.sandbox.oauth``)."""
        self.oauth = OAuthProvider(client_id, client_secret, self._state.app_id, self._state.now, token_ttl)
        return self.oauth

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SlackSandbox:
        if self._httpd is not None:
            return self
        sandbox = self

        class Handler(_RequestHandler):
            pass

        Handler.sandbox = sandbox
        httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd = httpd
        self._state.base_url = self.url
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"slack-sandbox-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        events, self._events = self._events, None
        if events is not None:
            events.close()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` takes."""
        return f"{self.url}/api/"

    # -- failure injection and rate limits -----------------------------------------------------

    def inject_failure(self, method: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` requests to ``method`` fail.

        ``kind``: ``ratelimited`` (429 + Retry-After), ``server_error`` (500), ``error:<code>`` (Slack's
        answer ``{"ok": false, "error": code}``), ``drop`` (connection closed, no answer), ``accept_then_drop``
        (the call takes effect, then the connection is closed without an answer), ``slow:<seconds>`` (answered
        as usual, that much later). ``method`` may also be ``response_url``, ``file_upload`` or ``*``.
        """
        self._failures.add(method, kind, times, retry_after)

    def limit_history(self, per_call: int = 15, calls: int = 1, seconds: float = 60.0) -> None:
        """Slack's limits for apps distributed outside the Slack Marketplace (commercial apps not approved
        there): ``conversations.history`` and ``conversations.replies`` return at most ``per_call`` messages a
        call, and each answers 429 with Retry-After beyond ``calls`` calls per ``seconds`` (Slack: 15 messages,
        one call a minute). A test passes a shorter window to keep its run short."""
        with self._state.lock:
            self._state.history_cap = per_call
            self._history_window = (calls, seconds)

    @property
    def ratelimited_count(self) -> int:
        """How many 429 answers were sent (injected or from rate limiting)."""
        with self._state.lock:
            return sum(self._ratelimited.values())

    @property
    def ratelimited_by_method(self) -> dict[str, int]:
        with self._state.lock:
            return dict(self._ratelimited)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (trigger expiry, response URL expiry, rate limits)."""
        with self._state.lock:
            self._state.clock_offset += seconds

    # -- request handling -------------------------------------------------------------------------

    def _handle(self, request: WireRequest) -> Outcome:
        path = request.path
        if path.startswith("/api/"):
            return self._api(request, path[len("/api/"):])
        if path.startswith("/response/") and request.verb == "POST":
            return self._simple("response_url", request, self._response_url)
        if path.startswith("/upload/") and request.verb == "POST":
            return self._simple("file_upload", request, self._upload)
        if path == AUTHORIZE_PATH and self.oauth is not None:
            status, page, headers = self.oauth.page(request)
            return Outcome(status, page, {"Content-Type": "text/html; charset=utf-8", **headers})
        return Outcome(404, {"ok": False, "error": "not_found"})

    def _injected(self, method: str, kind: str, retry_after: int) -> Outcome:
        if kind == "ratelimited":
            with self._state.lock:
                self._ratelimited[method] += 1
            return _error("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        if kind == "server_error":
            return _error("fatal_error", status=500)
        if kind.startswith("error:"):  # a Slack error answer; the error must be one the method documents
            return _error(kind.removeprefix("error:"))
        return Outcome(0, None, drop=True)

    def _record(self, method: str, request: WireRequest, args: dict[str, Any], outcome: Outcome) -> None:
        error: str | None
        if outcome.body is None:  # dropped before doing anything
            ok, error = False, "connection_dropped"
        else:
            error = outcome.error
            ok = error is None and outcome.status < 400
        self._state.record(CallRecord(method=method, http_method=request.verb, args=args, ok=ok, error=error,
                                      response=outcome.body, timestamp=time.time(), status=outcome.status,
                                      dropped=outcome.drop, received=request.received))

    def _api(self, request: WireRequest, method: str) -> Outcome:
        args = methods.decode_args(request.api_args())
        failure = self._failures.take(method)
        if failure is not None and failure.kind.startswith("slow:"):  # a slow Slack: the answer comes late
            time.sleep(float(failure.kind.removeprefix("slow:")))
            failure = None
        if failure is not None and failure.kind != "accept_then_drop":
            outcome = self._injected(method, failure.kind, failure.retry_after)
        else:
            outcome = self._evaluate(method, request, args)
            if failure is not None:
                outcome.drop = True
        self._record(method, request, args, outcome)
        return outcome

    def _violation(self, method: str, error: str, messages: list[str], **kwargs: Any) -> Outcome:
        for message in messages or [error]:
            self._state.violate(method, error, message.removeprefix("[ERROR] "))
        return _error(error, messages, **kwargs)

    def _evaluate(self, method: str, request: WireRequest, args: dict[str, Any]) -> Outcome:
        if request.parse_error:
            error = "invalid_json" if request.is_json else "invalid_form_data"
            return self._violation(method, error, [f"[ERROR] {request.parse_error}"])
        problems = self.contract.check_call(method, args, http_method=request.verb, json_body=request.is_json)
        if problems and problems[0].error in EARLY_ERRORS:
            return self._violation(method, problems[0].error, [f"[ERROR] {problems[0].message}"])
        spec = self.contract.get(method)
        assert spec is not None
        token: str | None = None
        if spec.token_required:
            token = request.bearer_token or request.body_token()
            if token is None:
                detail = "no token: send it as 'Authorization: Bearer <token>'"
                if "token" in request.query:
                    detail = "a token in the query string is not accepted; send it as a Bearer header"
                elif request.is_json and isinstance(request.json_body, dict) and "token" in request.json_body:
                    detail = "a token inside a JSON body is not accepted; send it as a Bearer header"
                return self._violation(method, "not_authed", [f"[ERROR] {detail}"])
            if self.socket_mode is not None and (method == "apps.connections.open" or
                                                 token == self.socket_mode.app_token):
                return self._connections_open(method, token)
            if token != self.token and self.oauth is None:
                return self._violation(method, "invalid_auth", ["[ERROR] the token is not the sandbox's bot token"])
            refused = None
            if self.oauth is not None:  # several workspaces: the token's own, and nothing of another's
                refused = (self.oauth.refusal(token) if token != self.token else None) or \
                    self.oauth.crossing(self._state, method, token, args)
            if refused is not None:
                return self._refused(method, refused)
        if method in HISTORY_METHODS and self._history_window is not None:
            retry_after = self._limiter.check_window(method, *self._history_window)
            if retry_after is not None:
                with self._state.lock:
                    self._ratelimited[method] += 1
                return _error("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        if self.rate_limits:
            retry_after = self._limiter.check(method, spec.rate_tier, channel=str(args.get("channel") or ""))
            if retry_after is not None:
                with self._state.lock:
                    self._ratelimited[method] += 1
                return _error("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        fatal = [p for p in problems if p.fatal]
        warnings = [p for p in problems if not p.fatal]
        for warning in warnings:
            self._state.violate(method, warning.error, warning.message)
        if fatal:
            return self._violation(method, fatal[0].error, [f"[ERROR] {p.message}" for p in fatal])
        payload_error = methods.payload_problems(method, args)
        if payload_error is not None:
            return self._violation(method, payload_error.error, payload_error.messages)
        for mention in methods.broadcast_mentions(args):
            self._state.violate(method, "broadcast_mention", f"the text holds {mention}>: a ping nobody asked for")
        try:
            special = self.oauth.answer(method, request, token, args) if self.oauth is not None else None
        except ApiError as exc:
            return self._refused(method, exc)
        if special is not None:
            return Outcome(200, {"ok": True, **special})
        handler = HANDLERS.get(method)
        if handler is None:
            return self._violation(method, "sandbox_unsupported_method",
                                   [f"[ERROR] {method} is a real Slack method, but the sandbox does not implement it"])
        try:
            result = handler(self._state, args)
        except ApiError as exc:
            return self._refused(method, exc)
        if self.oauth is not None and token is not None:
            self.oauth.stamp(self._state, token, result)
        if method == "conversations.join" and not result.get("already_in_channel"):  # Slack tells the app
            with self._state.lock:
                joined = self._state.channels[str(result["channel"]["id"])]
            self._bot_joined(joined, team_id=self.oauth.team_of(token) if self.oauth and token else None)
        said = [w.error for w in warnings] + list(result.pop(methods.WARNINGS, []))
        body: dict[str, Any] = {"ok": True, **result}
        if said:
            body["warning"] = ",".join(said)
            body.setdefault("response_metadata", {})["warnings"] = said
        return Outcome(200, body)

    def _connections_open(self, method: str, token: str) -> Outcome:
        """Only the app-level token opens a Socket Mode connection, and it is good for nothing else."""
        assert self.socket_mode is not None
        if method != "apps.connections.open" or token != self.socket_mode.app_token:
            return self._violation(method, "invalid_auth", ["[ERROR] apps.connections.open takes the app-level token "
                                                            "(xapp-), and that token serves no other method"])
        return Outcome(200, {"ok": True, "url": self.socket_mode.open_url(self.url)})

    def _refused(self, method: str, exc: ApiError) -> Outcome:
        if exc.violation:
            return self._violation(method, exc.error, exc.messages or [exc.error], status=exc.status)
        if not self.contract.documents_error(method, exc.error):  # the sandbox keeps to the reference too
            self._state.violate(method, "sandbox_undocumented_error",
                                f"the sandbox answered {exc.error}, which Slack's reference does not list")
        return _error(exc.error, exc.messages, status=exc.status)

    def _simple(self, name: str, request: WireRequest, action: Callable[[WireRequest], tuple[int, Any, dict[str, Any]]]
                ) -> Outcome:
        failure = self._failures.take(name)
        args: dict[str, Any] = {}
        if failure is not None and failure.kind != "accept_then_drop":
            outcome = self._injected(name, failure.kind, failure.retry_after)
        else:
            status, body, args = action(request)
            outcome = Outcome(status, body, {"Content-Type": "text/plain"} if isinstance(body, str) else {})
            outcome.drop = failure is not None
        self._record(name, request, args, outcome)
        return outcome

    def _response_url(self, request: WireRequest) -> tuple[int, Any, dict[str, Any]]:
        token = request.path.rsplit("/", 1)[-1]
        try:
            body = request.json_body if request.is_json else json.loads(request.body.decode("utf-8") or "null")
        except ValueError:
            body = None
        status, answer = surfaces.post_response(self._state, token, body)
        return status, answer, body if isinstance(body, dict) else {"raw": request.body.decode("utf-8", "replace")}

    def _upload(self, request: WireRequest) -> tuple[int, Any, dict[str, Any]]:
        file_id = request.path.rsplit("/", 1)[-1]
        content = next(iter(request.uploads.values())) if request.uploads else request.body
        status, text = surfaces.receive_upload(self._state, file_id, content)
        return status, text, {"file_id": file_id, "length": len(content)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 stalls concurrent clients on SYN retries


class _RequestHandler(BaseHTTPRequestHandler):
    sandbox: SlackSandbox
    server_version = "SlackSandbox/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("POST")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self, verb: str) -> None:
        hub = self.sandbox.socket_mode
        if verb == "GET" and hub is not None and self.path.startswith(LINK_PATH) and \
                (self.headers.get("Upgrade") or "").lower() == "websocket":
            hub.serve(self.path, dict(self.headers.items()), self.rfile, self.wfile)  # type: ignore[arg-type]
            self.close_connection = True
            return
        body = self._read_body()
        received = time.monotonic()
        request = parse_request(verb, self.path, dict(self.headers.items()), body)
        request.received = received
        try:
            outcome = self.sandbox._handle(request)
        except Exception:  # a sandbox bug must be loud, not a hung client
            detail = traceback.format_exc(limit=5)
            self.sandbox._state.violate(request.path, "sandbox_internal_error", detail)
            outcome = _error("sandbox_internal_error", [detail.splitlines()[-1]], status=500)
        if outcome.drop:
            self.close_connection = True
            return
        if isinstance(outcome.body, bytes | str):
            payload = outcome.body.encode("utf-8") if isinstance(outcome.body, str) else outcome.body
            content_type = outcome.headers.get("Content-Type", "text/plain; charset=utf-8")
        else:
            payload = json.dumps(outcome.body).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(outcome.status)
        self.send_header("Content-Type", content_type)
        for name, value in outcome.headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
