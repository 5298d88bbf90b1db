"""Delivery of the outbox: claim due rows, re-check them, post once, record the result.

Exactly-once on top of at-least-once: a claim commits before any Slack call; every post carries its
dedupe keys in Slack message metadata; a row whose fate is unknown (a timeout, a 5xx, a worker that
died mid-post) is looked up in the channel's recent history before it is sent again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.checklist import Mark
from bot.db import db_now, session_scope
from bot.reminder_plan import zone
from bot.review import message_link, part_of_item
from bot.services import outbox
from bot.services.assessments import checklist_of
from bot.services.reminders import (
    DM_KINDS,
    ESCALATION_CHANNEL,
    ESCALATION_THREAD,
    is_open_gap,
    timezone_of,
)
from handlers.blocks.reminders import GapLine, digest, escalation
from models import Assessment, ItemMark, OutboxMessage
from models.outbox import UNKNOWN

log = logging.getLogger(__name__)

METADATA_EVENT = "readiness_outbox"
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class Claimed:
    id: int
    team_id: str
    dedupe_key: str
    kind: str
    recipient: str
    assessment_id: int | None
    item_id: str | None
    payload: dict[str, Any]
    was_unknown: bool


@dataclass(frozen=True)
class Target:
    """Where a group of rows is posted."""

    channel: str
    thread_ts: str | None = None
    is_dm: bool = False


@dataclass
class Pacer:
    """About one message per second per channel, and nothing to a channel Slack asked us to wait on."""

    interval: float = 1.0
    last: dict[str, float] = field(default_factory=dict)
    blocked_until: dict[str, float] = field(default_factory=dict)

    def blocked(self, channel: str) -> float:
        return max(0.0, self.blocked_until.get(channel, 0.0) - time.monotonic())

    def wait(self, channel: str) -> None:
        gap = self.interval - (time.monotonic() - self.last.get(channel, 0.0))
        if gap > 0:
            time.sleep(gap)

    def posted(self, channel: str) -> None:
        self.last[channel] = time.monotonic()

    def block(self, channel: str, seconds: float) -> None:
        self.blocked_until[channel] = time.monotonic() + seconds


def sending_client(token: str | None, base_url: str | None) -> WebClient:
    """A client with no automatic retry at all: a retried post could reach Slack twice."""
    kwargs: dict[str, Any] = {"token": token, "timeout": 10}
    if base_url:
        kwargs["base_url"] = base_url
    client = WebClient(**kwargs)
    client.retry_handlers = []
    return client


def _crash_point(name: str) -> None:
    """For the chaos test only: READINESS_CRASH_AT=after_claim|after_post kills this process right there."""
    if os.environ.get("READINESS_CRASH_AT") == name:
        log.warning("crash point %s reached: exiting", name)
        os._exit(137)


class Deliverer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 8,
        batch: int = 100,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch
        self.pacer = pacer or Pacer()
        self.clock = clock
        self._lock = threading.Lock()

    # -- the jobs ----------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Claim what is due and deliver it. Returns the number of rows claimed."""
        with self._lock:
            with session_scope(self.sessions) as session:
                rows = outbox.claim_due(session, owner=self.worker_id, lease=self.lease, limit=self.batch)
                claimed = [self._snapshot(row, before) for row, before in rows]
            if not claimed:
                return 0
            _crash_point("after_claim")
            for group in self._groups(claimed):
                self._deliver(group)
            return len(claimed)

    def reap(self) -> int:
        with session_scope(self.sessions) as session:
            return outbox.reap_expired_leases(session)

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _snapshot(row: OutboxMessage, before: str) -> Claimed:
        return Claimed(row.id, row.team_id, row.dedupe_key, row.kind, row.recipient, row.assessment_id,
                       row.item_id, dict(row.payload or {}), before == UNKNOWN)

    @staticmethod
    def _groups(rows: list[Claimed]) -> list[list[Claimed]]:
        """One digest per owner per run; every other row on its own."""
        digests: dict[tuple[str, str], list[Claimed]] = {}
        singles: list[list[Claimed]] = []
        for row in rows:
            if row.kind in DM_KINDS:
                digests.setdefault((row.team_id, row.recipient), []).append(row)
            else:
                singles.append([row])
        return list(digests.values()) + singles

    def _today(self, session: Session, tz: str | None) -> date:
        now = self.clock() if self.clock else db_now(session)
        return now.astimezone(zone(tz)).date()

    def _line(self, session: Session, row: Claimed) -> GapLine | None:
        """The gap as it is now, or None when the reminder no longer applies."""
        if row.assessment_id is None or row.item_id is None:
            return None
        assessment = session.get(Assessment, row.assessment_id)
        if assessment is None or assessment.team_id != row.team_id:
            return None
        mark = session.query(ItemMark).filter_by(
            team_id=row.team_id, assessment_id=assessment.id, item_id=row.item_id
        ).one_or_none()
        if mark is None or not is_open_gap(assessment, mark):
            return None
        if mark.owner != row.payload.get("owner") or mark.due is None or mark.due.isoformat() != row.payload.get("due"):
            return None
        checklist = checklist_of(session, assessment)
        section_ts = (assessment.section_messages or {}).get(part_of_item(checklist, mark.item_id).key)
        link = message_link(assessment.thread_link, assessment.channel_id, section_ts, assessment.thread_ts)
        assert mark.mark is not None
        return GapLine(
            assessment_id=assessment.id,
            label=f"{assessment.system} {assessment.version}",
            item_id=mark.item_id,
            title=checklist.item(mark.item_id).title,
            mark_label=checklist.marks[Mark(mark.mark)].label,
            owner=mark.owner,
            due=mark.due,
            today=self._today(session, timezone_of(session, row.team_id, mark.owner)),
            thread_link=link,
        )

    def _render(self, session: Session, group: list[Claimed], lines: list[GapLine]) -> tuple[Target, str, list[Any]]:
        first = group[0]
        if first.kind in DM_KINDS:
            text, blocks = digest(lines)
            return Target(first.recipient, is_dm=True), text, blocks
        assessment = session.get(Assessment, first.assessment_id)
        assert assessment is not None
        if first.kind == ESCALATION_THREAD:
            text, blocks = escalation(lines[0], in_thread=True)
            return Target(first.recipient, assessment.thread_ts), text, blocks
        if first.kind == ESCALATION_CHANNEL:
            text, blocks = escalation(lines[0], in_thread=False)
            return Target(first.recipient), text, blocks
        raise ValueError(f"unknown outbox kind {first.kind!r}")

    def _deliver(self, group: list[Claimed]) -> None:
        with session_scope(self.sessions) as session:
            wanted: list[tuple[Claimed, GapLine]] = []
            for row in group:
                line = self._line(session, row)
                if line is None:
                    outbox.mark_cancelled(session, row.id, self.worker_id, "no longer applies")
                else:
                    wanted.append((row, line))
            if not wanted:
                return
            rows = [row for row, _ in wanted]
            lines = list({(line.assessment_id, line.item_id): line for _, line in wanted}.values())
            target, text, blocks = self._render(session, rows, lines)
        keys = [row.dedupe_key for row in rows]

        if any(row.was_unknown for row in rows):
            try:
                found = self._already_posted(target, keys)
            except _HistoryUnavailable:
                self._retry(rows, after=self._backoff(rows), error=f"{UNKNOWN}: history unreadable", unknown=True)
                return
            if found:
                channel, ts, posted_keys = found
                self._record(rows, lambda s, r: outbox.mark_sent(s, r.id, self.worker_id, channel, ts)
                             if r.dedupe_key in posted_keys else True)
                rows = [r for r in rows if r.dedupe_key not in posted_keys]
                if not rows:
                    return
                keys = [row.dedupe_key for row in rows]

        blocked = self.pacer.blocked(target.channel)
        if blocked:
            self._retry(rows, after=blocked, error="paused: Slack asked to slow down", unknown=False)
            return
        self.pacer.wait(target.channel)
        try:
            response = self.client.chat_postMessage(
                channel=target.channel, thread_ts=target.thread_ts, text=text, blocks=blocks,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"keys": keys}},
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or status)
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
                self.pacer.block(target.channel, retry_after)
                self._retry(rows, after=retry_after, error=f"ratelimited ({retry_after:g}s)", unknown=False)
            elif status >= 500:
                self._retry(rows, after=self._backoff(rows), error=f"{UNKNOWN}: HTTP {status}", unknown=True)
            else:
                self._retry(rows, after=self._backoff(rows), error=f"refused: {error}", unknown=False)
            return
        except (URLError, TimeoutError, OSError) as exc:
            self._retry(rows, after=self._backoff(rows), error=f"{UNKNOWN}: {type(exc).__name__}", unknown=True)
            return
        finally:
            self.pacer.posted(target.channel)
        _crash_point("after_post")
        channel, ts = str(response["channel"]), str(response["ts"])
        self._record(rows, lambda s, r: outbox.mark_sent(s, r.id, self.worker_id, channel, ts))

    def _record(self, rows: list[Claimed], action: Callable[[Session, Claimed], object]) -> None:
        with session_scope(self.sessions) as session:
            for row in rows:
                action(session, row)

    def _retry(self, rows: list[Claimed], *, after: float, error: str, unknown: bool) -> None:
        with session_scope(self.sessions) as session:
            for row in rows:
                status = outbox.retry_later(session, row.id, self.worker_id, after=timedelta(seconds=after),
                                            error=error, unknown=unknown, max_attempts=self.max_attempts)
                if status == "dead":
                    log.error("outbox row %s (%s) is dead after %s attempts: %s", row.id, row.dedupe_key,
                              self.max_attempts, error)

    def _backoff(self, rows: list[Claimed]) -> float:
        with session_scope(self.sessions) as session:
            attempts = max((session.get(OutboxMessage, r.id).attempts for r in rows), default=1)  # type: ignore[union-attr]
        return float(min(300, 2 ** attempts))

    def _already_posted(self, target: Target, keys: list[str]) -> tuple[str, str, set[str]] | None:
        """Look for an earlier post of these keys in the channel's recent history."""
        try:
            channel = target.channel
            if target.is_dm:
                channel = str(self.client.conversations_open(users=target.channel)["channel"]["id"])
            if target.thread_ts:
                history = self.client.conversations_replies(channel=channel, ts=target.thread_ts,
                                                            include_all_metadata=True, limit=HISTORY_LIMIT)
            else:
                history = self.client.conversations_history(channel=channel, include_all_metadata=True,
                                                            limit=HISTORY_LIMIT)
        except (SlackApiError, URLError, TimeoutError, OSError) as exc:
            log.warning("could not read history of %s: %s", target.channel, exc)
            raise _HistoryUnavailable from exc
        wanted = set(keys)
        for message in history.get("messages", []):
            meta = message.get("metadata") or {}
            if meta.get("event_type") != METADATA_EVENT:
                continue
            posted = set((meta.get("event_payload") or {}).get("keys") or []) & wanted
            if posted:
                return channel, str(message["ts"]), posted
        return None


class _HistoryUnavailable(Exception):
    """The history could not be read, so an unknown row must not be sent again yet."""
