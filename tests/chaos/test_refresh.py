"""Chaos for what shows a review: three real replicas keep one review's messages current while the test marks an
item every 0.4 s and kills replicas (SIGKILL at random, and a crash point right after a refresh drew the review
and before it updated anything).

Every mark raises the score by one (an item re-marked from No to Partial, none of them a blocker), so the scores
a message shows over time must never go down: an older state posted after a newer one would. At the end every
message shows the database's state, no refresh row is lost or dead, the crash point fired, and the figures are
printed and written to test-artifacts/chaos-refresh-<db>.txt.
"""

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.context import RequestScope
from bot.core.checklist import Checklist, Mark
from bot.db import db_now, session_factory, session_scope
from bot.sandbox.server import SlackSandbox
from bot.services import outbox, signoff
from bot.services.assessments import MarkRequest, StartRequest, ensure_workspace, start_assessment
from bot.services.marks import record_mark
from bot.services.reviews import load_review
from handlers.publish import post_review
from models import OutboxMessage, Surface
from models.surface import MOMENT
from scheduler.refresh import draw

from .fleet import CRASH_EXIT, Fleet
from .test_chaos import ARTIFACTS, replica_env

pytestmark = pytest.mark.slow

TEAM, LEAD, OWNER = "T0CHAOS", "U0CHLEAD", "U0CHOWNER"
REVIEW, RELEASE = "C0CHREVIEW", "C0CHRELEASE"
REPLICAS = ("r1", "r2", "r3")
MARK_EVERY = 0.4
SEED = 20261207


def marker(blocks: Any) -> tuple[str, int] | None:
    """(verdict, score) from a message's state marker."""
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("state:"):
            _, verdict, score, _outcome = block_id.split(":")
            return verdict, int(score)
    return None


def words(value: Any) -> list[str]:
    """Every text a message shows (Slack adds defaults to the blocks it stores; the words are what count)."""
    if isinstance(value, dict):
        return [w for k, v in sorted(value.items()) for w in (words(v) if k not in ("type", "block_id") else [])]
    if isinstance(value, list):
        return [w for v in value for w in words(v)]
    return [str(value)] if isinstance(value, str) else []


def open_due(sessions) -> int:  # noqa: ANN001
    with session_scope(sessions) as s:
        soon = db_now(s) + timedelta(seconds=2)
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.status.in_(outbox.OPEN))).all()
        return sum(1 for r in rows if r.status != "pending" or r.next_attempt_at <= soon)


def wait(condition, timeout: float, fleet: Fleet, fired: dict[str, float]) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        restart(fleet, fired)
        if condition():
            return True
        time.sleep(0.2)
    return False


def restart(fleet: Fleet, fired: dict[str, float]) -> list[str]:
    """Restart replicas that died at their crash point (without it); anything else is a problem."""
    problems = []
    for replica, code in fleet.poll():
        if replica.crash_at and code == CRASH_EXIT:
            fired[replica.crash_at] = time.time()
        else:
            problems.append(f"{replica.name} died by itself ({code}): {fleet.stderr_tail(replica)}")
        fleet.start(replica.name)
    return problems


def set_up(sessions, sandbox: SlackSandbox, checklist: Checklist) -> tuple[int, list[str]]:  # noqa: ANN001
    """A complete review, every item No (score 0), posted in the review channel; the items to mark Partial."""
    sandbox.add_channel(REVIEW, "chaos-review", bot_is_member=True)
    sandbox.add_channel(RELEASE, "chaos-release", bot_is_member=True)
    sandbox.add_user(LEAD, "lead", tz="UTC")
    sandbox.add_user(OWNER, "owner", tz="UTC")
    with session_scope(sessions) as s:
        ensure_workspace(s, TEAM, "chaos")
        review = start_assessment(s, checklist, StartRequest(team_id=TEAM, system="chaos-refresh", version="1.0",
                                                             started_by=LEAD, channel_id=REVIEW,
                                                             release_channel_id=RELEASE))
        aid = review.id
    post_review(WebClient(token=sandbox.token, base_url=sandbox.api_url), RequestScope(sessions), TEAM, aid, REVIEW)
    with session_scope(sessions) as s:
        for item in checklist.item_ids:
            record_mark(s, TEAM, aid, MarkRequest(item_id=item, mark=Mark.NO, evidence="chaos evidence"),
                        actor=LEAD, today=date.today())
    safe = [i for i in checklist.item_ids if Mark.PARTIAL not in checklist.blocks_on(checklist.item(i))]
    return aid, safe


def mark(sessions, aid: int, item: str) -> None:  # noqa: ANN001
    """One more point: the item re-marked from No to Partial."""
    with session_scope(sessions) as s:
        record_mark(s, TEAM, aid, MarkRequest(item_id=item, mark=Mark.PARTIAL, owner=OWNER,
                                              due=date.today() + timedelta(days=20), note="chaos gap"),
                    actor=LEAD, today=date.today())


def audit(sessions, sandbox: SlackSandbox, aid: int) -> tuple[dict[str, Any], list[str]]:  # noqa: ANN001
    problems: list[str] = []
    with session_scope(sessions) as s:
        review = load_review(s, TEAM, aid)
        st = signoff.state(s, TEAM, aid)
        surfaces = [x for x in s.scalars(select(Surface).where(Surface.assessment_id == aid)) if x.role != MOMENT]
        shown = [(x.channel_id, x.ts, x.role) for x in surfaces]
        drawn = {x.ts: draw(review, st, x) for x in surfaces}  # each message as the database says it must look
        refreshes = s.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(outbox.REFRESH_KINDS))).all()
        dead = [f"{r.dedupe_key}: {r.last_error}" for r in s.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "dead"))]
    want = (review.card.verdict.value, review.card.score)
    assert st.outcome is None
    for channel, ts, role in shown:
        message = sandbox.find_message(channel, ts)
        now = marker(message["blocks"]) if message else None
        if now is not None and now != want:
            problems.append(f"the {role} message {ts} shows {now}, the database {want}")
        expected = drawn[ts]
        if message is None or expected is None or words(message["blocks"]) != words(expected[1]):
            got, want_words = words(message["blocks"]) if message else [], words(expected[1]) if expected else []
            diff = [(a, b) for a, b in zip(got, want_words, strict=False) if a != b][:1] or (len(got), len(want_words))
            problems.append(f"the {role} message {ts} is not what the database says it must show now: {diff}")
    ts_of = {ts for _, ts, _ in shown}
    sequences: dict[str, list[int]] = {}
    for call in sandbox.calls_to("chat.update"):
        if call.ok and call.args.get("ts") in ts_of and (m := marker(call.args.get("blocks"))) is not None:
            sequences.setdefault(str(call.args["ts"]), []).append(m[1])
    for ts, scores in sequences.items():
        older = [(a, b) for a, b in zip(scores, scores[1:], strict=False) if b < a]
        if older:
            problems.append(f"message {ts} went back to an older state: scores in order {scores}")
    problems += [f"dead row: {d}" for d in dead]
    problems += [f"refresh row {r.dedupe_key} is {r.status}" for r in refreshes if r.status != "sent"]
    problems += [f"sandbox: {v}" for v in sandbox.violations]
    figures = {"surfaces kept current": len(shown), "updates sent": sum(len(v) for v in sequences.values()),
               "most updates of one message": max((len(v) for v in sequences.values()), default=0),
               "final state": f"{want[0]} {want[1]}", "refresh rows": len(refreshes)}
    return figures, problems


def test_a_killed_replica_loses_no_update_and_no_older_state_is_posted(chaos_db, tmp_path: Path,
                                                                     checklist: Checklist):
    db, url, engine = chaos_db
    started = time.monotonic()
    sessions = session_factory(engine)
    sandbox = SlackSandbox(token="xoxb-chaos-sandbox", team_id=TEAM).start()
    fleet = Fleet(replica_env(url, sandbox), tmp_path / "replicas")
    (tmp_path / "replicas").mkdir()
    kills, rng = 0, random.Random(SEED)
    fired: dict[str, float] = {}
    problems: list[str] = []
    try:
        aid, items = set_up(sessions, sandbox, checklist)
        fleet.start("r2")
        fleet.wait_serving(["r2"])
        if not wait(lambda: open_due(sessions) == 0, 60, fleet, fired):  # the set-up's messages, delivered
            problems.append("the set-up's messages were not delivered within 60 s")
        fleet.kill("r2")
        fleet.poll()  # noted as stopped, not restarted: r1 must be alone for its crash point
        # r1 alone, with the crash point: it claims the first mark's refresh, draws it, and dies before any update
        fleet.start("r1", crash_at="refresh_drawn")
        fleet.wait_serving(["r1"])
        mark(sessions, aid, items[0])
        if not wait(lambda: "refresh_drawn" in fired, 30, fleet, fired):
            problems.append("r1 did not reach its crash point within 30 s")
        fleet.start("r2")
        fleet.start("r3")
        fleet.wait_serving(list(REPLICAS))
        next_kill = time.time() + rng.uniform(1.0, 2.0)
        for item in items[1:]:
            mark(sessions, aid, item)
            problems += restart(fleet, fired)
            if time.time() >= next_kill and all(fleet.replicas[n].alive for n in REPLICAS):
                victim = rng.choice(REPLICAS)
                fleet.kill(victim)
                fleet.start(victim)
                kills += 1
                next_kill = time.time() + rng.uniform(1.0, 2.0)
            time.sleep(MARK_EVERY)
        settled = wait(lambda: open_due(sessions) == 0, 60, fleet, fired)
    finally:
        fleet.stop_all()
        sandbox.stop()
    figures, found = audit(sessions, sandbox, aid)
    problems += found
    if not settled:
        problems.append("the outbox did not settle within 60 s")
    if "refresh_drawn" not in fired:
        problems.append("the crash point refresh_drawn never fired")
    if kills < 2:
        problems.append(f"only {kills} SIGKILLs happened")
    figures = {"database": db, "marks": len(items), "SIGKILLs": kills, **figures,
               "crash point fired": "refresh_drawn" in fired, "total s": round(time.monotonic() - started, 1)}
    report = "\n".join(f"{k}: {v}" for k, v in figures.items())
    print(f"\nchaos (refresh, {db}):\n{report}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"chaos-refresh-{db}.txt").write_text(report + "\n" + "\n".join(problems) + "\n")
    assert not problems, "\n".join(problems)
