"""`readiness doctor`: the installation's health in a few lines, exit 1 when something needs a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from bot.db import current_revision, head_revision, make_engine, session_factory, session_scope
from bot.services.outbox import backlog, dead_by_error
from bot.settings import Settings
from models import OutboxMessage, Workspace
from models.outbox import DEAD


def run(settings: Settings) -> tuple[list[str], bool]:
    lines: list[str] = []
    healthy = True
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    url = engine.url.render_as_string(hide_password=True)
    try:
        current, head = current_revision(engine), head_revision()
    except Exception as exc:  # the doctor reports every failure as a finding
        engine.dispose()
        return [f"database  FAIL  {url}: {type(exc).__name__}: {exc}"], False
    if current == head:
        lines.append(f"database  ok    {url}, schema at {head}")
    else:
        healthy = False
        lines.append(f"database  FAIL  {url}: schema at {current or 'nothing'}, needs {head}: run `readiness db upgrade`")
        engine.dispose()
        return lines, healthy

    if settings.oauth_mode:
        found, ok = workspace_lines(settings, engine)
        lines.extend(found)
        healthy = healthy and ok
    else:
        lines.append(_slack(settings))
        healthy = healthy and " ok " in lines[-1]
        lines.extend(uninstalled_lines(engine))

    with session_scope(session_factory(engine, readonly=True)) as session:
        info = backlog(session)
        dead = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == DEAD)
                                    .order_by(OutboxMessage.id.desc()).limit(10)))
        dead_by = dead_by_error(session)
    counts = info["counts"]
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"
    lines.append(f"outbox    ok    {summary}")
    oldest = info["oldest_due"]
    if oldest is not None and oldest <= info["now"]:
        late = (info["now"] - oldest).total_seconds()
        status = "ok  " if late < 300 else "LATE"
        healthy = healthy and late < 300
        lines.append(f"backlog   {status}  oldest due message waiting {late:.0f} s")
    else:
        lines.append("backlog   ok    nothing waiting")
    if dead:
        healthy = False
        by_error = ", ".join(f"{error} {count}" for error, count in sorted(dead_by.items(), key=lambda x: -x[1]))
        lines.append(f"dead      FAIL  {counts.get(DEAD, 0)} message(s) Slack refused for good or that gave up after "
                     f"{settings.max_attempts} attempts; by error: {by_error}")
        lines.extend(f"            #{r.id} {r.dedupe_key} ({r.kind} to {r.recipient}): {r.last_error}" for r in dead)
    engine.dispose()
    return lines, healthy


def _slack(settings: Settings) -> str:
    from slack_sdk.errors import SlackApiError

    from bot.slack import make_client

    if settings.slack_bot_token is None:
        return "slack     FAIL  SLACK_BOT_TOKEN is not set"
    try:
        answer = make_client(settings).auth_test()
    except SlackApiError as exc:
        return f"slack     FAIL  auth.test: {exc.response.get('error')}"
    except OSError as exc:
        return f"slack     FAIL  cannot reach Slack: {exc}"
    return f"slack     ok    token valid for team {answer.get('team_id')} as {answer.get('user')}"


def uninstalls(engine: Engine) -> dict[str, tuple[datetime, str | None]]:
    """Workspaces that uninstalled the app (or whose bot token Slack revoked): when, and why."""
    with session_scope(session_factory(engine, readonly=True)) as session:
        gone = session.execute(select(Workspace.team_id, Workspace.uninstalled_at, Workspace.uninstall_reason)
                               .where(Workspace.uninstalled_at.is_not(None)).order_by(Workspace.team_id)).all()
    return {team: (at, reason) for team, at, reason in gone}


def uninstall_line(team: str, at: datetime, reason: str | None) -> str:
    """Not a fault: nothing is sent there, and the workspace's data waits for the operator's retention period,
    which runs from this date."""
    return f"workspace info  {team}: {reason or 'uninstalled'} at {at:%Y-%m-%d %H:%M} UTC; nothing is delivered there"


def uninstalled_lines(engine: Engine) -> list[str]:
    return [uninstall_line(team, at, reason) for team, (at, reason) in uninstalls(engine).items()]


def workspace_lines(settings: Settings, engine: Engine) -> tuple[list[str], bool]:
    """OAuth mode: every workspace with data or an installation, and whether its bot token works."""
    from slack_sdk.errors import SlackApiError

    from bot.installs.clients import UNINSTALLED
    from scheduler import workspace_clients

    sessions = session_factory(engine)
    clients = workspace_clients(settings, sessions, lambda token: _client(settings, token))
    assert clients.store is not None
    with session_scope(sessions) as session:
        known = set(session.scalars(select(Workspace.team_id)))
    teams = sorted(known | set(clients.store.teams()))
    gone = uninstalls(engine)
    lines, healthy = [f"slack     ok    OAuth mode, {len(clients.store.teams())} workspace(s) installed"], True
    for team in teams:
        resolved = clients.resolve(team)
        if resolved.client is None and team in gone:
            lines.append(uninstall_line(team, *gone[team]))
            continue
        if resolved.client is None:
            healthy = healthy and resolved.why_not == UNINSTALLED
            status = "info" if resolved.why_not == UNINSTALLED else "FAIL"
            lines.append(f"workspace {status}  {team}: {resolved.why_not}; nothing is delivered there")
            continue
        try:
            answer = resolved.client.auth_test()
        except SlackApiError as exc:
            healthy = False
            lines.append(f"workspace FAIL  {team}: auth.test: {exc.response.get('error')}; nothing is delivered there")
            continue
        except OSError as exc:
            healthy = False
            lines.append(f"workspace FAIL  {team}: cannot reach Slack: {exc}")
            continue
        lines.append(f"workspace ok    {team}: installed, token valid as {answer.get('user_id')}")
    return lines, healthy


def _client(settings: Settings, token: str | None):  # type: ignore[no-untyped-def]
    from bot.slack import make_client

    client = make_client(settings)
    client.token = token
    return client
