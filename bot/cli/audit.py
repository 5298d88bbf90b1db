"""`readiness audit export|verify`: the append-only, hash-chained audit trail."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_OK, EXIT_REFUSED, UsageError, row_id


def add_commands(sub: Any) -> None:  # argparse's _SubParsersAction
    p = sub.add_parser("audit", help="the append-only audit trail")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    e = asub.add_parser("export", help="every event of one assessment, oldest first")
    e.add_argument("--assessment", type=row_id, required=True, metavar="ID")
    e.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    e.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    e.set_defaults(func=cmd_export)
    v = asub.add_parser("verify", help="check every workspace's hash chain (exit 1 when one is broken)")
    v.add_argument("--team", metavar="T", help="only this workspace")
    v.set_defaults(func=cmd_verify)


def _sessions():  # type: ignore[no-untyped-def]
    from bot.db import ensure_schema, make_engine, session_factory
    from bot.settings import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    ensure_schema(engine)  # SQLite is brought up to date; PostgreSQL must be at head already
    return engine, session_factory(engine, readonly=True)


def cmd_export(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.services.audit import events, export
    from models import Assessment

    engine, sessions = _sessions()
    try:
        with session_scope(sessions) as session:
            if session.get(Assessment, args.assessment) is None:
                raise UsageError(f"--assessment: there is no assessment {args.assessment}")
            text = export(events(session, args.assessment), args.format)
    finally:
        engine.dispose()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from bot.db import session_scope
    from bot.services.audit import verify

    engine, sessions = _sessions()
    try:
        with session_scope(sessions) as session:
            reports = verify(session, args.team)
    finally:
        engine.dispose()
    if not reports:
        print("no audit events yet")
    for report in reports:
        state = "intact" if report.intact else f"BROKEN: {report.problem}"
        print(f"{report.team_id}: {report.events} event(s), head {report.head}: {state}")
    return EXIT_OK if all(r.intact for r in reports) else EXIT_REFUSED
