"""Where a request's time goes: cProfile over signed `/readiness status` commands, mark clicks, mark
submissions and first App Home openings handled by the full app on SQLite and, when it answers, on PostgreSQL
(`BENCH_DATABASES=sqlite` for SQLite alone), in this process.

The requests go straight to the app's WSGI entry (no HTTP server), and the work after the ack runs inline,
in the same thread, so the profile holds all of it; a submission's profile includes the delivery sweep that
updates the review's messages. The Slack sandbox answers the app's Web API calls over loopback HTTP from
threads of its own (its work is not in the profile; the app's wait for it is). Prints, per interaction, the
app's own frames by cumulative time per request, then the frames anywhere (libraries included) that spend
the most time themselves. `BENCH_QUICK=1` profiles fewer requests.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

from benchlib import (
    CHANNEL,
    LEAD,
    QUICK,
    RELEASE,
    ROOT,
    SECRET,
    TEAM,
    TOKEN,
    databases,
    item_control,
    wait_for,
)

from bot.executor import ListenerExecutor
from bot.sandbox.driver import DriverResponse, SlackDriver
from bot.sandbox.server import SlackSandbox

REQUESTS = 40 if QUICK else 200
APP_FRAMES, OWN_FRAMES = 15, 8
APP_DIRS = tuple(str(ROOT / d) + "/" for d in ("bot", "handlers", "scheduler", "models"))
NOT_APP = (str(ROOT / "bot" / "sandbox") + "/",)


class InlineExecutor(ListenerExecutor):
    """The work after the ack, run at once in the request's thread, so one profile sees it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, as a pool would
            future.set_exception(exc)
        return future


class InProcessDriver(SlackDriver):
    """Signed requests handed to a WSGI app in this thread instead of sent over HTTP."""

    def __init__(self, wsgi: Any, sandbox: SlackSandbox) -> None:
        super().__init__("http://in-process/slack/events", SECRET, sandbox, team_id=TEAM)
        self.wsgi = wsgi
        self.profiler: cProfile.Profile | None = None  # on only while the app handles a request

    def handle(self, environ: dict[str, Any], start_response: Any) -> bytes:
        if self.profiler is None:
            return b"".join(self.wsgi(environ, start_response))
        self.profiler.enable()
        try:
            return b"".join(self.wsgi(environ, start_response))
        finally:
            self.profiler.disable()

    def send_raw(self, body: bytes, headers: dict[str, str]) -> DriverResponse:
        environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events",
                                   "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": headers["Content-Type"],
                                   "wsgi.input": io.BytesIO(body)}
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        setup_testing_defaults(environ)
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

        raw = self.handle(environ, start_response)
        text = raw.decode("utf-8", "replace")
        parsed = json.loads(text) if text.strip()[:1] == "{" else None
        return DriverResponse(answer["status"], answer["headers"], text, parsed)


class Bench:
    """The full app on a fresh SQLite database, a sandbox, and a review started through the app."""

    def __init__(self, url: str | None = None) -> None:
        from pydantic import SecretStr

        from bot.app import build_app
        from bot.db import ensure_schema, make_engine, session_factory
        from bot.settings import Settings
        from bot.web.server import WebApp
        from scheduler import build_delivery

        self.sandbox = SlackSandbox(token=TOKEN, team_id=TEAM).start()
        self.sandbox.add_channel(CHANNEL, "bench", bot_is_member=True)
        self.sandbox.add_channel(RELEASE, "release", bot_is_member=True)
        self.sandbox.add_user(LEAD, "lead")
        url = url or f"sqlite:///{tempfile.mkdtemp()}/profile.db"
        settings = Settings(slack_bot_token=SecretStr(TOKEN), slack_signing_secret=SecretStr(SECRET),
                            slack_api_url=self.sandbox.api_url, database_url=url)
        engine = make_engine(url)
        ensure_schema(engine)
        self.delivery = build_delivery(settings, session_factory(engine))
        app = build_app(settings, engine=engine, kick=self.delivery.deliverer.kick, executor=InlineExecutor())
        self.driver = InProcessDriver(WebApp(app, engine, settings=settings), self.sandbox)
        self.driver.slash_command("/readiness", "start bench-system 1.0", user=LEAD, channel=CHANNEL)
        view_id = self.sandbox.calls_to("views.open")[-1].response["view"]["id"]
        self.driver.submit_view(LEAD, view_id, {"system": "bench-system", "version": "1.0",
                                                "release_channel": RELEASE})
        self.delivery.deliverer.sweep()
        wait_for(lambda: self.ts_of("s2") is not None)
        self.evidence = 0

    def ts_of(self, item: str) -> str | None:
        for message in self.sandbox.all_messages(CHANNEL):
            if any(b.get("block_id") == f"item:{item}" for b in message.get("blocks") or []):
                return str(message["ts"])
        return None

    def ok(self, response: DriverResponse, what: str) -> None:
        if response.status != 200:
            raise RuntimeError(f"{what}: HTTP {response.status} {response.body[:200]}")

    def status(self, _: object) -> None:
        self.ok(self.driver.slash_command("/readiness", "status", user=LEAD, channel=CHANNEL), "status")

    def click(self, item: str = "s1") -> str:
        ts = self.ts_of(item)
        assert ts is not None
        action, value = item_control(self.sandbox.all_messages(CHANNEL), ts, item)
        self.ok(self.driver.click(LEAD, CHANNEL, ts, action, block_id=f"item:{item}", value=value), "click")
        return str(self.sandbox.calls_to("views.open")[-1].response["view"]["id"])

    def open_form(self, _: int) -> str:
        return self.click("s2")

    def submit(self, view_id: str) -> None:
        self.evidence += 1
        link = f"https://evals.example.com/runs/profile-{self.evidence}"
        self.ok(self.driver.submit_view(LEAD, view_id, {"evidence": link}), "submission")
        profiler = self.driver.profiler
        if profiler is not None:
            profiler.enable()
        self.delivery.deliverer.sweep()  # the refresh that shows the mark on the review's message, if still owed
        if profiler is not None:
            profiler.disable()

    def home(self, user: str) -> None:
        """A person opens the App Home for the first time: the ack, then the desk drawn and published."""
        self.sandbox.add_user(user, user.lower())
        self.ok(self.driver.app_home_opened(user), "app_home_opened")
        profiler = self.driver.profiler
        if profiler is not None:
            profiler.enable()
        self.delivery.deliverer.sweep()  # anything the opening owed
        if profiler is not None:
            profiler.disable()

    def stop(self) -> None:
        self.delivery.deliverer.stop()
        self.sandbox.stop()


def profile(bench: Bench, n: int, prepare: Callable[[int], Any], act: Callable[[Any], None]) -> pstats.Stats:
    """`act` n times; only the app's handling of the requests (and the sweep) is profiled, not the driver's
    building of Slack's payloads."""
    profiler = cProfile.Profile()
    for i in range(n):
        argument = prepare(i)
        bench.driver.profiler = profiler
        try:
            act(argument)
        finally:
            bench.driver.profiler = None
    return pstats.Stats(profiler)


def where(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    path = filename.removeprefix(str(ROOT) + "/")
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({function})" if line else function


def show(title: str, stats: pstats.Stats, n: int) -> None:
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    print(f"-- {title}: {n} requests; ms per request --")
    print(f"{'cumulative':>11}{'own':>8}{'calls':>8}  the app's own frames, by cumulative time")
    ours = [(k, v) for k, v in table.items() if k[0].startswith(APP_DIRS) and not k[0].startswith(NOT_APP)]
    for key, (_, calls, own, cumulative, _) in sorted(ours, key=lambda kv: -kv[1][3])[:APP_FRAMES]:
        print(f"{cumulative / n * 1000:>11.2f}{own / n * 1000:>8.2f}{calls / n:>8.1f}  {where(key)}")
    print(f"{'':>11}{'own':>8}{'calls':>8}  frames anywhere, by their own time")
    anywhere = [(k, v) for k, v in table.items() if not k[0].startswith(NOT_APP) and "sandbox" not in k[0]]
    for key, (_, calls, own, _, _) in sorted(anywhere, key=lambda kv: -kv[1][2])[:OWN_FRAMES]:
        print(f"{'':>11}{own / n * 1000:>8.2f}{calls / n:>8.1f}  {where(key)}")
    print()


def main() -> int:
    for name, url in databases():
        print(f"Profile of the full app on {name} (cProfile, in process, work after the ack inline; "
              f"{REQUESTS} requests each)\n")
        profile_all(Bench(url))
    return 0


def profile_all(bench: Bench) -> None:
    try:
        bench.status(None)  # warm-up: first imports, compiled templates, statement caches
        bench.submit(bench.open_form(0))
        show("/readiness status", profile(bench, REQUESTS, lambda i: None, bench.status), REQUESTS)
        show("mark click (form opened)", profile(bench, REQUESTS, lambda i: "s1", bench.click), REQUESTS)
        show("mark submission (with the sweep that updates the message)",
             profile(bench, REQUESTS, bench.open_form, bench.submit), REQUESTS)
        bench.home("U0HOMEWARM")
        show("App Home opened by someone new (the desk drawn and published)",
             profile(bench, REQUESTS, lambda i: f"U0HOME{i}", bench.home), REQUESTS)
    finally:
        bench.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
