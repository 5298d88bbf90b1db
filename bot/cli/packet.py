"""The `readiness packet` command: the rollout packet as Markdown or HTML, from the database or a file."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.common import UsageError
from bot.core.packet.model import Packet

FORMATS = ("md", "html")


def add_commands(sub: Any) -> None:  # argparse's _SubParsersAction
    """Add this feature's subcommands to the `readiness` parser."""
    p = sub.add_parser(
        "packet",
        help="the minimum rollout packet of a stored review (by id) or of an assessment file",
        description="Render the rollout packet. SOURCE is a review id (read from DATABASE_URL) or an "
                    "assessment YAML file (marks, and optionally traces, rollout and rollback).",
    )
    p.add_argument("source", metavar="SOURCE", help="ASSESSMENT_ID or FILE.yaml")
    p.add_argument("--baseline", metavar="FILE", help="the baseline's assessment file (file SOURCE only)")
    p.add_argument("--format", choices=FORMATS, default="md", help="md (default) or html")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--checklist", metavar="FILE", help="a checklist YAML other than the shipped one (file SOURCE)")
    p.add_argument("--baseline-checklist", metavar="FILE", help="the baseline's checklist, when it differs")
    p.set_defaults(func=cmd_packet)


def _usage(message: str) -> Exception:
    return UsageError(f"packet: {message}")


def _is_id(source: str) -> bool:
    return source.isdigit() and not Path(source).exists()


def cmd_packet(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if _is_id(args.source):
        if args.baseline or args.checklist or args.baseline_checklist:
            raise _usage("--baseline and --checklist go with an assessment FILE; a stored review has its own")
        packet = _from_database(int(args.source), now)
    else:
        if args.baseline_checklist and not args.baseline:
            raise _usage("--baseline-checklist needs --baseline FILE")
        packet = _from_file(args, now)
    _write(packet, args.format, args.out)
    return 0


def _from_file(args: argparse.Namespace, now: datetime) -> Packet:
    from bot.core.assessment_file import load_assessment
    from bot.core.checklist import load_checklist
    from bot.services.packets import packet_from_file

    checklist = load_checklist(Path(args.checklist) if args.checklist else None)
    assessment = load_assessment(args.source, checklist)
    baseline, baseline_checklist = None, None
    if args.baseline:
        baseline_checklist = load_checklist(Path(args.baseline_checklist)) if args.baseline_checklist else checklist
        baseline = load_assessment(args.baseline, baseline_checklist)
        if baseline.system != assessment.system:
            raise _usage(f"--baseline: {args.baseline} is about {baseline.system}, not {assessment.system}")
    return packet_from_file(assessment, checklist, baseline_file=baseline, baseline_checklist=baseline_checklist,
                            now=now)


def _from_database(assessment_id: int, now: datetime) -> Packet:
    from bot.db import ensure_schema, make_engine, session_factory, session_scope
    from bot.services.errors import ServiceError
    from bot.services.packets import build_packet
    from bot.settings import load_settings
    from models import Assessment

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        ensure_schema(engine)  # SQLite is brought up to date; PostgreSQL must already be (exit 2 otherwise)
        with session_scope(session_factory(engine, readonly=True)) as session:
            assessment = session.get(Assessment, assessment_id)
            if assessment is None:
                raise _usage(f"there is no assessment {assessment_id} in {engine.url.render_as_string()}")
            try:
                return build_packet(session, assessment.team_id, assessment_id, today=now.date(), now=now)
            except ServiceError as exc:
                raise _usage(str(exc)) from None
    finally:
        engine.dispose()


def _write(packet: Packet, fmt: str, out: str | None) -> None:
    from bot.core.packet import render_html, render_markdown

    text = render_html(packet) if fmt == "html" else render_markdown(packet)
    if not out:
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _usage(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote the {fmt} packet of {packet.system} {packet.version} to {out} "
          f"(content hash {packet.content_hash[:12]})", file=sys.stderr)
