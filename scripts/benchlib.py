"""Shared parts of the `make bench` scripts: the Slack sandbox in a process of its own, signed requests that
know when they were sent, the server processes, the databases, and the figures (percentiles, CPU, RSS).

Times are `time.monotonic()`: on Linux that clock is system-wide, so a send time taken in the load client and
a receive time taken in the sandbox's process can be subtracted.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.sandbox.driver import DriverResponse, SlackDriver  # noqa: E402
from bot.sandbox.server import SlackSandbox  # noqa: E402

TOKEN, SECRET, TEAM = "xoxb-bench", "bench-signing-secret", "T0BENCH"
LEAD, CHANNEL, RELEASE = "U0LEAD", "C0BENCH", "C0RELEASE"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
QUICK = bool(os.environ.get("BENCH_QUICK"))
EVIDENCE_RUN = re.compile(r"runs/(r\d+-[\w-]+?)-n(\d+)\b")


# -- figures ----------------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (the server's, or the sandbox's: on this machine the Slack
    stand-in shares the cores with the app and the load client, which real Slack would not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "the app did not do what the "
             "benchmark set up") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError(what)


# -- signed requests ----------------------------------------------------------------------------------------

class TimedDriver(SlackDriver):
    """A SlackDriver whose answers say when the request left (`sent`, monotonic) and, for interactive payloads,
    which trigger_id it carried (`trigger`): the Web API call that uses that trigger is the one it caused."""

    def send_raw(self, body: bytes, headers: dict[str, str]) -> DriverResponse:
        sent = time.monotonic()
        response = super().send_raw(body, headers)
        response.sent = sent  # type: ignore[attr-defined]
        return response

    def _send_interactive(self, payload: dict[str, Any], **kwargs: Any) -> DriverResponse:
        response = super()._send_interactive(payload, **kwargs)
        response.trigger = payload.get("trigger_id")  # type: ignore[attr-defined]
        return response


def signed_driver(port: int, sandbox: Any, team_id: str = TEAM) -> TimedDriver:
    """Signed Slack requests to a bench server on loopback, built from what the sandbox holds."""
    return TimedDriver(f"http://127.0.0.1:{port}/slack/events", SECRET, sandbox, team_id=team_id, timeout=30.0)


def item_control(messages: list[dict[str, Any]], ts: str, item: str) -> tuple[str, str | None]:
    """How to mark an item No in message `ts` now: (action_id, value) of its `mark_no` button, or of the option
    of its overflow that edits the evidence (or changes the mark to No)."""
    for message in messages:
        if str(message["ts"]) != ts:
            continue
        for block in message.get("blocks") or []:
            if block.get("block_id") != f"item:{item}":
                continue
            for element in block.get("elements") or [block.get("accessory") or {}]:
                if element.get("action_id") == "mark_no":
                    return "mark_no", None
                if element.get("type") == "overflow":
                    for option in element.get("options") or []:
                        if str(option["text"]["text"]).startswith(("Edit the evidence", "Change to No")):
                            return str(element["action_id"]), str(option["value"])
    raise LookupError(f"no control to mark {item} No in message {ts}")


# -- the sandbox in a process of its own -----------------------------------------------------------------------

class HostedSandbox(SlackSandbox):
    """The sandbox in a process of its own, so its checks of the app's Web API calls cost the load client
    nothing. The methods below answer the load client with small summaries, not whole calls."""

    def boot(self) -> str:
        self.start()
        self.add_channel(CHANNEL, "bench", bot_is_member=True)
        self.add_channel(RELEASE, "release", bot_is_member=True)
        self.add_user(LEAD, "lead")
        return self.api_url

    def add_channels(self, ids: list[str]) -> None:
        for channel in ids:
            self.add_channel(channel, channel.lower(), bot_is_member=True)

    def add_users(self, ids: list[str]) -> None:
        for user in ids:
            self.add_user(user, user.lower())

    def domain(self) -> str:
        return self.team_domain

    def bot_user(self) -> str:
        return self.bot_user_id

    def call_count(self) -> int:
        return len(self._state.calls)

    def count_calls(self, method: str) -> int:
        return len(self.calls_to(method))

    def count_since(self, index: int, method: str) -> int:
        with self._state.lock:
            return sum(1 for call in self._state.calls[index:] if call.method == method)

    def last_view_id(self) -> str:
        return str(self.calls_to("views.open")[-1].response["view"]["id"])

    def message_count(self, channel: str) -> int:
        return len(self.all_messages(channel))

    def item_messages(self, channel: str) -> list[tuple[str, str]]:
        """(ts, item id) of every item a message of the channel shows (blocks `item:<id>`)."""
        found = []
        for message in self.all_messages(channel):
            for block in message.get("blocks") or []:
                block_id = str(block.get("block_id") or "")
                if block_id.startswith("item:"):
                    found.append((str(message["ts"]), block_id.removeprefix("item:")))
        return found

    def item_control(self, channel: str, ts: str, item: str) -> tuple[str, str | None]:
        return item_control(self.all_messages(channel), ts, item)

    def calls_since(self, index: int) -> list[dict[str, Any]]:
        """The Web API calls from `index` on, each summed up: method, received, ok, size of what it shows,
        and what ties it to a request (trigger, user, the evidence runs it shows, the view id)."""
        with self._state.lock:
            calls = list(self._state.calls[index:])
        out = []
        for call in calls:
            args = call.args
            shown = args.get("view") if "view" in args else {"text": args.get("text"), "blocks": args.get("blocks")}
            shown_text = json.dumps(shown)
            response = call.response if isinstance(call.response, dict) else {}
            out.append({
                "method": call.method, "received": call.received, "ok": call.ok, "error": call.error, "size": len(shown_text),
                "trigger": args.get("trigger_id"), "user": args.get("user_id"), "ts": args.get("ts"),
                "channel": args.get("channel"),
                "runs": [(key, int(n)) for key, n in EVIDENCE_RUN.findall(shown_text)],
                "view_id": (response.get("view") or {}).get("id"),
            })
        return out

    def failed_calls(self, index: int = 0) -> dict[str, int]:
        """Web API calls from `index` on that Slack refused, by method and error."""
        with self._state.lock:
            calls = list(self._state.calls[index:])
        failed: dict[str, int] = {}
        for call in calls:
            if not call.ok:
                key = f"{call.method}: {call.error}"
                failed[key] = failed.get(key, 0) + 1
        return failed

    def violation_count(self) -> int:
        return len(self.violations)

    def violation_sample(self) -> list[str]:
        return [str(v) for v in self.violations[:3]]


FORWARDED = ["issue_trigger_id", "new_response_url", "channel_info", "user_info", "find_message",
             "apply_command_response", "apply_view_response", "record_violation", "view", "is_view_open",
             "view_owner", "remember_view_state", "close_view", "dm_channel", "home_view", "home_team",
             "bot_user_of"]
SUMMARIES = ["boot", "add_channels", "add_users", "domain", "bot_user", "call_count", "count_calls", "count_since", "last_view_id",
             "message_count", "item_messages", "item_control", "calls_since", "failed_calls", "violation_count", "violation_sample",
             "stop"]


class SandboxHost(BaseManager):
    pass


SandboxHost.register("Sandbox", HostedSandbox, exposed=[*FORWARDED, *SUMMARIES])


class RemoteSandbox:
    """What the driver needs of a sandbox, forwarded to the one in the other process."""

    oauth = None

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.api_url = proxy.boot()
        self.team_domain = proxy.domain()
        self.bot_user_id = proxy.bot_user()
        self.team_id = TEAM

    def __getattr__(self, name: str) -> Any:
        if name in FORWARDED:
            return getattr(self.proxy, name)
        raise AttributeError(name)


# -- servers and databases ------------------------------------------------------------------------------------

class ServerProcess:
    """`scripts/bench_server.py` in a process of its own: the full Readiness app or the plain bolt app."""

    def __init__(self, mode: str, database_url: str, api_url: str, *extra: str) -> None:
        cmd = [sys.executable, str(ROOT / "scripts" / "bench_server.py"), "--mode", mode, "--database-url",
               database_url, "--api-url", api_url, "--signing-secret", SECRET, "--token", TOKEN, *extra]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
                                     env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip():
            raise RuntimeError(f"the {mode} bench server did not start (exit {self.proc.wait()})")
        self.port = int(line)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)


def databases() -> list[tuple[str, str]]:
    """SQLite always; PostgreSQL when it answers and BENCH_DATABASES allows it, in a schema of this process's
    own (`bench_<pid>`, dropped at exit), so benches run side by side never share an outbox."""
    found = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    if os.environ.get("BENCH_DATABASES", "sqlite,postgresql") == "sqlite":
        return found
    schema = f"bench_{os.getpid()}"
    try:
        from sqlalchemy import text

        from bot.db import make_engine, upgrade

        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        bench_url = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
        bench_engine = make_engine(bench_url)
        upgrade(bench_engine)
        bench_engine.dispose()
        atexit.register(_drop_schema, engine, schema)
        found.append(("postgresql", bench_url))
    except Exception as exc:  # no server: the SQLite figures still stand
        print(f"(PostgreSQL skipped: {type(exc).__name__}: {exc})")
    return found


def _drop_schema(engine: Any, schema: str) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()
