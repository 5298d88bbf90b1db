"""The process's Prometheus metrics (prometheus_client), counted where things happen.

Counters and histograms live in prometheus_client's default registry, one set per process (so each replica
reports its own). Figures that are the database's (outbox backlog, dead rows, installations) are read at
scrape time by ``bot.web.metrics``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

T = TypeVar("T")

# Slack answers within 3 s or retries: the buckets resolve that range finely.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
SCREEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

SLACK_REQUESTS = Counter("readiness_slack_requests", "Requests from Slack to /slack/events, by kind and outcome",
                         ["kind", "outcome"])
ACK_SECONDS = Histogram("readiness_ack_seconds", "From a Slack request's arrival to its acknowledgement",
                        ["kind"], buckets=ACK_BUCKETS)
SCREEN_SECONDS = Histogram("readiness_time_to_screen_seconds",
                           "From a Slack request's arrival until the work after its ack (what the person sees "
                           "change in Slack) is done", ["kind"], buckets=SCREEN_BUCKETS)
DELIVERIES = Counter("readiness_deliveries", "Outbox deliveries by kind and outcome "
                     "(sent, retry, unknown, dead, cancelled, held, released)", ["kind", "outcome"])
RATE_LIMITED = Counter("readiness_slack_ratelimited", "429 answers received from Slack's Web API, by method",
                       ["method"])
GATE_ANSWERS = Counter("readiness_gate_answers", "Answers of GET /api/v1/gate by verdict "
                       "(refused: no valid token or a bad query)", ["verdict", "passed"])
JOB_SECONDS = Histogram("readiness_scheduler_job_seconds", "Duration of each scheduler job run", ["job"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))


def timed_job(name: str, job: Callable[[], T]) -> Callable[[], T]:
    """The job, its every run observed in the job-duration histogram."""

    def run() -> T:
        with JOB_SECONDS.labels(name).time():
            return job()

    run.__name__ = run.__qualname__ = f"{name}_job"
    return run


@contextmanager
def observe(histogram: Histogram, *labels: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.labels(*labels).observe(time.perf_counter() - start)


class RateLimitCounter(RetryHandler):
    """Counts every 429 a Web API client receives; never asks for a retry itself (put it first in the list)."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000)

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:
            RATE_LIMITED.labels(_method(request.url)).inc()
        return False


def _method(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0][:60] or "?"


def counting_429s(client: Any) -> Any:
    """The client, with the 429 counter ahead of its own retry handlers."""
    client.retry_handlers = [RateLimitCounter(), *client.retry_handlers]
    return client


# When the Slack request being handled arrived (set by the web layer; Socket Mode: when bolt got it).
RECEIVED: ContextVar[float | None] = ContextVar("readiness_received", default=None)


def kind_of(body: dict[str, Any]) -> str:
    """A Slack request's kind, as the metrics label it: command, block_actions, view_submission, event, ..."""
    if body.get("command"):
        return "command"
    kind = str(body.get("type") or "other")
    return "event" if kind == "event_callback" else kind[:40]


class ScreenTimer:
    """Observes time-to-screen once the last piece of a request's work after the ack has finished."""

    def __init__(self, jobs: int, kind: str) -> None:
        self.left, self.kind = jobs, kind
        self.started = RECEIVED.get() or time.perf_counter()
        self._lock = threading.Lock()

    def wrap(self, job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            finally:
                with self._lock:
                    self.left -= 1
                    last = self.left == 0
                if last:
                    SCREEN_SECONDS.labels(self.kind).observe(time.perf_counter() - self.started)

        return run
