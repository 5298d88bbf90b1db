"""The `readiness` subcommands of the evidence feature: `evidence push|show|import|schema`, `policy validate|push|show|schema`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.cli.common import EXIT_OK, UsageError
from bot.cli.eval_import import add_import


def _usage(message: str) -> Exception:
    return UsageError(message)


@contextmanager
def _session(*, write: bool) -> Iterator[tuple[Session, Any]]:
    """A session on DATABASE_URL (SQLite is migrated first; PostgreSQL must be at head) and the settings."""
    from bot.db import ensure_schema, make_engine, session_factory, session_scope
    from bot.services.errors import ServiceError
    from bot.settings import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        ensure_schema(engine)
        with session_scope(session_factory(engine, readonly=not write)) as session:
            yield session, settings
    except ServiceError as exc:
        raise _usage(str(exc)) from None
    finally:
        engine.dispose()


def _team(session: Session, system: str, team: str | None) -> str:
    from bot.services.errors import ServiceError
    from bot.services.gate import workspace_of

    try:
        return workspace_of(session, system, team)
    except ServiceError as exc:
        raise _usage(f"{exc}; pass --team T") from None


# -- evidence ---------------------------------------------------------------------------------------


def cmd_evidence_push(args: argparse.Namespace) -> int:
    from bot.core.evidence import EvidenceError, load_evidence

    try:
        parsed = load_evidence(args.file, system=args.system, version=args.version, fmt=args.format)
    except EvidenceError as exc:
        raise _usage(str(exc)) from None
    return push_and_report(args, parsed)


def push_and_report(args: argparse.Namespace, parsed: Any, extra: dict[str, Any] | None = None) -> int:
    """Store a validated set as `evidence push` does, and say what happened (``extra`` joins the JSON)."""
    from bot.services import evidence

    with _session(write=True) as (session, settings):
        team = _team(session, parsed.system, args.team)
        result = evidence.push(session, team, parsed, actor=f"cli:{args.actor}", policy_path=settings.policy_path)
    if args.json:
        print(json.dumps({**result.as_json(), **(extra or {})}))
        return EXIT_OK
    label = f"{result.system} {result.version}"
    if result.duplicate:
        print(f"unchanged {label}: this set is already stored as #{result.evidence_id} ({result.rows} rows)")
    else:
        print(f"stored {label} as evidence #{result.evidence_id}: {result.rows} rows, hash {result.content_hash[:12]}")
        if result.scorecard is not None:
            counts = ", ".join(f"{n} {k}" for k, n in result.scorecard["counts"].items() if n)
            print(f"  judged: {counts or 'no cell judged'} ({result.scorecard['baseline_note']})")
        if result.assessment_id is not None:
            print(f"  review #{result.assessment_id}: {result.suggestions} suggested mark(s) queued for its thread")
        if result.breaches:
            print(f"  {result.breaches} watch-list breach(es) queued for the release channel")
    for note in result.notes:
        print(f"  note: {note}")
    return EXIT_OK


def _table(rows: list[list[str]]) -> str:
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def cmd_evidence_show(args: argparse.Namespace) -> int:
    from bot.core.checklist import Mark
    from bot.core.evidence import grid_svg
    from bot.services import evidence
    from bot.services.assessments import current_marks, find_latest

    if args.picture and Path(args.picture).suffix.lower() != ".svg":
        raise _usage(f"--picture {args.picture}: the grid is written as SVG; name the file .svg")
    with _session(write=False) as (session, settings):
        team = _team(session, args.system, args.team)
        review = find_latest(session, team, args.system, args.version)
        scored = evidence.judged(session, team, args.system, args.version, baseline=args.baseline,
                                 assessment=review, policy_path=settings.policy_path)
        if scored is None:
            raise _usage(f"evidence show: no evidence is stored for {args.system} {args.version}")
        contradicted: tuple[str, ...] = ()
        if review is not None:
            marks: dict[str, Mark | None] = {k: e.mark for k, e in current_marks(session, review).items()}
            contradicted = evidence.contradicted_items(session, review, marks, scored)
    if args.picture:
        Path(args.picture).write_text(grid_svg(scored.scorecard), encoding="utf-8")
    if args.json:
        print(json.dumps({**scored.summary(), "contradicted": list(contradicted),
                          "cells": [c.model_dump(mode="json") for c in scored.scorecard.cells]}))
        return EXIT_OK
    card = scored.scorecard
    print(f"{args.system} {args.version}: {'PASS' if card.passed else 'NOT A PASS'} "
          f"({', '.join(f'{n} {k}' for k, n in card.counts().items() if n) or 'no cell judged'})")
    print(f"  {scored.baseline_note}; policy {scored.policy_source}; evidence #{scored.candidate.id}")
    rows = [["cohort", "metric", "baseline", "candidate", "delta [interval]", "outcome", "rule"]]
    rows += [[r.cohort, r.metric, r.baseline, r.candidate, r.delta, r.outcome, r.rule]
             for r in evidence.rows_of(card)]
    print(_table(rows))
    if contradicted:
        print(f"marked No but contradicted by the numbers: {', '.join(contradicted)}")
    if card.unjudged:
        print(f"{len(card.unjudged)} row(s) had no rule in the policy and were not judged")
    return EXIT_OK


# -- policy -----------------------------------------------------------------------------------------


def _load_policy(path: str) -> Any:
    from bot.core.evidence import PolicyError, load_policy

    try:
        return load_policy(Path(path))
    except PolicyError as exc:
        raise _usage(str(exc)) from None


def cmd_policy_validate(args: argparse.Namespace) -> int:
    policy = _load_policy(args.file)
    scope = f"system {policy.system}" if policy.system else "any system"
    print(f"{args.file}: valid policy {policy.id} {policy.version} for {scope}: {len(policy.rules)} rule(s), "
          f"confidence {policy.confidence:g}, min_sample {policy.min_sample}, latency tolerance "
          f"{policy.latency_tolerance:.0%}, hash {policy.content_hash[:12]}")
    return EXIT_OK


def cmd_policy_push(args: argparse.Namespace) -> int:
    from bot.services import policies

    policy = _load_policy(args.file)
    with _session(write=True) as (session, _settings):
        stored = policies.store(session, args.team, policy, system=args.system, actor=f"cli:{args.actor}")
        scope = f"system {stored.record.system}" if stored.record.system else "the workspace default"
        record_id, policy_hash = stored.record.id, stored.record.content_hash
    verb = "stored" if stored.created else "made current again"
    print(f"{verb}: policy {policy.id} {policy.version} as #{record_id} for {scope} in {args.team} "
          f"(hash {policy_hash[:12]})")
    return EXIT_OK


def cmd_policy_show(args: argparse.Namespace) -> int:
    from bot.services import policies

    with _session(write=False) as (session, settings):
        chosen = policies.policy_for(session, args.team, args.system, settings.policy_path)
    if args.json:
        print(json.dumps({"source": chosen.source, "policy": chosen.policy.model_dump(mode="json")}))
    else:
        print(f"{args.system} in {args.team} is judged by {chosen.source}, hash {chosen.policy.content_hash[:12]}")
    return EXIT_OK


def cmd_policy_schema(_args: argparse.Namespace) -> int:
    from bot.core.evidence.policy import policy_json_schema

    print(json.dumps(policy_json_schema(), indent=2))
    return EXIT_OK


def _command(parent: Any, name: str, text: str, func: Callable[[argparse.Namespace], int]) -> Any:
    p = parent.add_parser(name, help=text)
    p.set_defaults(func=func)
    return p


def add_commands(sub: Any) -> None:  # argparse's _SubParsersAction
    """Add this feature's subcommands to the `readiness` parser."""
    p = sub.add_parser("evidence", help="cohort metrics from the eval pipeline")
    esub = p.add_subparsers(dest="evidence_command", required=True, metavar="ACTION")
    e = _command(esub, "push", "store an evidence file (JSON or CSV); refused whole, with every bad row",
                 cmd_evidence_push)
    e.add_argument("file", help="evidence file: .json or .csv")
    e.add_argument("--system", help="must match the file's system (taken from the file when left out)")
    e.add_argument("--version", help="must match the file's version (taken from the file when left out)")
    e.add_argument("--team", help="the workspace (team id); needed unless one workspace reviews the system")
    e.add_argument("--format", choices=["json", "csv"], help="the file's format when its name does not say")
    e.add_argument("--actor", default="ci", help="who pushes, as the audit trail shows it (default: ci)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e = _command(esub, "show", "the cohort scorecard of a version against its baseline", cmd_evidence_show)
    e.add_argument("--system", required=True)
    e.add_argument("--version", required=True)
    e.add_argument("--baseline", metavar="V", help="compare with this version instead of the usual baseline")
    e.add_argument("--team", help="the workspace, when several review the same system")
    e.add_argument("--json", action="store_true", help="print one JSON object (summary and every cell)")
    e.add_argument("--picture", metavar="FILE.svg", help="also write the grid as SVG")
    add_import(esub, _command, push_and_report)

    p = sub.add_parser("policy", help="release policies: thresholds per metric and cohort")
    psub = p.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    v = _command(psub, "validate", "check a policy file", cmd_policy_validate)
    v.add_argument("file")
    v = _command(psub, "push", "store a policy for a system, or as the workspace default", cmd_policy_push)
    v.add_argument("file")
    v.add_argument("--team", required=True, help="the workspace (team id)")
    v.add_argument("--system", help="the system it judges (default: the file's, else the workspace default)")
    v.add_argument("--actor", default="cli", help="who stores it, as the audit trail shows it")
    v = _command(psub, "show", "which policy judges a system", cmd_policy_show)
    v.add_argument("--team", required=True)
    v.add_argument("--system", required=True)
    v.add_argument("--json", action="store_true")
    _command(psub, "schema", "print the JSON Schema of the policy format", cmd_policy_schema)
