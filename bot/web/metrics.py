"""GET /metrics: this replica's figures in Prometheus text format, when METRICS_ENABLED=1 (404 otherwise).

The counters and histograms are this process's own (``bot.observe.metrics``). The gauges read from the
database at each scrape (outbox backlog, the oldest due row, dead rows by kind and by error, installations)
are the same on every replica: aggregate them with ``max``, not ``sum``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from bot.db import db_now, session_scope
from bot.services.outbox import OPEN, dead_by_error_and_kind
from bot.web.http import Environ, Route, Site, StartResponse, json_response, respond
from models import OutboxMessage, Workspace, slack_bots
from models.outbox import DEAD

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class DatabaseFigures:
    """The outbox and installations, read at scrape time."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily("readiness_outbox_backlog", "Outbox rows not yet delivered, by kind",
                                    labels=["kind"])
        dead = GaugeMetricFamily("readiness_outbox_dead", "Outbox rows that gave up, by kind", labels=["kind"])
        dead_by = GaugeMetricFamily("readiness_outbox_dead_by_error",
                                    "Outbox rows that gave up, by the Slack error that ended them and by kind "
                                    "(the counts `readiness doctor` shows)", labels=["error", "kind"])
        oldest = GaugeMetricFamily("readiness_outbox_oldest_due_seconds",
                                   "How long the oldest due, undelivered outbox row has been waiting")
        installs = GaugeMetricFamily("readiness_installations", "Workspaces served, by how", labels=["mode"])
        with session_scope(self.site.sessions) as session:
            now = db_now(session)
            open_rows = select(OutboxMessage.kind, func.count()).where(OutboxMessage.status.in_(OPEN))
            for kind, count in session.execute(open_rows.group_by(OutboxMessage.kind)):
                backlog.add_metric([kind], count)
            for kind, count in session.execute(select(OutboxMessage.kind, func.count())
                                               .where(OutboxMessage.status == DEAD).group_by(OutboxMessage.kind)):
                dead.add_metric([kind], count)
            for (error, kind), count in sorted(dead_by_error_and_kind(session).items()):
                dead_by.add_metric([error[:100], kind], count)
            due = session.scalar(select(func.min(OutboxMessage.next_attempt_at))
                                 .where(OutboxMessage.status.in_(OPEN), OutboxMessage.next_attempt_at <= now))
            oldest.add_metric([], max(0.0, (now - due).total_seconds()) if due is not None else 0.0)
            if self.site.settings.oauth_mode:
                installed = session.scalar(select(func.count(func.distinct(slack_bots.c.team_id)))
                                           .where(slack_bots.c.bot_token.is_not(None)))
                installs.add_metric(["oauth"], installed or 0)
            else:
                served = session.scalar(select(func.count()).select_from(Workspace)
                                        .where(Workspace.uninstalled_at.is_(None)))
                installs.add_metric(["single_token"], served or 0)
        yield from (backlog, dead, dead_by, oldest, installs)


def metrics(site: Site, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    if not site.settings.metrics_enabled:
        return json_response(start_response, 404, {"error": "not found"})
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(DatabaseFigures(site))  # type: ignore[arg-type]
    body = generate_latest(REGISTRY) + generate_latest(scrape)
    return respond(start_response, 200, body, CONTENT_TYPE)


def routes() -> list[Route]:
    return [Route("GET", "/metrics", metrics)]
