"""`readiness evidence import FILE`: an eval tool's own output (promptfoo, Inspect, lm-eval, per-sample CSV or
JSONL) counted into an evidence set, then stored as `evidence push` stores one; and `readiness evidence schema`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from bot.cli.common import EXIT_OK, UsageError

DRY_RUN_LABEL = "dry-run"


def _rows_table(rows: list[dict[str, Any]]) -> list[str]:
    table = [["cohort", "metric", "value", "n", "count"]]
    table += [[r["cohort"], r["metric"], f"{r['value']:.4g}", str(r["n"]), "" if r["count"] is None else str(r["count"])]
              for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table]


def cmd_evidence_import(args: argparse.Namespace, push_and_report: Callable[..., int]) -> int:
    """``push_and_report``: how `evidence push` stores a set and says so (bot.cli.evidence passes its own)."""
    from bot.core.evidence.importers import (
        ImportProblem,
        import_file,
        load_mapping,
        options_from,
        to_evidence,
    )
    from bot.core.evidence.importers.mapping import MAX_MAP_BYTES
    from bot.core.evidence.importers.reading import read_file, text_of

    if not args.dry_run and not (args.system and args.version):
        raise UsageError(f"evidence import {args.file}: give --system and --version (an eval tool's file names "
                         "neither), or --dry-run to see the rows")
    try:
        mapping = None
        if args.map:
            mapping = load_mapping(text_of(read_file(args.map, args.map, MAX_MAP_BYTES), args.map), args.map)
        options = options_from(mapping, cohort=args.cohort, pass_field=args.pass_field, score=args.score,
                               threshold=args.threshold, latency=args.latency, source=args.map or "--cohort")
        found = import_file(args.file, options, args.tool)
        parsed = to_evidence(found, system=args.system or DRY_RUN_LABEL, version=args.version or DRY_RUN_LABEL,
                             source=args.file)
    except ImportProblem as exc:
        raise UsageError(str(exc)) from None
    about = {"format": found.format, "tool": found.tool, "tool_version": found.tool_version}
    if args.dry_run:
        if args.json:
            print(json.dumps(found.as_json()))
            return EXIT_OK
        print(_summary(found, len(parsed.cohorts)) + " (dry run: nothing stored)")
        for note in found.notes:
            print(f"  note: {note}")
        print("\n".join(_rows_table(found.rows)))
        return EXIT_OK
    if not args.json:
        print(_summary(found, len(parsed.cohorts)))
        for note in found.notes:
            print(f"  note: {note}")
    return push_and_report(args, parsed, {"import": {**about, "samples": found.samples,
                                                     "without_cohort": found.without_cohort, "notes": found.notes}})


def _summary(found: Any, cohorts: int) -> str:
    tool = " ".join(p for p in (found.tool or found.format, found.tool_version) if p)
    return f"read {tool}: {found.samples} sample(s) in {cohorts} cohort(s), {len(found.rows)} row(s)"


def cmd_evidence_schema(_args: argparse.Namespace) -> int:
    from bot.core.evidence.evidence_set import evidence_json_schema

    print(json.dumps(evidence_json_schema(), indent=2))
    return EXIT_OK


def add_import(esub: Any, command: Any, push_and_report: Callable[..., int]) -> None:
    """`evidence import` and `evidence schema` under the `evidence` parser's subcommands."""
    from bot.core.evidence.importers import TOOLS

    e = command(esub, "import", "count an eval tool's own output (promptfoo, Inspect, lm-eval, per-sample CSV or "
                                "JSONL) into an evidence set and store it",
                lambda args: cmd_evidence_import(args, push_and_report))
    e.add_argument("file", help="results.json|.jsonl (promptfoo), a .eval or JSON log (Inspect), samples_*.jsonl "
                                "or results_*.json (lm-eval), or a per-sample CSV/JSONL; gzip is read too")
    e.add_argument("--from", dest="tool", choices=TOOLS, help="the tool (recognised from the content when left out)")
    e.add_argument("--cohort", action="append", metavar="KEY",
                   help="the metadata key holding the cohort, a dot path such as vars.region; repeat for a cohort "
                        "of several labels (without one, every sample is in cohort 'all')")
    e.add_argument("--map", metavar="FILE", help="a mapping file (YAML): cohort, success, error, latency, metrics")
    e.add_argument("--pass", dest="pass_field", metavar="COL", help="per-sample files: the pass column")
    e.add_argument("--score", metavar="NAME", help="the score that decides success (with --threshold)")
    e.add_argument("--threshold", type=float, metavar="X", help="a sample passes when its score is at least X "
                                                                "(default 1)")
    e.add_argument("--latency", metavar="COL", help="per-sample files: the latency column, in ms")
    e.add_argument("--system", help="the system the evidence is for (needed unless --dry-run)")
    e.add_argument("--version", help="the candidate version (needed unless --dry-run)")
    e.add_argument("--team", help="the workspace (team id); needed unless one workspace reviews the system")
    e.add_argument("--actor", default="ci", help="who pushes, as the audit trail shows it (default: ci)")
    e.add_argument("--dry-run", action="store_true", help="print the rows, store nothing")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    command(esub, "schema", "print the JSON Schema of the evidence row format", cmd_evidence_schema)
