"""One truth on every surface: after every change, each Slack message that shows a review's state agrees with the
database, or says it is superseded.

The scenario: complete a review, request sign-off, two roles approve, then re-mark a gap (the verdict moves),
approve again, a new blocker, a waiver, approve again, a due date moved at the owner's request, the waiver
lapses, and the review is closed. After each step ``stale`` reads every message the sandbox holds (both
channels, their threads, every direct message) and the App Homes, and compares what each shows with the
database: the state marker of a kept-current message (verdict, score, sign-off outcome), the score and
verdict in any notification text, each role's line on the card and the buttons it offers, and what each
moment said (a blocker alert, a cleared notice, a voided notice, a waiver notice, an owner's DM, a moved due
date). Decisions must be voided exactly when the scorecard changed.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.checklist import Verdict
from bot.core.review import Review
from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, TEAM, Conversation, LocalSlack
from bot.services import signoff
from bot.services.reviews import load_review
from bot.services.signoff import ALLOWED, WORDS, SignoffState
from handlers.blocks.text import VERDICT_WORD
from models import Approval, MarkChange
from tests.e2e.test_release_paths import waive
from tests.e2e.test_signoff import click, request_signoff

ALWAYS = {"working_hours": "00:00-23:59:59", "working_days": "mon,tue,wed,thu,fri,sat,sun"}
ACTION_OF = {"approve": "signoff_approve", "staged": "signoff_staged", "reject": "signoff_reject"}


@pytest.fixture
def local(engine, clock):
    with LocalSlack(engine=engine, clock=clock, **ALWAYS) as running:
        yield running
        assert running.sandbox.violations == [], "the bot broke Slack's contract"


def truth(local: LocalSlack) -> tuple[Review, SignoffState]:
    with session_scope(local.sessions) as s:
        return load_review(s, TEAM, 1), signoff.state(s, TEAM, 1)


def everything(local: LocalSlack) -> list[tuple[str, dict[str, Any]]]:
    """Every message the bot has in Slack: both channels with their threads, and each person's DMs."""
    found = [(f"#{c}", m) for c in (REVIEW_CHANNEL, RELEASE_CHANNEL) for m in local.sandbox.all_messages(c)]
    found += [(f"DM {u}", m) for u in local.people.names for m in local.sandbox.dm_messages(u)]
    return [(where, m) for where, m in found if m.get("bot_id") or m.get("app_id") or m.get("user") is None
            or m.get("user") == local.sandbox.bot_user_id]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        out += [e.get("text", "") for e in b.get("elements", []) if isinstance(e, dict) and e.get("type") == "mrkdwn"]
    return out


def stale(local: LocalSlack) -> list[str]:
    """What any surface shows that the database no longer says (empty: one truth everywhere)."""
    review, st = truth(local)
    card, closed = review.card, review.status == "closed"
    want = f"state:{card.verdict.value}:{card.score}:{st.outcome or 'none'}"
    gaps = {item.id: status for item, status in review.gaps()}
    problems: list[str] = []
    for where, m in everything(local):
        blocks, text = m.get("blocks") or [], m.get("text") or ""
        ids = [b.get("block_id", "") for b in blocks]
        said = f"{where} {m['ts']} ({text[:50]!r})"
        if "superseded" in ids:
            if not text.startswith("Superseded: "):
                problems.append(f"{said}: marked superseded in its blocks only")
            continue
        markers = [i for i in ids if i.startswith("state:")]
        if markers and markers[0] != want:
            problems.append(f"{said} shows {markers[0]}, the database {want}")
        if (verdict := re.search(r"verdict (No-go|Go|Narrow|Hold|Incomplete)\b", text)) and \
                verdict.group(1) != VERDICT_WORD[card.verdict]:
            problems.append(f"{said} says verdict {verdict.group(1)}")
        if (score := re.search(r"score (\d+)(?:/| of )", text)) and int(score.group(1)) != card.score:
            problems.append(f"{said} says score {score.group(1)}, the database {card.score}")
        problems += moment_problems(said, text, review, st, gaps, where, closed)
        if text.startswith("Sign-off for") and "header" in json.dumps(blocks):
            problems += card_problems(said, blocks, review, st)
    for user in local.people.names:
        home = local.sandbox.home_view(user)
        if home is None:
            continue
        lines = [line for line in texts(home["blocks"]) for line in line.split("\n") if "(review #1)" in line]
        if closed and lines:
            problems.append(f"App Home of {user} lists the closed review")
        for line in lines:
            if f"score {card.score}/" not in line or f"*{VERDICT_WORD[card.verdict]}*" not in line:
                problems.append(f"App Home of {user} shows {line!r}")
    return problems


def moment_problems(said: str, text: str, review: Review, st: SignoffState, gaps: dict[str, Any], where: str,
                    closed: bool) -> list[str]:
    card = review.card
    checks: list[tuple[re.Pattern[str], Any]] = [
        (re.compile(r"^Blocker in .*?: (\S+) "), lambda item: item in card.blockers),
        (re.compile(r"^Blocker cleared in .*?: (\S+) "), lambda item: item not in card.blockers),
        (re.compile(r"^Blocker (\S+) waived for "), lambda item: item in card.waived_blockers),
        (re.compile(r"^Waiver of (\S+) ended for "), lambda item: item in card.blockers),
        (re.compile(r"^Sign-off decisions voided for "), lambda: st.live_decisions == 0),
        (re.compile(r"^Due date of (\S+) moved from \S+ to (\S+)"),
         lambda item, due: item in gaps and gaps[item].due and gaps[item].due.isoformat() == due),
        (re.compile(r"^You own (\S+) .*, due (\S+)$"),
         lambda item, due: item in gaps and f"DM {gaps[item].owner}" == where
         and (gaps[item].due.isoformat() if gaps[item].due else "no") == due),
    ]
    for pattern, holds in checks:
        found = pattern.search(text)
        if found is None:
            continue
        if closed:
            return [f"{said}: a moment not marked superseded after the close"]
        if not holds(*found.groups()):
            return [f"{said}: no longer true, not marked superseded"]
    return []


def card_problems(said: str, blocks: list[dict[str, Any]], review: Review, st: SignoffState) -> list[str]:
    problems = []
    lines = texts(blocks)
    open_for_decisions = review.status not in ("closed", "live")
    for role in st.roles:
        line = next((x for x in lines if f"*{role.role.title()}*" in x), "")
        if role.decision:
            ok = WORDS[role.decision] in line and "~" not in line
        elif role.voided is not None:
            ok = "voided" in line and "Waiting for a new decision" in line
        else:
            ok = "waiting for a decision" in line
        if not ok:
            problems.append(f"{said}: {role.role} shows {line!r}, decided {role.decision!r}")
        offered = sorted(e["action_id"] for b in blocks if b.get("block_id") == f"decide:{role.role}"
                         for e in b["elements"])
        expected = sorted(ACTION_OF[d] for d in ALLOWED[review.card.verdict]) \
            if open_for_decisions and not role.decision else []
        if offered != expected:
            problems.append(f"{said}: {role.role} offers {offered}, the verdict allows {expected}")
    if not open_for_decisions and any(b["type"] == "actions" for b in blocks):
        problems.append(f"{said}: buttons on the card of a {review.status} review")
    return problems


def live_decisions(local: LocalSlack) -> int:
    with session_scope(local.sessions) as s:
        return len(list(s.scalars(select(Approval).where(Approval.voided_at.is_(None)))))


def decide(local: LocalSlack, convo: Conversation, card: dict, role: str, decision: str, reason: str = "") -> None:
    user = {"quality": local.people.quality, "policy": local.people.policy}[role]
    click(local, user, card, ACTION_OF[decision], role)
    if decision != "approve":
        local.driver.submit_view(user, convo.last_view_id(), {"reason": reason or f"{role} is fine with a stage"})
        local.settle()


def screenshots(local: LocalSlack, engine, name: str, thread: str, card: dict) -> None:  # noqa: ANN001
    """The parent, both results, the card and every superseded moment as Slack draws them, each now and as
    first posted, at 1280 and 400 px: test-artifacts/truth-<name>-<width>.png (on one database only)."""
    if engine.dialect.name != "sqlite":
        return
    from bot.sandbox.slack_html import collect, pages
    from tests import browser

    browser.chromium()
    ws = collect(local.sandbox)
    results = [(c, m["ts"]) for c in (REVIEW_CHANNEL, RELEASE_CHANNEL) for m in local.sandbox.all_messages(c)
               if m["text"].startswith("Result for")]
    moments = [(c, m["ts"]) for c in (REVIEW_CHANNEL, RELEASE_CHANNEL) for m in local.sandbox.all_messages(c)
               if m["text"].startswith("Superseded: ")]
    page = pages.messages_page(ws, [(REVIEW_CHANNEL, thread), *results, (RELEASE_CHANNEL, card["ts"]), *moments],
                               title=f"One truth: every surface after {name.replace('-', ' ')}")
    browser.ARTIFACTS.mkdir(exist_ok=True)
    path = browser.ARTIFACTS / f"truth-{name}.html"
    path.write_text(page, encoding="utf-8")
    with browser.Browser() as chromium:
        for width in (1280, 400):
            shot = chromium.screenshot(path.as_uri(), f"truth-{name}-{width}.png", width=width)
            assert shot.stat().st_size > 5_000


def settled(local: LocalSlack) -> list[str]:
    local.drain()
    return stale(local)


@pytest.mark.slow
def test_every_surface_shows_the_current_state_or_says_it_is_superseded(local, clock, engine):
    convo, p = Conversation(local), local.people
    soon = (clock.now + timedelta(days=2)).date().isoformat()  # due soon: its reminder goes out at once
    later = (clock.now + timedelta(days=14)).date().isoformat()
    thread = convo.start_review(p.lead, "copilot", "2.0")
    for user in (p.lead, p.quality):
        local.driver.app_home_opened(user)
    gaps = {"s1": ("partial", p.quality, soon), "s4": ("partial", p.operations, later),
            "s5": ("partial", p.engineer, later), "s11": ("yes", p.operations, later)}
    for item_id in local.app_checklist_ids():
        if item_id in gaps:
            mark, owner, due = gaps[item_id]
            convo.mark(p.engineer, thread, item_id, mark, owner=owner, due=due, note=f"gap {item_id}")
        else:
            convo.mark(p.engineer, thread, item_id, "no", evidence=f"proof {item_id}")
    assert settled(local) == []
    assert truth(local)[0].card.verdict is Verdict.NARROW  # 5 points

    # sign-off: two roles approve a staged rollout
    card = request_signoff(local, convo)
    decide(local, convo, card, "quality", "staged")
    decide(local, convo, card, "policy", "staged")
    assert settled(local) == [] and live_decisions(local) == 2

    # a gap re-marked No: 4 points, go; the decisions saw another scorecard
    convo.mark(p.operations, thread, "s4", "no", evidence="manual checks retired", reason="automation shipped")
    assert settled(local) == [] and live_decisions(local) == 0
    assert truth(local)[0].card.verdict is Verdict.GO
    decide(local, convo, card, "quality", "approve")
    decide(local, convo, card, "policy", "approve")
    assert settled(local) == [] and live_decisions(local) == 2  # the void notice is superseded now

    # a new blocker (s16 Partial, an override item) and its waiver
    convo.mark(p.operations, thread, "s16", "partial", owner=p.operations, due=later, note="staging only",
               reason="rehearsal failed")
    assert settled(local) == [] and live_decisions(local) == 0
    until = (clock.now + timedelta(days=2)).date().isoformat()
    assert waive(local, convo, card, p.policy, "s16", "canary capped at 1%", until).status == 200
    assert settled(local) == []  # the blocker alert is superseded: the blocker is waived
    decide(local, convo, card, "quality", "staged")
    decide(local, convo, card, "policy", "staged")
    assert settled(local) == [] and live_decisions(local) == 2

    # the owner of s1 asks for a later date; the lead accepts: a new date, the same scorecard
    dms = local.sandbox.dm_messages(p.quality)
    digests = [m for m in dms if "reminder_new_due" in json.dumps(m["blocks"])]
    assert digests, [m["text"] for m in dms]
    digest = digests[-1]
    local.driver.click(p.quality, local.sandbox.dm_channel(p.quality), digest["ts"], "reminder_new_due")
    local.settle()
    moved = (clock.now + timedelta(days=9)).date().isoformat()
    local.driver.submit_view(p.quality, convo.last_view_id(), {"new_due": moved, "reason": "vendor fix"})
    local.settle()
    proposal = [m for m in local.sandbox.dm_messages(p.lead) if "proposal:" in json.dumps(m.get("blocks"))][-1]
    local.driver.click(p.lead, local.sandbox.dm_channel(p.lead), proposal["ts"], "due_accept")
    assert settled(local) == [] and live_decisions(local) == 2  # nothing voided
    notice = [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if m["text"].startswith("Due date of s1")]
    assert len(notice) == 1 and f"at <@{p.quality}>'s request" in json.dumps(notice[0]["blocks"])
    assert soon in notice[0]["text"] and moved in notice[0]["text"]
    shown = json.dumps(local.sandbox.find_message(RELEASE_CHANNEL, card["ts"])["blocks"])
    assert f"due {date.fromisoformat(moved).strftime('%Y-%m-%d')}" in shown or moved in shown
    with session_scope(local.sessions) as s:
        last = s.scalars(select(MarkChange).where(MarkChange.item_id == "s1").order_by(MarkChange.id.desc())).first()
    assert (last.change, last.from_mark, last.to_mark) == ("due", "partial", "partial")

    # the waiver lapses: the blocker is back and the decisions given while it held are void
    clock.now += timedelta(days=4)
    assert settled(local) == [] and live_decisions(local) == 0
    assert truth(local)[0].card.verdict is Verdict.NO_GO
    screenshots(local, engine, "waiver-lapsed", thread, card)

    # closed: every moment is superseded, the card offers nothing
    local.driver.slash_command("/readiness", "close 1", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    assert settled(local) == []
    superseded = [m for _, m in everything(local) if m["text"].startswith("Superseded: ")]
    assert len(superseded) >= 5  # alert, voided notices, waiver notices, owner DMs, the moved date
    screenshots(local, engine, "closed", thread, card)


def mark_at_once(local: LocalSlack, convo: Conversation, user: str, thread: str, item: str, mark: str,
                 values: dict[str, str]) -> None:
    """A person's mark as Slack sends it (the click, the form, the submission), not waiting for what follows
    the ack: the next person marks while the bot is still busy."""
    opened = len(local.sandbox.calls_to("views.open"))
    ts = convo.item_message(REVIEW_CHANNEL, thread, item)
    local.driver.click(user, REVIEW_CHANNEL, ts, f"mark_{mark}", block_id=f"item:{item}")
    for _ in range(500):  # the form opens at once, or as a loading view the form then replaces
        calls = [c for c in local.sandbox.calls_to("views.open")[opened:] if c.ok]
        view = local.sandbox.view(str(calls[0].response["view"]["id"])) if calls else None
        if view is not None and view.get("submit"):
            break
        time.sleep(0.01)
    else:
        raise AssertionError(f"the form for {item} did not open")
    response = local.driver.submit_view(user, str(view["id"]), values)
    assert response.status == 200 and not response.body.strip(), response.body


@pytest.mark.slow
def test_twenty_quick_marks_give_one_update_of_each_message_per_sweep_with_the_final_state(local, clock, monkeypatch):
    import scheduler.refresh

    convo, p = Conversation(local), local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.drain()
    runs: list[tuple[float, float]] = []
    original = scheduler.refresh.run

    def timed(host, row):  # noqa: ANN001 - the deliverer and its claimed row
        start = time.time()
        try:
            original(host, row)
        finally:
            runs.append((start, time.time()))

    monkeypatch.setattr(scheduler.refresh, "run", timed)
    before = len(local.sandbox.calls_to("chat.update"))
    started = time.monotonic()
    items = local.app_checklist_ids()[:20]
    with local.delivery.deliverer._lock:  # a sweep is busy elsewhere: the marks' refreshes wait for it
        for item in items:
            mark_at_once(local, convo, p.engineer, thread, item, "no", {"evidence": f"proof {item}"})
        burst = time.monotonic() - started
        with session_scope(local.sessions) as s:
            from models import OutboxMessage

            owed = [r.dedupe_key for r in s.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == "review_refresh", OutboxMessage.status == "pending"))]
        assert owed == ["refresh:1"]  # twenty marks owe one refresh of the review, not twenty
    local.drain()
    updates = [c for c in local.sandbox.calls_to("chat.update")[before:] if c.ok]
    assert burst < 10, f"the marks took {burst:.1f} s"
    for start, end in runs:  # within one refresh, each message is updated at most once
        during = [c.args["ts"] for c in updates if start <= c.timestamp <= end]
        assert len(during) == len(set(during)), during
    by_message: dict[str, int] = {}
    for c in updates:
        by_message[c.args["ts"]] = by_message.get(c.args["ts"], 0) + 1
    assert by_message.get(thread) == 1, by_message  # the parent: one update, with all twenty marks
    assert stale(local) == []
    parent = local.sandbox.find_message(REVIEW_CHANNEL, thread)
    assert "20/22 marked" in parent["text"] or "20/22 marked" in json.dumps(parent["blocks"])
