"""Delivery of the outbox: claim due rows, re-check them, post once, record the result.

Exactly-once on top of at-least-once: a claim commits before any Slack call; every post carries its
dedupe keys in Slack message metadata; a row whose fate is unknown (a timeout, a 5xx, a worker that
died mid-post) is looked up in the channel's recent history before it is sent again.
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.reminder_plan import ReminderPolicy, zone
from bot.core.slack_failures import TOKEN, Failure, permanent
from bot.core.surface_hash import content_hash
from bot.db import db_now, session_scope
from bot.installs.clients import UNINSTALLED, WorkspaceClients
from bot.observe import metrics
from bot.observe.logcontext import about
from bot.services import config, notices, outbox, surfaces
from bot.services.golive import ISSUE
from bot.services.notices import DELIVERY_FAILED, EVIDENCE_KINDS, REVIEW_KINDS
from bot.services.outbox import REFRESH, REFRESH_KINDS
from bot.services.reminders import DM_KINDS
from bot.services.workspaces import uninstalled_of
from handlers.blocks.reminders import replaced
from models import Assessment, OutboxMessage
from models.outbox import UNKNOWN
from scheduler import refresh
from scheduler.crash import crash_point
from scheduler.messages import Claimed, Composition, Target, compose, groups, previous_reminder

log = logging.getLogger(__name__)

METADATA_EVENT = "readiness_outbox"
IMMEDIATE_KINDS = (*REVIEW_KINDS, ISSUE, *EVIDENCE_KINDS, DELIVERY_FAILED, *REFRESH_KINDS)
HISTORY_PAGE = 15  # messages a history call asks for: what Slack gives apps outside the Marketplace
HISTORY_PAGES = 20  # pages looked at (300 messages), inside the window from the row's due time to now
READING_TTL = 900.0  # seconds a look-up paused by a 429 is remembered, to go on from the page it reached
NOT_SERVED_RETRY = 60.0  # seconds between looks at a workspace without a valid installation
GONE_READ_FOR = 1.0  # seconds an uninstall read with the claim is trusted; later posts of the sweep read it anew
# what Slack answers a history look-up in a channel the bot is not in (public) or cannot see (private)
UNREADABLE = ("not_in_channel", "channel_not_found")


def outbox_metadata(keys: list[str]) -> dict[str, Any]:
    """The message metadata that names the outbox rows a post delivers: an array of flat objects, one of the
    shapes Slack documents for event_payload values (an array of strings is not, and is dropped)."""
    return {"event_type": METADATA_EVENT, "event_payload": {"keys": [{"key": key} for key in keys]}}


def keys_of(metadata: dict[str, Any] | None) -> list[str]:
    """The outbox keys a message carries (also in the plain-string shape of posts made before)."""
    metadata = metadata or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return []
    found = []
    for item in (metadata.get("event_payload") or {}).get("keys") or []:
        key = item.get("key") if isinstance(item, dict) else item
        if isinstance(key, str):
            found.append(key)
    return found


@dataclass
class Pacer:
    """About one message per second per channel, and nothing to a channel Slack asked us to wait on."""

    interval: float = 1.0
    last: dict[str, float] = field(default_factory=dict)
    blocked_until: dict[str, float] = field(default_factory=dict)

    def blocked(self, channel: str) -> float:
        return max(0.0, self.blocked_until.get(channel, 0.0) - time.monotonic())

    def gap(self, channel: str) -> float:
        """Seconds until the channel may have its next message (0: now)."""
        return max(0.0, self.interval - (time.monotonic() - self.last.get(channel, 0.0)))

    def wait(self, channel: str) -> None:
        gap = self.gap(channel)
        if gap > 0:
            time.sleep(gap)

    def posted(self, channel: str) -> None:
        self.last[channel] = time.monotonic()

    def block(self, channel: str, seconds: float) -> None:
        self.blocked_until[channel] = time.monotonic() + seconds


@dataclass(frozen=True)
class _Paced:
    """A post set aside in a sweep: its channel had a message less than a pace ago."""

    channel: str


def sending_client(token: str | None, base_url: str | None, timeout: float = 10) -> WebClient:
    """A client with no automatic retry at all: a retried post could reach Slack twice."""
    kwargs: dict[str, Any] = {"token": token, "timeout": timeout}
    if base_url:
        kwargs["base_url"] = base_url
    client = WebClient(**kwargs)
    client.retry_handlers = []
    return client


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
        policy: ReminderPolicy | None = None,
        workspaces: WorkspaceClients | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.workspaces = workspaces  # each workspace's client; None: ``client`` serves every workspace
        self.stopping = threading.Event()
        self._claimed: dict[int, Claimed] = {}
        # when the claim was made, and which of its rows' workspaces had uninstalled the app then
        self._gone: tuple[float, set[str]] = (0.0, set())
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.lease = lease
        self.max_attempts = max_attempts
        self.batch = batch
        self.pacer = pacer or Pacer()
        self.clock = clock
        self.policy = policy or ReminderPolicy()
        self._lock = threading.Lock()
        self._kicks = threading.Condition()  # kick(): the sweep running for kicks, and the kicks it serves
        self._kicks_asked = self._kicks_served = 0
        self._kick_running = False
        self._readings: dict[tuple[Any, ...], _Reading] = {}  # history look-ups paused by Slack (a 429)

    # -- the jobs ----------------------------------------------------------------------------------

    def sweep(self, kinds: Iterable[str] | None = None) -> int:
        """Claim what is due (of ``kinds``, or everything) and deliver it. Returns the number of rows claimed."""
        with self._lock:
            if self.stopping.is_set():
                return 0
            with session_scope(self.sessions) as session:
                rows = outbox.claim_due(session, owner=self.worker_id, lease=self.lease, limit=self.batch,
                                        kinds=kinds)
                claimed = [self._snapshot(row, before) for row, before in rows]
                # read with the claim rather than once per workspace: a workspace gone is sent nothing
                gone = uninstalled_of(session, (row.team_id for row in claimed)) \
                    if claimed and self.workspaces is not None else set()
            if not claimed:
                return 0
            self._claimed, self._gone = {row.id: row for row in claimed}, (time.monotonic(), gone)
            crash_point("after_claim")
            # what shows a review is edited first: an edit is not paced, while a new post may wait its turn in
            # the channel (a second apart), and the edit is what the person who just acted is looking at.
            # A post that would wait is set aside, so a burst to one channel holds up no other channel's post.
            waiting: dict[str, list[list[Claimed]]] = {}
            for group in sorted(groups(claimed), key=lambda g: g[0].kind != REFRESH):
                if self.stopping.is_set():  # shutting down: what is left goes back at once (release)
                    return len(claimed)
                paced = self._deliver_to_workspace(group, may_wait=False)
                if paced is not None:
                    waiting.setdefault(paced, []).append(group)
            self._deliver_paced(waiting)
            return len(claimed)

    def kick(self) -> int:
        """Deliver now what requests just queued (alerts, DMs, results, reported issues); reminders wait
        for their time and the regular sweep. Returns once a sweep that began after the call has ended.

        Kicks coalesce: while one kick's sweep runs, the kicks that come in wait for it, and the next sweep
        (made by one of them) serves every one that was waiting, so a burst of requests claims a few times,
        not once per request behind the sweep's lock."""
        with self._kicks:
            self._kicks_asked += 1
            ticket = self._kicks_asked
            while self._kick_running and self._kicks_served < ticket:
                self._kicks.wait()
            if self._kicks_served >= ticket:  # a sweep that began after this call has delivered its rows
                return 0
            self._kick_running, covered = True, self._kicks_asked
        try:
            return self.sweep(kinds=IMMEDIATE_KINDS)
        finally:
            with self._kicks:
                self._kick_running, self._kicks_served = False, max(self._kicks_served, covered)
                self._kicks.notify_all()

    def reap(self) -> int:
        with session_scope(self.sessions) as session:
            return outbox.reap_expired_leases(session)

    def stop(self) -> None:
        """No new claims; the sweep running now stops after the message it is posting."""
        self.stopping.set()

    def release(self) -> int:
        """Give back every row this worker claimed and did not post, due at once, so another replica takes it at
        its next sweep rather than after the lease. Waits for a sweep in progress. Returns the rows released."""
        with self._lock, session_scope(self.sessions) as session:
            pending = [i for i, row in self._claimed.items() if not row.was_unknown]
            released = outbox.release(session, self.worker_id, pending_ids=pending)
        for kind, count in released.items():
            metrics.DELIVERIES.labels(kind, "released").inc(count)
        return sum(released.values())

    # -- internals ---------------------------------------------------------------------------------

    def _deliver_paced(self, waiting: dict[str, list[list[Claimed]]]) -> None:
        """The posts set aside, each channel's in order, a pace apart; the channel free soonest goes first."""
        now = time.monotonic()
        queue = [(now + self.pacer.gap(channel), n, channel) for n, channel in enumerate(waiting)]
        heapq.heapify(queue)
        while queue and not self.stopping.is_set():
            _, n, channel = heapq.heappop(queue)
            self._deliver_to_workspace(waiting[channel].pop(0))
            if waiting[channel]:
                heapq.heappush(queue, (time.monotonic() + self.pacer.gap(channel), n, channel))

    def _deliver_to_workspace(self, group: list[Claimed], *, may_wait: bool = True) -> str | None:
        """The one place the workspace's client is chosen; a workspace that cannot be served gets nothing.
        With ``may_wait`` False, a post whose channel is not free yet is not made: its channel is returned."""
        ids = [row.id for row in group]
        with about(team_id=group[0].team_id, outbox_row_id=ids[0] if len(ids) == 1 else ids):
            client = self.client
            if self.workspaces is not None:
                team, (read_at, gone) = group[0].team_id, self._gone
                known = team in gone if time.monotonic() - read_at < GONE_READ_FOR else None  # None: read it now
                resolved = self.workspaces.resolve(team, uninstalled=known)
                if resolved.client is None:
                    self._not_served(group, str(resolved.why_not))
                    return None
                client = resolved.client
            default, self.client = self.client, client  # under the sweep's lock: one group at a time
            try:
                finished = self._deliver(group, may_wait=may_wait)
            finally:
                self.client = default
            if isinstance(finished, _Paced):
                return finished.channel
            if finished is not None:  # a refresh says how it ended: nothing to read back
                metrics.DELIVERIES.labels(group[0].kind, finished).inc()
                return None
            with session_scope(self.sessions) as session:
                for kind, status in outbox.statuses(session, ids):
                    metrics.DELIVERIES.labels(kind, status).inc()
            return None

    def _not_served(self, group: list[Claimed], why: str) -> None:
        if why == UNINSTALLED:
            self._record(group, lambda s, r: outbox.mark_cancelled(s, r.id, self.worker_id, f"cancelled: {why}"))
            metrics.DELIVERIES.labels(group[0].kind, "cancelled").inc(len(group))
            return
        log.warning("workspace %s has %s: %d message(s) wait until it is installed again", group[0].team_id, why,
                    len(group))
        self._retry(group, after=NOT_SERVED_RETRY, error=f"not sent: {why}", unknown=False, counts=False)
        metrics.DELIVERIES.labels(group[0].kind, "held").inc(len(group))

    @staticmethod
    def _snapshot(row: OutboxMessage, before: str) -> Claimed:
        return Claimed(row.id, row.team_id, row.dedupe_key, row.kind, row.recipient, row.assessment_id,
                       row.item_id, dict(row.payload or {}), before == UNKNOWN, row.due_at)

    def _now(self, session: Session) -> datetime:
        return self.clock() if self.clock else db_now(session)

    def _today(self, session: Session, tz: str | None) -> date:
        return self._now(session).astimezone(zone(tz)).date()

    def _deliver(self, group: list[Claimed], *, may_wait: bool = True) -> str | _Paced | None:
        """Deliver one group; a refresh returns the status it finished its row with (None: read it back).
        With ``may_wait`` False, a post whose channel is not free yet comes back as ``_Paced``, not made."""
        if group[0].kind in REFRESH_KINDS:  # updates in place, drawn as things are now: no history to check
            return refresh.run(self, group[0])
        with session_scope(self.sessions) as session:
            composed = compose(session, group, self._today, self._now, self.policy)
            for row in composed.stale:
                outbox.mark_cancelled(session, row.id, self.worker_id, "no longer applies")
            hold = (composed.hold_until - self._now(session)).total_seconds() if composed.hold_until else 0.0
        if composed.rows and composed.hold_until is not None:
            self._retry(composed.rows, after=max(1.0, hold), error="held until the recipient's working hours",
                        unknown=False, counts=False)
            return None
        if not composed.rows or composed.target is None:
            return None
        if not may_wait and self.pacer.gap(composed.target.channel) > 0 \
                and not self.pacer.blocked(composed.target.channel):
            return _Paced(composed.target.channel)
        rows, target, text, blocks = composed.rows, composed.target, composed.text, composed.blocks
        keys = [row.dedupe_key for row in rows]

        if any(row.was_unknown for row in rows):
            try:
                found = self._look_up(rows, target, keys)
            except _HistoryUnavailable as unreadable:
                if unreadable.retry_after is not None:  # Slack's pace for history, not a failure: no attempt used
                    self._retry(rows, after=unreadable.retry_after, unknown=True, counts=False,
                                error=f"{UNKNOWN}: history look-up paused by Slack ({unreadable.retry_after:g}s)")
                elif unreadable.failure is not None:  # never posted blindly: it may be there already
                    self._give_up(rows, unreadable.failure, target, maybe_posted=True)
                else:
                    self._retry(rows, after=self._backoff(rows), error=f"{UNKNOWN}: history unreadable", unknown=True)
                return
            if found:
                channel, posted = found
                self._record(rows, lambda s, r: outbox.mark_sent(s, r.id, self.worker_id, channel,
                                                                 posted[r.dedupe_key])
                             if r.dedupe_key in posted else True)
                if len(rows) == 1 and rows[0].dedupe_key in posted:
                    self._register(composed, channel, posted[rows[0].dedupe_key])
                rows = [r for r in rows if r.dedupe_key not in posted]
                if not rows:
                    return
                keys = [row.dedupe_key for row in rows]

        blocked = self.pacer.blocked(target.channel)
        if blocked:
            self._retry(rows, after=blocked, error="paused: Slack asked to slow down", unknown=False, counts=False)
            return
        self.pacer.wait(target.channel)
        if not self._still_held(rows):
            return
        try:
            response = self.client.chat_postMessage(
                channel=target.channel, thread_ts=target.thread_ts, text=text, blocks=blocks,
                reply_broadcast=target.broadcast if target.thread_ts else None, metadata=outbox_metadata(keys),
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or status)
            failure = permanent(error) if status < 500 else None
            if failure is not None:
                self._give_up(rows, failure, target)
            elif status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
                self.pacer.block(target.channel, retry_after)
                self._retry(rows, after=retry_after, error=f"ratelimited ({retry_after:g}s)", unknown=False,
                            counts=False)
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
        crash_point("after_post")
        warnings = (response.get("response_metadata") or {}).get("warnings") or []
        if warnings:  # Slack took the post but not all of it (metadata it did not accept, for one)
            log.warning("Slack warned about outbox row(s) %s: %s", ",".join(str(r.id) for r in rows),
                        ", ".join(warnings))
        channel, ts = str(response["channel"]), str(response["ts"])
        self._record(rows, lambda s, r: outbox.mark_sent(s, r.id, self.worker_id, channel, ts, at=self._now(s)))
        self._register(composed, channel, ts)
        if rows[0].kind in DM_KINDS:
            self._replace_previous(rows[0], ts)

    def _replace_previous(self, row: Claimed, ts: str) -> None:
        """A newer reminder went out: the previous one is edited to say so, without its buttons (no stale
        reminder stays clickable). A failure here costs nothing but a stale DM: logged, not retried."""
        with session_scope(self.sessions) as session:
            previous = previous_reminder(session, row.team_id, row.recipient, ts)
        if previous is None:
            return
        text, blocks = replaced(None)
        try:
            self.client.chat_update(channel=previous[0], ts=previous[1], text=text, blocks=blocks)
        except (SlackApiError, URLError, TimeoutError, OSError) as exc:
            log.warning("the reminder %s of %s was not marked replaced: %s", previous[1], row.recipient, exc)

    def _register(self, composed: Composition, channel: str, ts: str) -> None:
        """A post that shows its review is one of the review's surfaces from now on: kept current, or (a
        moment) checked by each refresh and marked superseded once what it says stops being true."""
        note, row = composed.surface, composed.rows[0]
        if note is None or row.assessment_id is None:
            return
        with session_scope(self.sessions) as session:
            payload = {"text": composed.text, "blocks": composed.blocks or []} if note.asserts is not None else {}
            surfaces.register(session, row.team_id, row.assessment_id, note.role, note.key, channel, ts, rev=note.rev,
                              shown_hash=content_hash(composed.text, composed.blocks or []), asserts=note.asserts,
                              payload=payload)
            assessment = session.get(Assessment, row.assessment_id)
            if assessment is not None and (assessment.state_rev or 0) > note.rev:
                # drawn before a change whose refresh already ran: the next refresh draws it again
                surfaces.owe_refresh(session, row.team_id, row.assessment_id)

    def _give_up(self, rows: list[Claimed], failure: Failure, target: Target, *, maybe_posted: bool = False) -> None:
        """Slack refused for a reason no retry can fix: the rows are dead now, and whoever can fix it is told
        (by a direct message through the outbox; never about a notice of this kind itself, so no loop).
        ``maybe_posted``: the rows' fate is unknown and cannot be looked up, so the notice says they may be in
        Slack already, and reviving them looks in the history before anything is posted."""
        with session_scope(self.sessions) as session:
            for row in rows:
                if not outbox.give_up(session, row.id, self.worker_id, failure.error, maybe_posted=maybe_posted):
                    continue
                log.error("outbox row %s (%s to %s) is dead: Slack answered %s, which no retry can fix",
                          row.id, row.kind, target.channel, failure.error)
                if row.kind != DELIVERY_FAILED and failure.kind != TOKEN:
                    notices.enqueue_delivery_failed(session, row.team_id, row.id, row.kind, row.assessment_id,
                                                    target.channel, failure.error, to_admins=failure.tell_admins,
                                                    revival=outbox.revivals(row.payload), maybe_posted=maybe_posted)

    def _still_held(self, rows: list[Claimed]) -> bool:
        """Renew the claim right before posting. If any row was taken over (its lease ran out while this batch
        was paced or slow), post nothing: its new holder checks the history and posts it once; the rows
        still held go back to be claimed again."""
        with session_scope(self.sessions) as session:
            held = outbox.renew(session, [r.id for r in rows], self.worker_id, self.lease)
        if len(held) == len(rows):
            return True
        for unknown in (False, True):
            back = [r for r in rows if r.id in held and r.was_unknown is unknown]
            if back:
                self._retry(back, after=0, error="claim partly taken over before posting", unknown=unknown,
                            counts=False)
        return False

    def _record(self, rows: list[Claimed], action: Callable[[Session, Claimed], object]) -> None:
        with session_scope(self.sessions) as session:
            for row in rows:
                action(session, row)

    def _retry(self, rows: list[Claimed], *, after: float, error: str, unknown: bool, counts: bool = True) -> None:
        with session_scope(self.sessions) as session:
            for row in rows:
                status = outbox.retry_later(session, row.id, self.worker_id, after=timedelta(seconds=after),
                                            error=error, unknown=unknown, max_attempts=self.max_attempts,
                                            counts=counts)
                if status == "dead":
                    log.error("outbox row %s (%s) is dead after %s attempts: %s", row.id, row.dedupe_key,
                              self.max_attempts, error)
                elif counts:
                    log.warning("outbox row %s (%s) not delivered: %s; trying again in %.0fs", row.id, row.kind,
                                error, after)

    def _backoff(self, rows: list[Claimed]) -> float:
        with session_scope(self.sessions) as session:
            attempts = max((session.get(OutboxMessage, r.id).attempts for r in rows), default=1)  # type: ignore[union-attr]
        return float(min(300, 2 ** attempts))

    def _look_up(self, rows: list[Claimed], target: Target, keys: list[str]) -> tuple[str, dict[str, str]] | None:
        """Whether an unknown post is in the channel already. A bot reads only the history of conversations it is
        in: when Slack says so and the workspace lets Readiness join public channels (`/readiness config`), it
        joins and looks again; otherwise the history stays unreadable (``_HistoryUnavailable``)."""
        since = min((r.due_at for r in rows if r.due_at), default=None)
        try:
            return self._already_posted(rows[0].team_id, target, keys, since=since)
        except _HistoryUnavailable as unreadable:
            if not self._joined(rows[0].team_id, target, unreadable.failure):
                raise
        return self._already_posted(rows[0].team_id, target, keys, since=since)

    def _joined(self, team_id: str, target: Target, failure: Failure | None) -> bool:
        """Joined ``target``'s channel to read it, when that can help and the workspace allows it."""
        if failure is None or failure.error not in UNREADABLE or target.is_dm:
            return False
        with session_scope(self.sessions) as session:
            if not config.get(session, team_id).join_channels:
                return False
        try:
            self.client.conversations_join(channel=target.channel)
        except SlackApiError as exc:  # a private channel, archived, no channels:join: it stays unreadable
            log.warning("could not join %s to read its history: %s", target.channel, exc.response.get("error"))
            return False
        except (URLError, TimeoutError, OSError) as exc:
            log.warning("could not join %s to read its history: %s", target.channel, exc)
            return False
        log.info("joined %s to look for a message whose answer was lost", target.channel)
        return True

    def _already_posted(self, team_id: str, target: Target, keys: list[str],
                        since: datetime | None = None) -> tuple[str, dict[str, str]] | None:
        """Earlier posts of these keys in the channel's history: the channel and each found key's ts.

        Only the window in which they can have been posted is read (from the rows' due time to now), page by
        page (HISTORY_PAGE messages a call) and at most HISTORY_PAGES pages; every message is looked at, as rows
        retried together may have been posted in different messages. Slack allows apps outside the Marketplace
        one history call a minute: a 429 keeps the reading where it got to (this replica resumes from that
        page after Retry-After) and pauses every look-up of the workspace with that method until then.
        """
        wanted, pace = set(keys), _history_method(target) + "@" + team_id
        waiting = self.pacer.blocked(pace)
        if waiting:
            raise _HistoryUnavailable(retry_after=waiting)
        where = (team_id, target.channel, target.thread_ts, tuple(sorted(wanted)))
        reading = self._readings.pop(where, None)
        try:
            if reading is None:
                reading = self._start_reading(target, since)
            while reading.pages < HISTORY_PAGES:
                history = self._history_page(target, reading)
                reading.pages += 1
                for message in history.get("messages", []):
                    for key in set(keys_of(message.get("metadata"))) & wanted:
                        reading.found.setdefault(key, str(message["ts"]))
                reading.cursor = (history.get("response_metadata") or {}).get("next_cursor") or None
                if not history.get("has_more") or not reading.cursor or len(reading.found) == len(wanted):
                    break
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
                self.pacer.block(pace, retry_after)
                if reading is not None:
                    self._keep_reading(where, reading)
                log.info("history of %s: Slack asked to wait %gs; the look-up goes on then", target.channel,
                         retry_after)
                raise _HistoryUnavailable(retry_after=retry_after) from exc
            failure = permanent(str(exc.response.get("error") or "")) if exc.response.status_code < 500 else None
            log.warning("could not read history of %s: %s", target.channel, exc.response.get("error"))
            raise _HistoryUnavailable(failure) from exc
        except (URLError, TimeoutError, OSError) as exc:
            log.warning("could not read history of %s: %s", target.channel, exc)
            raise _HistoryUnavailable from exc
        return (reading.channel, reading.found) if reading.found else None

    def _start_reading(self, target: Target, since: datetime | None) -> _Reading:
        channel = target.channel
        if target.is_dm:
            channel = str(self.client.conversations_open(users=target.channel)["channel"]["id"])
        window: dict[str, Any] = {"include_all_metadata": True, "limit": HISTORY_PAGE,
                                  "latest": f"{time.time() + 60:.6f}"}
        if since is not None:
            window["oldest"] = f"{since.timestamp() - 60:.6f}"
        return _Reading(channel, window)

    def _history_page(self, target: Target, reading: _Reading) -> Any:
        if target.thread_ts:
            return self.client.conversations_replies(channel=reading.channel, ts=target.thread_ts,
                                                     cursor=reading.cursor, **reading.window)
        return self.client.conversations_history(channel=reading.channel, cursor=reading.cursor, **reading.window)

    def _keep_reading(self, where: tuple[Any, ...], reading: _Reading) -> None:
        """Remember how far a look-up got, for its next try on this replica (forgotten after READING_TTL)."""
        now = time.monotonic()
        for stale in [k for k, r in self._readings.items() if now - r.started > READING_TTL]:
            del self._readings[stale]
        self._readings[where] = reading


def _history_method(target: Target) -> str:
    return "conversations.replies" if target.thread_ts else "conversations.history"


@dataclass
class _Reading:
    """A history look-up under way: the conversation, its fixed window, the next page's cursor, what was found."""

    channel: str
    window: dict[str, Any]
    cursor: str | None = None
    pages: int = 0
    found: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


class _HistoryUnavailable(Exception):
    """The history could not be read, so an unknown row must not be sent again yet; ``failure`` when it never
    can be (the bot was removed from the channel); ``retry_after`` when Slack asked to wait (a 429)."""

    def __init__(self, failure: Failure | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(failure.error if failure else "history unreadable")
        self.failure, self.retry_after = failure, retry_after
