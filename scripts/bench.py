"""`make bench`: time to screen and CPU of Readiness against a plain bolt app doing the same Slack work.

Both servers run in processes of their own, served the same way (waitress, 16 threads), one after the
other against the same Slack sandbox (itself in a process of its own), on SQLite and, when it answers, on
PostgreSQL. For each interaction, signed requests from 1, 10 and 50 concurrent clients:

- `/readiness status`: the answer is in the ack, so time to screen is the time to the ack;
- mark click: an item's No button; on screen when the form arrives: in the `views.open` carrying the click's
  trigger_id, or in the `views.update` that replaces the loading view it opened;
- mark submission: the mark form saved with a new evidence link; on screen when a `chat.update` showing that
  link (or a later one for the same item) arrives;
- App Home opened: on screen when the `views.publish` for that person arrives.

Then the durable floor: the plain app once more, now keeping what it shows in the same database (one upsert
and one read in a transaction per submission; one read for each other interaction). It shows what keeping the
data alone costs on top of the Slack work, since a bot that must not lose an acknowledged mark, and shows what
is stored, cannot do less.

Time to screen is request sent -> that Web API call received by the sandbox (both `time.monotonic()`,
system-wide on Linux). CPU per interaction is the server's user + system CPU over a phase, divided by its
requests, after what the phase caused has reached the sandbox. Peak RSS is read at the end. Figures are
printed with the targets beside them, never asserted. `BENCH_QUICK=1` runs a shorter version.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import statistics
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from benchlib import (
    CHANNEL,
    LEAD,
    QUICK,
    TEAM,
    TOKEN,
    RemoteSandbox,
    SandboxHost,
    ServerProcess,
    databases,
    pct,
    process_cpu_seconds,
    signed_driver,
    wait_for,
)

LEVELS = {1: 30, 10: 100, 50: 200} if QUICK else {1: 200, 10: 1000, 50: 2000}
KINDS = ("status", "click", "submit", "home")
LABELS = {"status": "/readiness status (ack)", "click": "mark click -> form shown",
          "submit": "mark submission -> chat.update", "home": "App Home -> views.publish"}
REVIEWS = 3  # 66 items: one per client at 50 clients, so no two clients mark the same item
P99_TARGET, CPU_TARGET, RSS_TARGET = 1.5, 2.0, 1.5
SCREEN_TIMEOUT = 60.0


@dataclass
class Phase:
    """One interaction at one concurrency: times to screen (ms), CPU per interaction (ms), what was never seen."""

    screen_ms: list[float]
    cpu_ms: float
    sandbox_cpu_ms: float
    unseen: int
    sizes: list[int] = field(default_factory=list)


@dataclass
class Target:
    """Where the bench clicks and marks: the s1 button of the first review, and every other item."""

    click: tuple[str, str]
    items: list[tuple[str, str, str, str]]  # (channel, ts, item id, key shown in the evidence link)


class Run:
    """One server under load: the phases, against one sandbox."""

    def __init__(self, server: ServerProcess, sandbox: RemoteSandbox, sandbox_pid: int) -> None:
        self.server, self.sandbox, self.sandbox_pid = server, sandbox, sandbox_pid
        self.driver = signed_driver(server.port, sandbox)
        self.proxy = sandbox.proxy
        self.seq: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self.users = itertools.count(1)

    # -- set-up ------------------------------------------------------------------------------------------------

    def start_reviews(self) -> Target:
        """Reviews started through the full app, each in a channel of its own."""
        channels = [f"C0REVIEW{k}" for k in range(REVIEWS)]
        self.proxy.add_channels(channels)
        items: list[tuple[str, str, str, str]] = []
        for k, channel in enumerate(channels):
            opened = self.proxy.count_calls("views.open")
            self.driver.slash_command("/readiness", f"start bench-system-{k} 1.0", user=LEAD, channel=channel)
            wait_for(lambda n=opened: self.proxy.count_calls("views.open") > n and self.form_is_open())
            self.driver.submit_view(LEAD, self.proxy.last_view_id(),
                                    {"system": f"bench-system-{k}", "version": "1.0", "release_channel": channel})
            wait_for(lambda ch=channel: len({i for _, i in self.proxy.item_messages(ch)}) >= 22, 30.0)
            items += [(channel, ts, item, f"r{k}-{item}") for ts, item in self.proxy.item_messages(channel)]
        click = next((ch, ts) for ch, ts, item, _ in items if item == "s1")
        return Target(click, [i for i in items if (i[0], i[1], i[2]) != (click[0], click[1], "s1")])

    def form_is_open(self) -> bool:
        """The last modal holds its form (opened with it, or a loading view the form has replaced)."""
        view = self.proxy.view(self.proxy.last_view_id())
        return bool(view and view.get("submit"))

    # -- running a phase ---------------------------------------------------------------------------------------

    def clients(self, clients: int, count: int, one: Any) -> list[Any]:
        """`count` requests from `clients` concurrent clients, each sending its share one after another."""
        out: list[Any] = []
        lock = threading.Lock()

        def client(c: int) -> None:
            for j in range(c, count, clients):
                result = one(c, j)
                with lock:
                    out.append(result)

        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(client, range(clients)))
        return out

    def quiet(self, for_seconds: float = 0.7, timeout: float = 30.0) -> None:
        """Wait until no Web API call has reached the sandbox for a while (post-ack work is done)."""
        deadline = time.monotonic() + timeout
        last, since = self.proxy.call_count(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.proxy.call_count()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= for_seconds:
                return

    def phase(self, kind: str, clients: int, count: int, target: Target) -> Phase:
        prepared = self.prepare_views(clients, count, target) if kind == "submit" else None
        users = [f"U0HOME{next(self.users):05d}" for _ in range(count)] if kind == "home" else []
        self.proxy.add_users(users)
        self.quiet()
        first = self.proxy.call_count()
        cpu, sandbox_cpu = self.server.cpu_seconds(), process_cpu_seconds(self.sandbox_pid)
        if kind == "status":
            sent = self.clients(clients, count, lambda c, j: self.status())
            screen, sizes, unseen = [r.elapsed * 1000 for r in sent], [len(r.body) for r in sent], 0
        else:
            if kind == "click":
                sent = self.clients(clients, count, lambda c, j: self.click(*target.click))
            elif kind == "submit":
                assert prepared is not None
                sent = self.clients(clients, count, lambda c, j: self.submit(*prepared[j]))
            else:
                sent = self.clients(clients, count, lambda c, j: self.home(users[j]))
            screen, sizes, unseen = self.on_screen(kind, sent, first)
        self.quiet()
        used = (self.server.cpu_seconds() - cpu) / count * 1000
        sandbox_used = (process_cpu_seconds(self.sandbox_pid) - sandbox_cpu) / count * 1000
        return Phase(screen, used, sandbox_used, unseen, sizes)

    # -- the interactions --------------------------------------------------------------------------------------

    def check(self, response: Any, what: str) -> Any:
        if response.status != 200:
            raise RuntimeError(f"{what}: HTTP {response.status} {response.body[:200]}")
        return response

    def status(self) -> Any:
        return self.check(self.driver.slash_command("/readiness", "status", user=LEAD, channel=CHANNEL), "status")

    def click(self, channel: str, ts: str, item: str = "s1", action: str = "mark_no",
              value: str | None = None) -> tuple[str, float]:
        response = self.check(self.driver.click(LEAD, channel, ts, action, block_id=f"item:{item}", value=value),
                              "click")
        return response.trigger, response.sent

    def prepare_views(self, clients: int, count: int, target: Target) -> list[tuple[str, str]]:
        """For submission j, a mark form opened (not measured) on the item its client owns; returns
        (view id, evidence link) by j. Client c marks items c, c + clients, ... one after another."""
        plan = []
        for j in range(count):
            c = j % clients
            owned = target.items[c::clients]
            channel, ts, item, key = owned[(j // clients) % len(owned)]
            plan.append((channel, ts, item, f"https://evals.example.com/runs/{key}-n{next(self.seq[key])}"))
        first = self.proxy.call_count()
        def open_form(j: int) -> tuple[int, str]:
            channel, ts, item, _ = plan[j]
            return j, self.click(channel, ts, item, *self.proxy.item_control(channel, ts, item))[0]

        triggers = self.clients(clients, count, lambda c, j: open_form(j))
        wait_for(lambda: self.proxy.count_since(first, "views.open") >= count, SCREEN_TIMEOUT, "forms did not open")
        self.quiet()  # a form built late opens as a loading view, then takes its place
        views = {call["trigger"]: call["view_id"] for call in self.proxy.calls_since(first)
                 if call["method"] == "views.open"}
        by_j = dict(triggers)
        return [(views[by_j[j]], plan[j][3]) for j in range(count)]

    def submit(self, view_id: str, link: str) -> tuple[str, int, float]:
        response = self.check(self.driver.submit_view(LEAD, view_id, {"evidence": link}), "submission")
        key, _, n = link.rsplit("/", 1)[1].rpartition("-n")
        return key, int(n), response.sent

    def home(self, user: str) -> tuple[str, float]:
        return user, self.check(self.driver.app_home_opened(user), "app_home_opened").sent

    # -- what reached the sandbox ------------------------------------------------------------------------------

    def on_screen(self, kind: str, sent: list[Any], first: int) -> tuple[list[float], list[int], int]:
        """Times to screen (ms) of the requests sent, the sizes of the calls that showed them, and how many
        never showed within SCREEN_TIMEOUT."""
        method = {"click": "views.open", "submit": "chat.update", "home": "views.publish"}[kind]
        shown_by = {"click": ("views.open", "views.update")}.get(kind, (method,))
        deadline = time.monotonic() + SCREEN_TIMEOUT
        if kind != "submit":  # one call per request; a submission's may be folded into a later update
            with contextlib.suppress(TimeoutError):
                wait_for(lambda: self.proxy.count_since(first, method) >= len(sent), SCREEN_TIMEOUT)
        while True:
            self.quiet()
            calls = [c for c in self.proxy.calls_since(first) if c["method"] in shown_by and c["ok"]]
            found = self.match(kind, sent, calls)
            if len(found) == len(sent) or time.monotonic() > deadline:
                break
        return [ms for ms, _ in found], [size for _, size in found], len(sent) - len(found)

    @staticmethod
    def match(kind: str, sent: list[Any], calls: list[dict[str, Any]]) -> list[tuple[float, int]]:
        found = []
        if kind == "click":  # the form is on screen when views.open shows it, or the views.update that replaces
            opened = {c["trigger"]: c for c in calls if c["method"] == "views.open"}  # a loading view with it
            updated: dict[str, dict[str, Any]] = {}
            for c in calls:
                if c["method"] == "views.update":
                    updated.setdefault(c["view_id"], c)
            for trigger, at in sent:
                if trigger in opened:
                    form = updated.get(opened[trigger]["view_id"], opened[trigger])
                    found.append(((form["received"] - at) * 1000, form["size"]))
        elif kind == "home":
            by_user = {}
            for c in calls:
                by_user.setdefault(c["user"], c)
            for user, at in sent:
                if user in by_user:
                    found.append(((by_user[user]["received"] - at) * 1000, by_user[user]["size"]))
        else:
            shown: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
            for c in sorted(calls, key=lambda c: c["received"]):
                for key, n in c["runs"]:
                    shown[key].append((c["received"], n, c["size"]))
            for key, n, at in sent:
                hit = next(((rec, size) for rec, m, size in shown[key] if m >= n), None)
                if hit is not None:
                    found.append(((hit[0] - at) * 1000, hit[1]))
        return found


def measure(mode: str, url: str, sandbox: RemoteSandbox, pid: int, target: Target | None,
            sizes: dict[str, int] | None, kinds: tuple[str, ...] = KINDS,
            ) -> tuple[dict[tuple[str, int], Phase], float, Target]:
    extra = ["--sizes", json.dumps(sizes)] if sizes else []
    server = ServerProcess(mode, url, sandbox.api_url, *extra)
    try:
        run = Run(server, sandbox, pid)
        target = target or run.start_reviews()
        results = {}
        for kind in kinds:  # kind by kind: App Homes opened are refreshed on later changes, so they come last
            run.phase(kind, 2, 10, target)  # warm-up, not counted
            for clients, count in LEVELS.items():
                results[(kind, clients)] = run.phase(kind, clients, count, target)
        return results, server.peak_rss_mb(), target
    finally:
        server.stop()


def median_sizes(results: dict[tuple[str, int], Phase]) -> dict[str, int]:
    names = {"status": "status", "click": "form", "submit": "message", "home": "home"}
    return {names[kind]: int(statistics.median(s for (k, _), p in results.items() if k == kind for s in p.sizes))
            for kind in KINDS}


def ratios(full: dict[tuple[str, int], Phase], base: dict[tuple[str, int], Phase], kind: str) -> tuple[float, float]:
    """The worst p99 ratio over the levels, and the CPU ratio over all requests, of ``kind``."""
    worst = max(pct(full[(kind, c)].screen_ms, .99) / pct(base[(kind, c)].screen_ms, .99) for c in LEVELS)
    cpu = sum(full[(kind, c)].cpu_ms * n for c, n in LEVELS.items()) / \
        sum(base[(kind, c)].cpu_ms * n for c, n in LEVELS.items())
    return worst, cpu


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def report(name: str, full: dict[tuple[str, int], Phase], plain: dict[tuple[str, int], Phase],
           rss: tuple[float, float], violations: tuple[int, int], sample: list[str],
           failed: tuple[dict[str, int], dict[str, int]]) -> None:
    print(f"== {name}: time to screen (ms) and server CPU per interaction (ms) ==")
    print(f"{'interaction':<31}{'clients':>7} |{'p50':>8}{'p95':>8}{'p99':>8} |{'plain p50':>10}{'p95':>8}"
          f"{'p99':>8} |{'p99 ratio':>10} |{'CPU':>6}{'plain':>7}{'ratio':>7} |{'unseen':>7}")
    for (kind, clients), s in full.items():
        b = plain[(kind, clients)]
        p99 = pct(s.screen_ms, 0.99) / pct(b.screen_ms, 0.99)
        print(f"{LABELS[kind]:<31}{clients:>7} |{pct(s.screen_ms, .5):>8.1f}{pct(s.screen_ms, .95):>8.1f}"
              f"{pct(s.screen_ms, .99):>8.1f} |{pct(b.screen_ms, .5):>10.1f}{pct(b.screen_ms, .95):>8.1f}"
              f"{pct(b.screen_ms, .99):>8.1f} |{p99:>10.2f} |{s.cpu_ms:>6.2f}{b.cpu_ms:>7.2f}"
              f"{s.cpu_ms / b.cpu_ms:>7.2f} |{s.unseen:>4}/{b.unseen}")
    print(f"\n{'interaction':<31}{'worst p99 ratio':>16}{'(<= 1.5)':>10}{'CPU ratio':>11}{'(<= 2.0)':>10}"
          f"{'size shown':>12}{'plain':>7}")
    full_sizes, plain_sizes = median_sizes(full), median_sizes(plain)
    for kind, size_name in zip(KINDS, ("status", "form", "message", "home"), strict=True):
        worst, cpu = ratios(full, plain, kind)
        print(f"{LABELS[kind]:<31}{worst:>16.2f}{verdict(worst <= P99_TARGET):>10}{cpu:>11.2f}"
              f"{verdict(cpu <= CPU_TARGET):>10}{full_sizes[size_name]:>12}{plain_sizes[size_name]:>7}")
    sandbox_full = sum(p.sandbox_cpu_ms for p in full.values()) / len(full)
    sandbox_plain = sum(p.sandbox_cpu_ms for p in plain.values()) / len(plain)
    print(f"sandbox CPU per interaction (shares these cores, unlike Slack): {sandbox_full:.2f} ms vs plain "
          f"{sandbox_plain:.2f} ms")
    print(f"peak RSS after the run: {rss[0]:.1f} MB vs plain {rss[1]:.1f} MB, ratio {rss[0] / rss[1]:.2f} "
          f"(<= {RSS_TARGET}: {verdict(rss[0] / rss[1] <= RSS_TARGET)})")
    print(f"Slack contract violations: {violations[0]} with Readiness, {violations[1]} with the plain app")
    for line in sample:
        print(f"  e.g. {line[:200]}")
    for app, refused in zip(("Readiness", "the plain app"), failed, strict=True):
        if refused:
            print(f"Web API calls Slack refused with {app}: " + ", ".join(f"{k} x{n}" for k, n in refused.items()))
    print()


def report_durable(name: str, full: dict[tuple[str, int], Phase], plain: dict[tuple[str, int], Phase],
                   durable: dict[tuple[str, int], Phase]) -> None:
    """Each interaction against the durable floor: the plain app keeping what it shows in the database."""
    print(f"== {name}: against the durable floor (the plain app keeping what it shows in {name}) ==")
    print(f"{'interaction':<31}{'clients':>7} |{'floor p50':>10}{'p95':>8}{'p99':>8}{'CPU':>7} |"
          f"{'Readiness p99':>14}{'CPU':>7} |{'plain p99':>10}{'CPU':>7}")
    for (kind, clients), d in durable.items():
        f, p = full[(kind, clients)], plain[(kind, clients)]
        print(f"{LABELS[kind]:<31}{clients:>7} |{pct(d.screen_ms, .5):>10.1f}{pct(d.screen_ms, .95):>8.1f}"
              f"{pct(d.screen_ms, .99):>8.1f}{d.cpu_ms:>7.2f} |{pct(f.screen_ms, .99):>14.1f}{f.cpu_ms:>7.2f} |"
              f"{pct(p.screen_ms, .99):>10.1f}{p.cpu_ms:>7.2f}")
    print(f"\n{'interaction':<31}{'floor / plain: p99':>19}{'CPU':>7}{'Readiness / floor: p99':>24}{'CPU':>7}"
          f"  (targets: p99 <= {P99_TARGET}, CPU <= {CPU_TARGET})")
    for kind in dict.fromkeys(k for k, _ in durable):
        floor_p99, floor_cpu = ratios(durable, plain, kind)
        own_p99, own_cpu = ratios(full, durable, kind)
        print(f"{LABELS[kind]:<31}{floor_p99:>19.2f}{floor_cpu:>7.2f}{own_p99:>24.2f}{own_cpu:>7.2f}")
    unseen = sum(p.unseen for p in durable.values())
    print(f"durable floor: {unseen} interaction(s) never shown\n")


def main() -> int:
    print("Time to screen over HTTP on loopback: Readiness vs a plain bolt app doing the same Slack work")
    print("(waitress with 16 threads for both; signed requests from this process; the Slack sandbox runs in a")
    print(f"process of its own; {'BENCH_QUICK: ' if QUICK else ''}requests per level {LEVELS}).\n")
    for name, url in databases():
        with SandboxHost() as host:
            sandbox = RemoteSandbox(host.Sandbox(token=TOKEN, team_id=TEAM))  # type: ignore[attr-defined]
            pid = host._process.pid  # type: ignore[attr-defined]
            full, full_rss, target = measure("full", url, sandbox, pid, None, None)
            after_full, calls_full = sandbox.proxy.violation_count(), sandbox.proxy.call_count()
            failed_full = sandbox.proxy.failed_calls()
            plain, plain_rss, _ = measure("plain", url, sandbox, pid, target, median_sizes(full))
            violations = (after_full, sandbox.proxy.violation_count() - after_full)
            sample = sandbox.proxy.violation_sample()
            failed = (failed_full, sandbox.proxy.failed_calls(calls_full))
            durable, _, _ = measure("durable", url, sandbox, pid, target, median_sizes(full))
            sandbox.proxy.stop()
        report(name, full, plain, (full_rss, plain_rss), violations, sample, failed)
        report_durable(name, full, plain, durable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
