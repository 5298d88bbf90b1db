"""`make bench`: ack latency of Readiness over HTTP on loopback, against a bare bolt app in the same run.

For SQLite and (when reachable) PostgreSQL: a signed slash command (`/readiness start`) and a signed
button click (an item's No button) at 1, 10 and 50 concurrent clients; p50/p95/p99 of the time to the
ack, and the server's peak RSS after 10,000 requests. Figures are printed as ratios against the bare
app measured in the same process run, never asserted as timings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from multiprocessing.managers import BaseManager  # noqa: E402
from typing import Any  # noqa: E402

from bot.sandbox.driver import SlackDriver  # noqa: E402
from bot.sandbox.server import SlackSandbox  # noqa: E402

TOKEN, SECRET, TEAM = "xoxb-bench", "bench-signing-secret", "T0BENCH"
LEAD, CHANNEL, RELEASE = "U0LEAD", "C0BENCH", "C0RELEASE"
LEVELS = {1: 200, 10: 1000, 50: 2000}
if os.environ.get("BENCH_QUICK"):
    LEVELS = {1: 50, 10: 200, 50: 400}
TOTAL_FOR_RSS = 2_000 if os.environ.get("BENCH_QUICK") else 10_000
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class HostedSandbox(SlackSandbox):
    """The sandbox in a process of its own, so its checks of the app's Web API calls cost the load client nothing."""

    def boot(self) -> str:
        self.start()
        self.add_channel(CHANNEL, "bench", bot_is_member=True)
        self.add_channel(RELEASE, "release", bot_is_member=True)
        self.add_user(LEAD, "lead")
        return self.api_url

    def domain(self) -> str:
        return self.team_domain

    def count_calls(self, method: str) -> int:
        return len(self.calls_to(method))

    def last_view_id(self) -> str:
        return str(self.calls_to("views.open")[-1].response["view"]["id"])

    def message_with_block(self, channel: str, block_id: str) -> str | None:
        for message in self.all_messages(channel):
            if any(b.get("block_id") == block_id for b in message.get("blocks") or []):
                return str(message["ts"])
        return None

    def message_count(self, channel: str) -> int:
        return len(self.all_messages(channel))

    def bot_user(self) -> str:
        return self.bot_user_id

    def violation_count(self) -> int:
        return len(self.violations)

    def violation_sample(self) -> list[str]:
        return [str(v) for v in self.violations[:3]]


FORWARDED = ["issue_trigger_id", "new_response_url", "channel_info", "user_info", "find_message",
             "apply_command_response", "apply_view_response", "record_violation", "view", "is_view_open",
             "view_owner", "remember_view_state", "close_view", "dm_channel", "home_view"]


class SandboxHost(BaseManager):
    pass


SandboxHost.register("Sandbox", HostedSandbox, exposed=[*FORWARDED, "boot", "domain", "count_calls", "last_view_id",
                                                      "message_with_block", "message_count", "bot_user",
                                                      "violation_count", "violation_sample", "stop"])


class RemoteSandbox:
    """What the driver needs of a sandbox, forwarded to the one in the other process."""

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.api_url = proxy.boot()
        self.team_domain = proxy.domain()
        self.bot_user_id = proxy.bot_user()

    def __getattr__(self, name: str) -> Any:
        if name in FORWARDED:
            return getattr(self.proxy, name)
        raise AttributeError(name)


@dataclass
class Stats:
    p50: float
    p95: float
    p99: float
    cpu_ms: float = 0.0
    sandbox_cpu_ms: float = 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ServerProcess:
    def __init__(self, mode: str, database_url: str, api_url: str) -> None:
        cmd = [sys.executable, str(ROOT / "scripts" / "bench_server.py"), "--mode", mode, "--database-url",
               database_url, "--api-url", api_url, "--signing-secret", SECRET, "--token", TOKEN]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (the server's, or the sandbox's: on this machine the Slack
    stand-in shares the cores with the app and the load client, which real Slack would not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError("the app did not do what the benchmark set up")


def set_up_review(sandbox: Any, driver: SlackDriver) -> tuple[str, str]:
    """A real review started through the full app: returns (channel, ts) of the message with s1's buttons."""
    opened = sandbox.proxy.count_calls("views.open")
    driver.slash_command("/readiness", "start bench-system 1.0", user=LEAD, channel=CHANNEL)
    wait_for(lambda: sandbox.proxy.count_calls("views.open") > opened)
    view_id = sandbox.proxy.last_view_id()
    driver.submit_view(LEAD, view_id, {"system": "bench-system", "version": "1.0", "release_channel": RELEASE})
    wait_for(lambda: sandbox.proxy.message_count(CHANNEL) >= 7)
    ts = sandbox.proxy.message_with_block(CHANNEL, "item:s1")
    if ts is None:
        raise RuntimeError("no message with s1")
    return CHANNEL, ts


def load(driver: SlackDriver, kind: str, clients: int, count: int, target: tuple[str, str]) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        if kind == "command":
            response = driver.slash_command("/readiness", "start bench-system 1.0", user=LEAD, channel=CHANNEL)
        else:
            response = driver.click(LEAD, target[0], target[1], "mark_no", block_id="item:s1")
        if response.status != 200:
            raise RuntimeError(f"{kind}: HTTP {response.status}")
        with lock:
            latencies.append(response.elapsed * 1000)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(count)))
    return latencies


def measure(mode: str, database_url: str, sandbox: Any, target: tuple[str, str] | None,  # type: ignore[no-untyped-def]
            sandbox_pid: int):
    server = ServerProcess(mode, database_url, sandbox.api_url)
    try:
        driver = SlackDriver(f"http://127.0.0.1:{server.port}/slack/events", SECRET, sandbox, team_id=TEAM)
        if target is None:
            target = set_up_review(sandbox, driver)
        load(driver, "command", 5, 100, target)  # warm-up
        results: dict[tuple[str, int], Stats] = {}
        sent = 100
        for clients, count in LEVELS.items():
            for kind in ("command", "click"):
                time.sleep(0.5)  # let the previous level's work after the ack finish
                cpu_before, sandbox_before = server.cpu_seconds(), process_cpu_seconds(sandbox_pid)
                values = load(driver, kind, clients, count, target)
                time.sleep(0.5)
                cpu = (server.cpu_seconds() - cpu_before) / count * 1000
                sandbox_cpu = (process_cpu_seconds(sandbox_pid) - sandbox_before) / count * 1000
                sent += count
                results[(kind, clients)] = Stats(pct(values, 0.5), pct(values, 0.95), pct(values, 0.99), cpu,
                                                sandbox_cpu)
        while sent < TOTAL_FOR_RSS:
            batch = min(2000, TOTAL_FOR_RSS - sent)
            load(driver, "click" if sent % 2 else "command", 10, batch, target)
            sent += batch
        time.sleep(1.0)  # let post-ack work finish before reading the peak
        return results, server.peak_rss_mb(), target
    finally:
        server.stop()


def databases() -> list[tuple[str, str]]:
    found = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    if os.environ.get("BENCH_DATABASES", "sqlite,postgresql") == "sqlite":
        return found
    try:
        from sqlalchemy import text

        from bot.db import make_engine, upgrade

        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench CASCADE"))
            conn.execute(text("CREATE SCHEMA bench"))
        bench_url = PG_URL + ("&" if "?" in PG_URL else "?") + "options=-csearch_path%3Dbench"
        bench_engine = make_engine(bench_url)
        upgrade(bench_engine)
        bench_engine.dispose()
        engine.dispose()
        found.append(("postgresql", bench_url))
    except Exception as exc:  # no server: the SQLite figures still stand
        print(f"(PostgreSQL skipped: {type(exc).__name__}: {exc})")
    return found


def main() -> int:
    print("Ack latency over HTTP on loopback (ms), Readiness vs a bare bolt app that only acks")
    print("waitress with 16 threads for both; signed requests from this process; the Slack sandbox that")
    print("answers the app's Web API calls runs in a process of its own.\n")
    for name, url in databases():
        with SandboxHost() as host:
            sandbox = RemoteSandbox(host.Sandbox(token=TOKEN, team_id=TEAM))  # type: ignore[attr-defined]
            pid = host._process.pid  # type: ignore[attr-defined]
            full, full_rss, target = measure("full", url, sandbox, None, pid)
            bare, bare_rss, _ = measure("bare", url, sandbox, target, pid)
            violations = sandbox.proxy.violation_count()
            sample = sandbox.proxy.violation_sample()
            sandbox.proxy.stop()
        print(f"== {name} ==")
        print(f"{'request':<9}{'clients':>8}{'p50':>9}{'p95':>9}{'p99':>9}   {'bare p50':>9}{'p95':>9}{'p99':>9}"
              f"   {'p99 ratio':>9}   {'CPU ms/req':>10} {'bare':>6}   {'sandbox CPU':>11} {'bare':>6}")
        for (kind, clients), s in full.items():
            b = bare[(kind, clients)]
            print(f"{kind:<9}{clients:>8}{s.p50:>9.1f}{s.p95:>9.1f}{s.p99:>9.1f}   {b.p50:>9.1f}{b.p95:>9.1f}"
                  f"{b.p99:>9.1f}   {s.p99 / b.p99:>9.2f}   {s.cpu_ms:>10.2f} {b.cpu_ms:>6.2f}"
                  f"   {s.sandbox_cpu_ms:>11.2f} {b.sandbox_cpu_ms:>6.2f}")
        worst = max(full[(k, 50)].p99 / bare[(k, 50)].p99 for k in ("command", "click"))
        print(f"p99 ratio at 50 clients (worst of command and click): {worst:.2f}  (target <= 1.5)")
        print(f"Slack contract violations during the run: {violations}")
        for line in sample:
            print(f"  e.g. {line[:200]}")
        print(f"peak RSS after {TOTAL_FOR_RSS} requests: {full_rss:.1f} MB vs bare {bare_rss:.1f} MB, "
              f"ratio {full_rss / bare_rss:.2f}  (target <= 1.5)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
