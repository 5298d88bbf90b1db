"""A thread people like to work through: light section messages, a section marked in one form, one control per
marked item, forms that help. Through the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.db import session_scope
from bot.sandbox.local import REVIEW_CHANNEL
from models import ItemMark

DUE = (date.today() + timedelta(days=10)).isoformat()
KINDS = ("button", "overflow", "static_select", "users_select", "datepicker", "radio_buttons", "checkboxes")


def words(blocks: list[dict[str, Any]]) -> int:
    """Characters a reader reads in a message (every text of its blocks)."""
    def walk(value: Any) -> int:
        if isinstance(value, dict):
            return sum(walk(v) for k, v in value.items()
                       if k not in ("block_id", "action_id", "value", "type", "options"))  # a menu's options are hidden
        if isinstance(value, list):
            return sum(walk(v) for v in value)
        return len(value) if isinstance(value, str) else 0
    return walk(blocks)


def controls(blocks: list[dict[str, Any]]) -> int:
    return sum(1 for b in blocks for e in [*(b.get("elements") or []), b.get("accessory") or {}]
               if isinstance(e, dict) and e.get("type") in KINDS)


def sections(local, thread: str) -> list[dict[str, Any]]:
    """The section messages of the review's thread (not the result or notices posted there)."""
    return [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread)[1:]
            if any(str(b.get("block_id", "")).startswith("item:") for b in m["blocks"])]


def marks(local) -> dict[str, str | None]:
    with session_scope(local.sessions) as s:
        return {r.item_id: r.mark for r in s.scalars(select(ItemMark))}


def open_section_form(local, convo, user: str, thread: str, part: str) -> str:
    message = next(m for m in sections(local, thread) if any(b.get("block_id") == f"section:{part}"
                                                             for b in m["blocks"]))
    local.driver.click(user, REVIEW_CHANNEL, message["ts"], "mark_section", block_id=f"section:{part}")
    local.settle()
    return convo.last_view_id()


def test_a_section_is_marked_in_one_form_all_or_nothing(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    view_id = open_section_form(local, convo, p.engineer, thread, "outcome")
    form = json.dumps(convo.last_view())
    assert all(f'"mark:{i}"' in form for i in ("s1", "s2", "s3", "s4"))
    picked = {"mark:s1": "no", "evidence:s1": "success report, all cohorts",
              "mark:s2": "partial", "owner:s2": p.quality, "due:s2": DUE,
              "mark:s3": "yes", "owner:s3": p.operations, "due:s3": DUE}  # a Yes without what is missing
    refused = json.loads(local.driver.submit_view(p.engineer, view_id, picked).body)
    assert refused["response_action"] == "errors" and set(refused["errors"]) == {"note:s3"}
    assert all(m is None for m in marks(local).values())  # all or nothing: s1 and s2 were not saved either
    local.driver.submit_view(p.engineer, view_id, {**picked, "note:s3": "no escalation tests yet"})
    local.drain()
    saved = marks(local)
    assert (saved["s1"], saved["s2"], saved["s3"], saved["s4"]) == ("no", "partial", "yes", None)
    outcome = next(m for m in sections(local, thread) if m["text"].startswith("Outcome"))
    assert not any(b.get("block_id") == "section:outcome" for b in outcome["blocks"])  # one item left: its buttons
    assert "1/22" not in json.dumps(local.sandbox.find_message(REVIEW_CHANNEL, thread)["blocks"])
    assert "3/22 marked" in json.dumps(local.sandbox.find_message(REVIEW_CHANNEL, thread)["blocks"])


def test_a_section_form_refuses_an_item_someone_marked_meanwhile(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    view_id = open_section_form(local, convo, p.engineer, thread, "serving")
    convo.mark(p.quality, thread, "s10", "no", evidence="load test LT-44")
    refused = json.loads(local.driver.submit_view(p.engineer, view_id, {
        "mark:s10": "yes", "owner:s10": p.engineer, "due:s10": DUE, "note:s10": "p99 unknown",
        "mark:s12": "no", "evidence:s12": "retry budgets"}).body)
    assert "since this form opened" in refused["errors"]["mark:s10"]
    assert marks(local)["s10"] == "no" and marks(local)["s12"] is None


def test_the_thread_gets_lighter_as_it_is_marked(local, convo, capsys):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    before = [(m["text"].split(":")[0], words(m["blocks"]), controls(m["blocks"])) for m in sections(local, thread)]
    for item_id in local.app_checklist_ids():
        if item_id in ("s4", "s11"):
            convo.mark(p.quality, thread, item_id, "partial", owner=p.engineer, due=DUE, note=f"gap {item_id}")
        else:
            convo.mark(p.engineer, thread, item_id, "no", evidence=f"proof of {item_id}")
    local.drain()
    after = [(m["text"].split(":")[0], words(m["blocks"]), controls(m["blocks"])) for m in sections(local, thread)]
    with capsys.disabled():
        print("\nsection message: characters and controls, unmarked -> all marked")
        for (name, c0, i0), (_, c1, i1) in zip(before, after, strict=True):
            print(f"  {name[:38]:38} {c0:5} -> {c1:5} chars   {i0:3} -> {i1:3} controls")
    for (name, c0, i0), (_, c1, i1) in zip(before, after, strict=True):
        assert c1 < c0 and i1 < i0, name
    parts = {"Outcome reliability": 4, "Grounding, retrieval and tools": 5}
    for name, _, count in after:
        if name in parts:
            assert count == parts[name]  # one control per marked item, no section button
    assert max(c for _, c, _ in before) < 2300 and max(c for _, c, _ in after) < 1500


def test_the_mark_form_shows_the_current_mark_and_warns_before_it_voids_or_blocks(local, convo):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    convo.mark(p.engineer, thread, "s16", "no", evidence="rehearsed in production")
    convo.open_mark(p.quality, thread, "s16", "partial")
    view = convo.last_view()
    shown = json.dumps(view["blocks"])
    assert "Now: :white_check_mark: *No*" in shown and "makes s16 a blocker" in shown
    assert len(view["title"]["text"]) <= 24
    due = next(b for b in view["blocks"] if b.get("block_id") == "due")["element"]["initial_date"]
    assert date.fromisoformat(due) > date.today()  # a new gap is not due today by default


def test_commands_are_read_as_typed(local, convo):
    p = local.people
    answer = local.driver.slash_command("/readiness", "start Support Copilot 2.4.0", user=p.lead,
                                        channel=REVIEW_CHANNEL)
    local.settle()
    assert answer.status == 200 and not answer.body.strip()  # no refusal: the form opens
    form = convo.last_view()
    initial = {b["block_id"]: b["element"].get("initial_value") for b in form["blocks"] if b["type"] == "input"}
    assert initial["system"] == "Support Copilot" and initial["version"] == "2.4.0"
    local.driver.submit_view(p.lead, convo.last_view_id(), {"release_channel": "C0RELEASE"})
    local.settle()
    shown = local.driver.slash_command("/readiness", "status support copilot", user=p.engineer,
                                       channel=REVIEW_CHANNEL).body
    assert "Support Copilot 2.4.0" in shown and "No review found" not in shown
    by_number = local.driver.slash_command("/readiness", "status #1", user=p.engineer, channel=REVIEW_CHANNEL).body
    assert "Support Copilot 2.4.0" in by_number
    odd = local.driver.slash_command("/readiness", 'start "Support Copilot', user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    assert odd.status == 200 and convo.last_view()["blocks"]  # an unbalanced quote still opens the form


def test_the_app_home_is_a_desk_of_what_waits_for_you(local, convo):
    from tests.e2e.test_signoff import full_review, request_signoff

    p = local.people
    full_review(local, convo, {"s4": ("partial", p.quality), "s11": ("yes", p.quality)})
    request_signoff(local, convo)
    local.driver.app_home_opened(p.quality)
    local.settle()
    home = local.sandbox.home_view(p.quality)
    shown = json.dumps(home)
    assert "Waiting for you" in shown and "*quality* sign-off" in shown  # dana is the quality approver
    assert shown.count("Close with evidence") == 2 and shown.count("Propose a new date") == 2
    start = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]
             if e["action_id"] == "start_review"]
    assert len(start) == 1
    local.driver.click_in_view(p.quality, home["id"], "start_review", block_id="home-start")
    local.settle()
    assert "System" in json.dumps(convo.last_view()["blocks"])  # the start form, from the desk

    # a proposal waits on the lead's desk, with Accept and Refuse
    local.driver.click_in_view(p.quality, home["id"], "reminder_new_due", block_id="home-gap:1:s4")
    local.settle()
    later = (date.today() + timedelta(days=30)).isoformat()
    local.driver.submit_view(p.quality, convo.last_view_id(), {"new_due": later, "reason": "vendor fix"})
    local.settle()
    local.driver.app_home_opened(p.lead)
    local.settle()
    lead = local.sandbox.home_view(p.lead)
    assert "asks to move *s4*" in json.dumps(lead) and "vendor fix" in json.dumps(lead)
    [accept] = [b for b in lead["blocks"] if b.get("block_id", "").startswith("home-proposal:")]
    local.driver.click_in_view(p.lead, lead["id"], "due_accept", block_id=accept["block_id"])
    local.drain()
    with session_scope(local.sessions) as s:
        row = s.scalar(select(ItemMark).where(ItemMark.item_id == "s4"))
    assert row.due.isoformat() == later
    assert "asks to move" not in json.dumps(local.sandbox.home_view(p.lead))  # decided: gone from the desk


def test_the_app_home_stays_within_slacks_limits_with_ten_thousand_reviews(local, convo):
    from bot.sandbox.local import TEAM
    from models import Assessment

    p = local.people
    convo.start_review(p.lead, "copilot", "2.0")
    with session_scope(local.sessions) as s:
        first = s.scalar(select(Assessment))
        rows = [{"team_id": TEAM, "system": f"system-{n}", "version": "1.0", "cohorts": [], "section_messages": {},
                 "checklist_id": first.checklist_id, "checklist_version": first.checklist_version,
                 "checklist_hash": first.checklist_hash, "status": "open", "started_by": p.lead}
                for n in range(10_000)]
        s.execute(Assessment.__table__.insert(), rows)
    local.driver.app_home_opened(p.engineer)
    local.settle()
    home = local.sandbox.home_view(p.engineer)
    assert home is not None and len(home["blocks"]) <= 100
    assert "10000 more" in json.dumps(home) or "9991 more" in json.dumps(home)  # counted, not listed


def test_the_approvers_form_proposes_last_times_approvers(local, convo):
    from tests.e2e.test_signoff import full_review, request_signoff

    p = local.people
    full_review(local, convo)
    request_signoff(local, convo)
    convo.start_review(p.lead, "copilot", "2.1")
    local.driver.slash_command("/readiness", "signoff 2", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    proposed = {b["block_id"]: b["element"].get("initial_user") for b in convo.last_view()["blocks"]
                if b["type"] == "input"}
    assert proposed == {"role:quality": p.quality, "role:policy": p.policy, "role:operations": p.operations}
