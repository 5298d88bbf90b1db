"""The `readiness` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import audit as cli_audit
from bot.cli import evidence as cli_evidence
from bot.cli import logs
from bot.cli import packet as cli_packet
from bot.cli import workspace as cli_workspace
from bot.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_REFUSED, EXIT_TEMPFAIL, UsageError
from bot.core.advice import recommended_action
from bot.core.assessment_file import AssessmentFileError, load_assessment
from bot.core.checklist import Checklist, ChecklistError, Verdict, checklist_json_schema, load_checklist
from bot.core.documents import FileProblem, text_problem
from bot.core.limits import LIMITS, too_long
from bot.core.scorecard_view import scorecard_text
from bot.core.scoring import score
from bot.errors import ConfigError, SchemaNotAtHead
from bot.executor import ListenerExecutor

log = logging.getLogger("readiness")


def _checklist(path: str | None) -> Checklist:
    return load_checklist(Path(path) if path else None)


def cmd_score(args: argparse.Namespace) -> int:
    checklist = _checklist(args.checklist)
    assessment = load_assessment(args.file, checklist)
    card = score(checklist, assessment.marks)
    if args.json:
        print(json.dumps(card.summary()))
    else:
        title = f"{assessment.system} {assessment.version}"
        print(scorecard_text(title, checklist, assessment.marks, card), end="")
    return EXIT_OK


def parse_allow(text: str) -> set[Verdict]:
    allowed: set[Verdict] = set()
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        try:
            allowed.add(Verdict(word))
        except ValueError:
            choices = ", ".join(v.value for v in Verdict)
            raise UsageError(f"--allow: {word!r} is not a verdict (one of {choices})") from None
    if not allowed:
        raise UsageError("--allow: name at least one verdict, for example --allow go,narrow")
    return allowed


def cmd_gate(args: argparse.Namespace) -> int:
    allowed = parse_allow(args.allow)
    if args.system or args.version:
        if args.file or not (args.system and args.version):
            raise UsageError("gate: give either an assessment FILE, or --system and --version (not both)")
        return _gate_stored(args, allowed)
    if not args.file:
        raise UsageError("gate: give an assessment FILE, or --system NAME --version V for a stored review")
    checklist = _checklist(args.checklist)
    assessment = load_assessment(args.file, checklist)
    card = score(checklist, assessment.marks)
    label = f"{assessment.system} {assessment.version}"
    if card.verdict in allowed:
        print(f"PASS {label}: verdict {card.verdict.value}, score {card.score}/{card.max_score}, band {card.band}")
        return EXIT_OK
    reasons = [f"verdict {card.verdict.value} is not allowed (allowed: {', '.join(sorted(allowed))})"]
    if card.blockers:
        reasons.append("blockers: " + ", ".join(f"{i} ({checklist.item(i).title})" for i in card.blockers))
    owners = {i: e.owner for i, e in assessment.marks.items()}
    reasons.append(f"score {card.score}/{card.max_score} in band {card.band}: {recommended_action(card, owners)}")
    if card.unmarked:
        reasons.append("not marked: " + ", ".join(card.unmarked))
    print(f"FAIL {label}")
    for reason in reasons:
        print(f"  - {reason}")
    return EXIT_REFUSED


def _gate_stored(args: argparse.Namespace, allowed: set[Verdict]) -> int:
    from bot.db import make_engine, session_factory, session_scope
    from bot.services.errors import ServiceError
    from bot.services.gate import evaluate, workspace_of
    from bot.settings import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        with session_scope(session_factory(engine)) as session:
            team = workspace_of(session, args.system, args.team)
            result = evaluate(session, team, args.system, args.version, allowed, actor="cli", settings=settings)
    except ServiceError as exc:
        raise UsageError(f"gate: {exc}") from None
    finally:
        engine.dispose()
    label = f"{args.system} {args.version}"
    if result.passed:
        print(f"PASS {label}: verdict {result.verdict}, score {result.score}/{result.max_score}, "
              f"band {result.band}, sign-off {result.signoff}")
    else:
        print(f"FAIL {label}")
        for reason in result.reasons:
            print(f"  - {reason}")
    if result.packet_link:
        print(f"  rollout packet: {result.packet_link}")
    return EXIT_OK if result.passed else EXIT_REFUSED


def cmd_token(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.db import ensure_schema, make_engine, session_factory, session_scope
    from bot.services import tokens
    from bot.services.errors import ServiceError
    from bot.settings import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    ensure_schema(engine)
    try:
        with session_scope(session_factory(engine)) as session:
            if args.token_command == "create":
                token = tokens.create(session, args.team, args.name, actor="cli")
                print(token)
                print(f"(token {args.name!r} for {args.team}: shown once, only its hash is stored)", file=sys.stderr)
            else:
                tokens.revoke(session, args.team, args.name, actor="cli", now=datetime.now(UTC))
                print(f"revoked {args.name!r} in {args.team}")
    except ServiceError as exc:
        raise UsageError(f"token: {exc}") from None
    finally:
        engine.dispose()
    return EXIT_OK


def cmd_checklist_validate(args: argparse.Namespace) -> int:
    checklist = load_checklist(Path(args.file))
    print(
        f"{args.file}: valid checklist {checklist.id} {checklist.version}: {len(checklist.items)} items in "
        f"{len(checklist.sections)} sections, max score {checklist.max_score}, hash {checklist.content_hash[:12]}"
    )
    return EXIT_OK


def cmd_checklist_schema(_args: argparse.Namespace) -> int:
    print(json.dumps(checklist_json_schema(), indent=2))
    return EXIT_OK


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from bot.db import current_revision, make_engine, upgrade
    from bot.settings import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    upgrade(engine)
    print(f"database {engine.url.render_as_string(hide_password=True)} is at {current_revision(engine)}")
    engine.dispose()
    return EXIT_OK


def _runtime(socket_mode: bool):  # type: ignore[no-untyped-def]
    from bot.app import build_app
    from bot.db import make_engine
    from bot.settings import load_settings

    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    if settings.slack_bot_token is None and not settings.oauth_mode:
        raise UsageError("SLACK_BOT_TOKEN is not set, nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (see .env.example)")
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    from bot.db import ensure_schema, session_factory
    from scheduler import build_delivery

    ensure_schema(engine)
    delivery = build_delivery(settings, session_factory(engine))
    executor = ListenerExecutor()
    app = build_app(settings, engine=engine, socket_mode=socket_mode, kick=delivery.deliverer.kick, executor=executor)
    return settings, engine, app, delivery, executor


def cmd_serve(args: argparse.Namespace) -> int:
    import time

    from bot.cli.shutdown import Stopping, finish
    from bot.web.server import Server, WebApp

    settings, engine, app, delivery, executor = _runtime(socket_mode=False)
    delivery.start()
    web = WebApp(app, engine, settings=settings)
    server = Server(web, host=args.host, port=args.port, threads=args.threads)
    deadline = [float("inf")]

    def begin(why: str) -> None:
        log.info("stopping (%s): no new requests; up to %gs for those in flight", why, settings.shutdown_grace_seconds)
        deadline[0] = time.monotonic() + settings.shutdown_grace_seconds
        web.draining = True
        server.stop_accepting()
        delivery.deliverer.stop()  # no new claims; the sweep in progress ends after its current post
        if not server.drain(settings.shutdown_grace_seconds, lambda: executor.busy == 0):
            log.warning("stopping: requests still in flight after %gs; closed", settings.shutdown_grace_seconds)

    Stopping(begin).install()
    print(f"readiness: serving Slack requests on http://{args.host}:{server.port}/slack/events", flush=True)
    log.info("started: HTTP on %s:%s, database %s, %s mode", args.host, server.port,
             engine.url.render_as_string(hide_password=True), "OAuth" if settings.oauth_mode else "single-token")
    try:
        server.serve_forever()
    finally:
        finish(delivery, executor, engine, deadline[0])
    return EXIT_OK


def cmd_run(_args: argparse.Namespace) -> int:
    import threading
    import time

    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.cli.shutdown import Stopping, finish

    settings, engine, app, delivery, executor = _runtime(socket_mode=True)
    if settings.slack_app_token is None:
        raise UsageError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...)")
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    stopped = threading.Event()
    deadline = [float("inf")]

    def begin(why: str) -> None:
        log.info("stopping (%s): disconnecting from Slack; up to %gs for what is in flight", why,
                 settings.shutdown_grace_seconds)
        deadline[0] = time.monotonic() + settings.shutdown_grace_seconds
        delivery.deliverer.stop()
        handler.close()  # no new events; the ones being handled finish in the client's workers
        workers = getattr(handler.client, "message_workers", None)
        if workers is not None:
            workers.shutdown(wait=True)
        stopped.set()

    Stopping(begin).install()
    delivery.start()
    handler.connect()
    log.info("started: Socket Mode, database %s, %s mode", engine.url.render_as_string(hide_password=True),
             "OAuth" if settings.oauth_mode else "single-token")
    try:
        stopped.wait()
    finally:
        finish(delivery, executor, engine, deadline[0])
    return EXIT_OK


def cmd_doctor(_args: argparse.Namespace) -> int:
    from bot.cli.doctor import run
    from bot.settings import load_settings

    lines, healthy = run(load_settings())
    print("\n".join(lines))
    return EXIT_OK if healthy else EXIT_REFUSED


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.sandbox.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readiness", description="Enterprise AI rollout-readiness reviews, in Slack and on the command line."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("score", help="score an assessment file and print the scorecard")
    p.add_argument("file", help="assessment YAML (system, version, marks)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--checklist", metavar="FILE", help="a checklist YAML other than the shipped one")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("gate", help="exit 0 only when the verdict is allowed (and, for a stored review, "
                                    "sign-off is complete)")
    p.add_argument("file", nargs="?", help="assessment YAML (or use --system and --version)")
    p.add_argument("--system", help="the stored review of this system...")
    p.add_argument("--version", help="...and this candidate version")
    p.add_argument("--team", help="the workspace, when several review the same system")
    p.add_argument("--allow", default="go", help="comma-separated verdicts that pass (default: go)")
    p.add_argument("--checklist", metavar="FILE", help="a checklist YAML other than the shipped one")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("checklist", help="work with checklist files")
    csub = p.add_subparsers(dest="checklist_command", required=True, metavar="ACTION")
    v = csub.add_parser("validate", help="check a checklist file")
    v.add_argument("file")
    v.set_defaults(func=cmd_checklist_validate)
    s = csub.add_parser("schema", help="print the JSON Schema of the checklist format")
    s.set_defaults(func=cmd_checklist_schema)

    p = sub.add_parser("db", help="database administration")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    u = dsub.add_parser("upgrade", help="migrate the database (DATABASE_URL) to this release's schema")
    u.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("serve", help="serve Slack's HTTP requests (production server)")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    p.add_argument("--threads", type=int, default=16, help="request threads (default 16)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("run", help="connect to Slack over Socket Mode (no public URL needed)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("token", help="workspace API tokens for the gate endpoint")
    tsub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    for action, text in (("create", "create a token (printed once)"), ("revoke", "revoke a token")):
        t = tsub.add_parser(action, help=text)
        t.add_argument("--team", required=True, help="workspace (team id)")
        t.add_argument("--name", required=True, help="a name for the token, e.g. ci-main")
        t.set_defaults(func=cmd_token)

    cli_audit.add_commands(sub)
    cli_workspace.add_commands(sub)

    p = sub.add_parser("doctor", help="the installation's health: database, Slack token, outbox backlog")
    p.set_defaults(func=cmd_doctor)

    cli_packet.add_commands(sub)
    cli_evidence.add_commands(sub)

    p = sub.add_parser("demo", help="run a scripted review against the local Slack sandbox")
    p.set_defaults(func=cmd_demo)
    return parser


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader went away


def main(argv: Sequence[str] | None = None) -> int:
    """Every command, with one rule for a reader that stops early (``readiness evidence schema | head``): the
    command ends there, quietly, with the status a shell gives a command ended by SIGPIPE."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # output still buffered meets the closed pipe here, not in a warning at exit
        return code
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has gone away (so a BrokenPipeError was ours to write, not, say, a
    socket's). A pipe's write end polls as POLLERR once no reader is left."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll, or a stdout without a file descriptor
        return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's own flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        check_arguments(args)
        return int(args.func(args))
    except (ChecklistError, AssessmentFileError, UsageError, ConfigError, SchemaNotAtHead, FileProblem) as exc:
        print(f"readiness: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError as exc:  # stdout's reader went away: main ends quietly; any other is unexpected
        if _stdout_gone():
            raise
        return _unexpected(exc, args.debug)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        return _unexpected(exc, args.debug)


def _unexpected(exc: Exception, debug: bool) -> int:
    if debug:
        raise exc
    from bot.db import is_outage  # here, so the pure commands start without the database layer

    if is_outage(exc):
        print(f"readiness: the database is not reachable ({type(exc).__name__}); try again shortly",
              file=sys.stderr)
        return EXIT_TEMPFAIL
    print(f"readiness: unexpected error: {type(exc).__name__} (rerun with --debug to see where)", file=sys.stderr)
    return 70


def check_arguments(args: argparse.Namespace) -> None:
    """Text given on the command line must be storable: no control characters or undecodable bytes, and a
    system or a version no longer than its column."""
    for name, value in vars(args).items():
        if isinstance(value, str) and text_problem(value):
            raise UsageError(f"--{name.replace('_', '-')}: {text_problem(value)}")
        if name in LIMITS and isinstance(value, str) and too_long(name, value):
            raise UsageError(f"--{name}: {too_long(name, value)}")


if __name__ == "__main__":
    sys.exit(main())
