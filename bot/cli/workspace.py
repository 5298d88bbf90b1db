"""`readiness workspace export|purge|resume|rekey`: one workspace's data, and the stored Slack tokens."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_OK, UsageError


def add_commands(sub: Any) -> None:  # argparse's _SubParsersAction
    p = sub.add_parser("workspace", help="one workspace's data: export, purge; the stored Slack tokens")
    wsub = p.add_subparsers(dest="workspace_command", required=True, metavar="ACTION")
    e = wsub.add_parser("export", help="all of a workspace's data as JSONL (reviews, marks, history, audit, ...)")
    e.add_argument("--team", required=True, metavar="T")
    e.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    e.add_argument("--by", metavar="NAME", help="who exports (default: this user@host), for the audit trail")
    e.set_defaults(func=cmd_export)
    x = wsub.add_parser("purge", help="delete all of a workspace's data, audit trail included, after an export")
    x.add_argument("--team", required=True, metavar="T")
    x.add_argument("--confirm", required=True, metavar="T", help="the workspace id again")
    x.add_argument("--export", metavar="FILE", help="where the export goes (default: workspace-T-purged.jsonl)")
    x.add_argument("--by", metavar="NAME", help="who purges (default: this user@host), for the tombstone")
    x.set_defaults(func=cmd_purge)
    r = wsub.add_parser("resume", help="serve a workspace again after it reinstalled the app (single-token mode)")
    r.add_argument("--team", required=True, metavar="T")
    r.add_argument("--by", metavar="NAME")
    r.set_defaults(func=cmd_resume)
    k = wsub.add_parser("rekey", help="re-encrypt every stored Slack token with TOKEN_ENCRYPTION_KEY")
    k.set_defaults(func=cmd_rekey)


def _who(args: argparse.Namespace) -> str:
    return args.by or f"{getpass.getuser()}@{socket.gethostname()}"


def _engine():  # type: ignore[no-untyped-def]
    from bot.db import ensure_schema, make_engine
    from bot.settings import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    ensure_schema(engine)
    return settings, engine


def cmd_export(args: argparse.Namespace) -> int:
    from bot.db import session_factory, session_scope
    from bot.services import workspace_data
    from models import Workspace

    _settings, engine = _engine()
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115 - closed below
    try:
        with session_scope(session_factory(engine)) as session:
            if session.get(Workspace, args.team) is None:
                raise UsageError(f"--team: there is no workspace {args.team}")
            exported = workspace_data.export(session, args.team, out)
            workspace_data.record_export(session, args.team, exported, _who(args))
    finally:
        if out is not sys.stdout:
            out.close()
        engine.dispose()
    print(f"exported {exported.total} row(s) of {args.team}, sha256 {exported.sha256}", file=sys.stderr)
    return EXIT_OK


def cmd_purge(args: argparse.Namespace) -> int:
    from bot.db import session_factory, session_scope
    from bot.services import workspace_data
    from bot.services.errors import ServiceError

    _settings, engine = _engine()
    path = Path(args.export or f"workspace-{args.team}-purged.jsonl")
    if path.exists():
        raise UsageError(f"--export: {path} exists already; an export is never overwritten")
    try:
        with path.open("x", encoding="utf-8") as out, session_scope(session_factory(engine)) as session:
            tombstone = workspace_data.purge(session, args.team, confirm=args.confirm, actor=_who(args), out=out)
            summary = (tombstone.total_rows, tombstone.audit_rows, tombstone.export_sha256)
    except ServiceError as exc:
        path.unlink(missing_ok=True)
        raise UsageError(f"purge: {exc}") from None
    except BaseException:
        path.unlink(missing_ok=True)  # nothing was deleted: the transaction rolled back
        raise
    finally:
        engine.dispose()
    print(f"purged {args.team}: {summary[0]} row(s), {summary[1]} of them audit events; export {path} "
          f"(sha256 {summary[2]}); the tombstone is in workspace_tombstones")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    from bot.db import session_factory, session_scope
    from bot.services import workspaces

    _settings, engine = _engine()
    try:
        with session_scope(session_factory(engine)) as session:
            workspaces.installed(session, args.team, None, installer=_who(args))
    finally:
        engine.dispose()
    print(f"{args.team} is served again")
    return EXIT_OK


def cmd_rekey(_args: argparse.Namespace) -> int:
    from bot.installs.oauth import installation_store

    settings, engine = _engine()
    if not settings.oauth_mode:
        raise UsageError("rekey: tokens are stored only in OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)")
    try:
        done = installation_store(settings, engine).rekey()
    finally:
        engine.dispose()
    print(f"re-encrypted {done} stored token(s) with TOKEN_ENCRYPTION_KEY; TOKEN_ENCRYPTION_OLD_KEYS can go now")
    return EXIT_OK
