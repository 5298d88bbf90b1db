"""`make bench` (evidence part): push and judge an evidence set of 200 cohorts x 20 metrics, render its scorecard.

Steps, each timed (median of several runs) with its peak of traced memory (tracemalloc, one separate run):
  reference  json.loads of the candidate file and sha256 of its canonical rows (no validation): the yardstick
  parse      parse_evidence: every row checked, the set built and hashed
  push       what `readiness evidence push` does for the baseline, then the candidate: parse, store in a fresh
             SQLite file, judge (a review of the candidate is open, so suggested marks are stored and queued)
  judge      judge(policy, candidate, baseline) alone: 4,000 cells against 4,000 baseline rows
  svg        the packet's cohort-by-metric grid (it shows the 60 worst cohorts and says how many are left out)
  slack tables  the grid as Slack table-block messages (split at 100 rows, 20 cells, 10,000 characters)
Times and memory are printed as figures and as ratios to the reference, never asserted; the process's
peak RSS closes the report. ``BENCH_QUICK=1`` runs fewer repeats.
Usage: python scripts/bench_evidence.py
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.checklist import load_checklist  # noqa: E402
from bot.core.evidence import grid_svg, judge, parse_evidence  # noqa: E402
from bot.core.evidence.metrics import KNOWN_METRICS, Kind  # noqa: E402
from bot.core.evidence.policy import policy_from_data  # noqa: E402
from bot.db import make_engine, session_factory, session_scope, upgrade  # noqa: E402
from bot.services import evidence, policies  # noqa: E402
from bot.services.assessments import StartRequest, start_assessment  # noqa: E402
from handlers.blocks.cohort_table import grid_messages  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
RUNS = 1 if QUICK else 5
COHORTS, SYSTEM, TEAM = 200, "bench-assistant", "T0BENCH"
RATES = [m for m, s in KNOWN_METRICS.items() if s.kind is Kind.RATE and m != "error_rate"]  # 11
LATENCIES = [f"latency_{p}_{stage}" for p in ("p50", "p95", "p99") for stage in ("end_to_end", "model", "retrieval")]
METRICS = RATES + LATENCIES  # 20


def evidence_file(version: str, drift: float, seed: int) -> str:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for c in range(COHORTS):
        cohort = f"tenant=t{c:03d},workflow=w{c % 7}"
        n = rng.choice((80, 400, 1200, 3000))  # some cohorts are too small to judge
        for metric in METRICS:
            if metric in RATES:
                good = KNOWN_METRICS[metric].direction.value == "higher"
                base = rng.uniform(0.88, 0.97) if good else rng.uniform(0.01, 0.08)
                value = min(1.0, max(0.0, base - drift if good else base + drift / 4))
                count = round(value * n)
                rows.append({"cohort": cohort, "metric": metric, "value": count / n, "n": n, "count": count})
            else:
                rows.append({"cohort": cohort, "metric": metric, "value": round(rng.uniform(300, 3000), 1), "n": n})
    return json.dumps({"system": SYSTEM, "version": version, "rows": rows})


def policy() -> Any:
    rules: list[dict[str, Any]] = []
    for metric in RATES:
        good = KNOWN_METRICS[metric].direction.value == "higher"
        rules.append({"metric": metric, **({"floor": 0.85} if good else {"ceiling": 0.12}),
                      "max_regression": {"absolute": 0.02}})
    rules += [{"metric": m, "ceiling": 4000, "max_regression": {"relative": 0.1}} for m in LATENCIES]
    return policy_from_data({"id": "bench", "version": "1", "system": SYSTEM, "min_sample": 200, "rules": rules})


def measure(step: Callable[[], Any], setup: Callable[[], Any] | None = None) -> tuple[float, float]:
    """(median seconds over RUNS untraced runs, traced peak in MB of one more run); ``setup`` runs untimed first.

    Memory is traced in a run of its own: tracemalloc slows allocation-heavy code several times over.
    """
    times = []
    for _ in range(RUNS):
        if setup is not None:
            setup()
        _forget()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    if setup is not None:
        setup()
    _forget()
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return statistics.median(times), peak


def _forget() -> None:
    """Empty the service's caches, so every run parses, judges and renders from scratch."""
    for cache in (evidence._sets, evidence._scorecards):
        with cache.lock:
            cache.clear()
            cache.order.clear()
    policies._records.clear()


def main() -> int:
    baseline_text, candidate_text = evidence_file("1.0", 0.0, 1), evidence_file("2.0", 0.03, 2)
    rows = len(json.loads(candidate_text)["rows"])
    rules = policy()
    baseline = parse_evidence(baseline_text, "json")
    candidate = parse_evidence(candidate_text, "json")
    card = judge(rules, candidate, baseline)
    checklist = load_checklist()
    workdir = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    state: dict[str, Any] = {"n": 0}

    def reference() -> None:
        data = json.loads(candidate_text)
        canonical = json.dumps(sorted(data["rows"], key=lambda r: (r["cohort"], r["metric"])), sort_keys=True)
        hashlib.sha256(canonical.encode()).hexdigest()

    def fresh_database() -> None:
        state["n"] += 1
        path = workdir / f"run{state['n']}.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        state["sessions"] = session_factory(engine)
        with session_scope(state["sessions"]) as s:
            policies.store(s, TEAM, rules, system=SYSTEM, actor="bench")
            start_assessment(s, checklist, StartRequest(team_id=TEAM, system=SYSTEM, version="2.0",
                                                        started_by="U0BENCH", channel_id="C0BENCH"))

    def push() -> None:
        for text in (baseline_text, candidate_text):
            parsed = parse_evidence(text, "json")
            with session_scope(state["sessions"]) as s:
                state["result"] = evidence.push(s, TEAM, parsed, actor="bench")

    steps = [("reference", measure(reference)),
             ("parse", measure(lambda: parse_evidence(candidate_text, "json"))),
             ("push (both sets)", measure(push, setup=fresh_database)),
             ("judge", measure(lambda: judge(rules, candidate, baseline))),
             ("svg", measure(lambda: grid_svg(card))),
             ("slack tables", measure(lambda: grid_messages(f"{SYSTEM} 2.0", card, "")))]
    ref_time, ref_peak = steps[0][1]
    print(f"evidence: {COHORTS} cohorts x {len(METRICS)} metrics = {rows} rows a set; {len(card.cells)} cells judged "
          f"({', '.join(f'{n} {k}' for k, n in card.counts().items() if n)}); median of {RUNS} run(s)")
    print(f"{'step':<18}{'seconds':>9}{'x ref':>8}{'peak MB':>10}{'x ref':>8}")
    for name, (seconds, peak) in steps:
        print(f"{name:<18}{seconds:>9.3f}{seconds / ref_time:>8.1f}{peak:>10.1f}{peak / ref_peak:>8.1f}")
    result = state["result"]
    print(f"push stored #{result.evidence_id} ({result.rows} rows) and {result.suggestions} suggested mark(s); "
          f"{len(grid_messages(SYSTEM, card, ''))} table message(s), SVG {len(grid_svg(card)) / 1024:.0f} KiB")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
