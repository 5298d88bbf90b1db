"""`make mutate`: mutation testing of the pure core's rules with mutmut, and what it found.

mutmut (configured in pyproject.toml, ``[tool.mutmut]``) copies the tree to ``mutants/``, mutates the
seven modules below and runs, for each mutant, the tests under ``tests/core`` that reach the mutated
function. This script starts from a fresh ``mutants/`` (``--keep`` reuses it: only changed functions are
run again), runs mutmut, then prints per module and in total how many mutants the tests killed, and lists
every survivor with its mutated line. A survivor that no test can kill (an equivalent mutant) is listed in
``tests/core/mutation-equivalents.md`` with the reason; the list is checked against this run, so a stale
entry or an unexplained survivor shows up.

Exit status: 0 when at least 90% of the mutants were killed and every survivor is explained, else 1.
Slow (minutes), so it is not part of ``make test`` or CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = [
    "bot/core/scoring.py",
    "bot/core/checklist.py",
    "bot/core/marking.py",
    "bot/core/reminder_plan.py",
    "bot/core/evidence/stats.py",
    "bot/core/evidence/judge.py",
    "bot/core/packet/links.py",
]
EQUIVALENTS = ROOT / "tests/core/mutation-equivalents.md"
TARGET = 0.90
# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code): a failing test run is a kill.
KILLED = {1, 3}
TIMEOUT = {24, -24, 36, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class Module:
    path: str
    total: int = 0
    killed: int = 0
    timeout: int = 0
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (mutant, status)

    @property
    def detected(self) -> int:
        return self.killed + self.timeout


def run_mutmut(jobs: int, keep: bool) -> None:
    mutants = ROOT / "mutants"
    if mutants.exists() and not keep:
        shutil.rmtree(mutants)
    log = ROOT / "mutants.log"
    print(f"mutmut run over {len(MODULES)} modules with {jobs} workers (progress in {log.name}) ...", flush=True)
    with log.open("w") as out:
        code = subprocess.call([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
                               cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"mutmut run failed with exit code {code}:\n{tail}")
    shutil.move(log, mutants / "run.log")


def results() -> list[Module]:
    modules = []
    for path in MODULES:
        meta = ROOT / "mutants" / (path + ".meta")
        if not meta.exists():
            sys.exit(f"{meta} is missing: did mutmut mutate {path}? (see [tool.mutmut] in pyproject.toml)")
        module = Module(path)
        for name, code in sorted(json.loads(meta.read_text())["exit_code_by_key"].items(), key=_natural):
            module.total += 1
            if code in KILLED:
                module.killed += 1
            elif code in TIMEOUT:
                module.timeout += 1
            else:
                status = ("survived" if code in SURVIVED else "no tests" if code in NO_TESTS
                          else "not run" if code is None else f"exit code {code}")
                module.survivors.append((name, status))
        modules.append(module)
    return modules


def _natural(item: tuple[str, object]) -> tuple[str, int]:
    name, number = item[0].rpartition("__mutmut_")[::2]
    return name, int(number) if number.isdigit() else 0


def mutated_line(name: str) -> str:
    """The mutant's changed line(s), as ``mutmut show`` prints them (``+`` lines of its diff)."""
    shown = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT, capture_output=True,
                           text=True, check=False).stdout
    added = [line[1:].strip() for line in shown.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return " / ".join(added) if added else "(a line removed)"


ROW = re.compile(r"^\|\s*`(?P<name>[^`]+)`\s*\|\s*`(?P<line>.*)`\s*\|\s*(?P<reason>.+?)\s*\|\s*$")


def equivalents() -> dict[str, tuple[str, str]]:
    """mutant name -> (mutated line, reason), from the table in tests/core/mutation-equivalents.md."""
    found: dict[str, tuple[str, str]] = {}
    if EQUIVALENTS.exists():
        for line in EQUIVALENTS.read_text().splitlines():
            match = ROW.match(line)
            if match:
                found[match["name"]] = (match["line"].replace("\\|", "|"), match["reason"].replace("\\|", "|"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ from the last run")
    parser.add_argument("--report-only", action="store_true", help="only report the last run")
    args = parser.parse_args()
    if not args.report_only:
        run_mutmut(args.jobs, args.keep)
    modules = results()
    known = equivalents()

    print()
    print(f"{'module':34} {'mutants':>7} {'killed':>7} {'survived':>8} {'score':>7}")
    for m in modules:
        print(f"{m.path:34} {m.total:7} {m.detected:7} {len(m.survivors):8} {m.detected / m.total:7.1%}")
    total = sum(m.total for m in modules)
    detected = sum(m.detected for m in modules)
    timeouts = sum(m.timeout for m in modules)
    print(f"{'total':34} {total:7} {detected:7} {total - detected:8} {detected / total:7.1%}")
    if timeouts:
        print(f"(killed includes {timeouts} mutant(s) whose tests ran past mutmut's time limit)")

    unexplained: list[str] = []
    stale: list[str] = []
    survivors = [(name, status) for m in modules for name, status in m.survivors]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}):")
    for name, status in survivors:
        line = mutated_line(name)
        entry = known.get(name)
        if entry is None:
            unexplained.append(name)
            print(f"  {name} [{status}]\n      {line}\n      UNEXPLAINED: kill it with a test, or list it in {EQUIVALENTS.name}")
        elif entry[0] != line:
            stale.append(name)
            print(f"  {name} [{status}]\n      {line}\n      STALE: {EQUIVALENTS.name} lists it as `{entry[0]}`")
        else:
            print(f"  {name} [{status}]\n      {line}\n      equivalent: {entry[1]}")
    gone = sorted(set(known) - {name for name, _ in survivors})
    for name in gone:
        print(f"  listed in {EQUIVALENTS.name} but not a survivor any more (killed or renumbered): {name}")

    score = detected / total
    explained = len(survivors) - len(unexplained) - len(stale)
    print(f"\nmutation score: {score:.1%} ({detected} of {total} killed); "
          f"{explained} survivor(s) explained as equivalent, {len(unexplained) + len(stale)} not")
    ok = score >= TARGET and not unexplained and not stale and not gone
    if not ok:
        print(f"FAIL: the target is {TARGET:.0%} killed and every survivor explained")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
