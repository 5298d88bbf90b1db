"""Sign-off through the sandbox: approvers, who may decide, what the verdict allows, voiding, the outcome."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL
from bot.services.audit import events
from models import Approval
from tests.e2e.conftest import forge_last_click

DUE = (date.today() + timedelta(days=10)).isoformat()


def full_review(local, convo, gaps: dict[str, tuple[str, str]] | None = None) -> str:
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    for item_id in local.app_checklist_ids():
        mark, owner = (gaps or {}).get(item_id, ("no", ""))
        if mark == "no":
            convo.mark(p.engineer, thread, item_id, "no", evidence=f"proof {item_id}")
        else:
            convo.mark(p.engineer, thread, item_id, mark, owner=owner, due=DUE, note="gap")
    local.drain()
    return thread


def request_signoff(local, convo) -> dict:
    p = local.people
    local.driver.slash_command("/readiness", "signoff", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    response = local.driver.submit_view(p.lead, convo.last_view_id(), {
        "role:quality": p.quality, "role:policy": p.policy, "role:operations": p.operations})
    local.settle()
    assert response.status == 200 and not response.body.strip()
    cards = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].startswith("Sign-off for")]
    assert len(cards) == 1
    return cards[0]


def click(local, user: str, card: dict, action: str, role: str) -> None:
    local.driver.click(user, RELEASE_CHANNEL, card["ts"], action, block_id=f"decide:{role}")
    local.settle()


def refusals(local, user: str) -> list[str]:
    return [e.get("text", "") for e in local.sandbox.ephemerals(user)]


def test_named_approvers_decide_and_the_outcome_is_posted(local, convo):
    p = local.people
    thread = full_review(local, convo)
    card = request_signoff(local, convo)
    click(local, p.engineer, card, "signoff_approve", "quality")  # not the named approver
    assert any("named quality approver" in r for r in refusals(local, p.engineer))
    click(local, p.quality, card, "signoff_approve", "quality")
    click(local, p.policy, card, "signoff_staged", "policy")
    refused = json.loads(local.driver.submit_view(p.policy, convo.last_view_id(), {"reason": "   "}).body)
    assert "reason" in refused["errors"]
    local.driver.submit_view(p.policy, convo.last_view_id(), {"reason": "EU tenants first"})
    local.settle()
    click(local, p.operations, card, "signoff_approve", "operations")
    local.drain()
    staged = "approved for a staged rollout"
    outcome = [m for m in local.sandbox.messages(RELEASE_CHANNEL) if m["text"].endswith(staged)
               and m["ts"] != card["ts"]]
    in_thread = [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if m["text"].endswith(staged)]
    assert len(outcome) == 1 and len(in_thread) == 1
    updated = local.sandbox.find_message(RELEASE_CHANNEL, card["ts"])
    shown = json.dumps(updated["blocks"])
    assert "EU tenants first" in shown and "approved for a staged rollout" in shown
    assert updated["text"].endswith(staged)  # the outcome is the card's headline now
    assert "every role has decided" in updated["blocks"][1]["text"]["text"]


def test_a_mark_change_voids_the_approvals_and_says_so(local, convo):
    p = local.people
    thread = full_review(local, convo)
    card = request_signoff(local, convo)
    click(local, p.quality, card, "signoff_approve", "quality")
    # new evidence for the same mark changes no score: the decision stands
    convo.mark(p.engineer, thread, "s3", "no", evidence="a better link", reason="new report")
    local.drain()
    with session_scope(local.sessions) as s:
        assert [a.voided_at for a in s.scalars(select(Approval))] == [None]
    # a new mark changes the scorecard: the decision saw another one
    convo.mark(p.engineer, thread, "s3", "partial", owner=p.engineer, due=DUE, note="one workflow regressed",
               reason="new report")
    local.drain()
    with session_scope(local.sessions) as s:
        approvals = list(s.scalars(select(Approval)))
        actions = [e.action for e in events(s, 1)]
    assert len(approvals) == 1 and approvals[0].voided_at is not None
    assert "approval.given" in actions and "approval.voided" in actions
    said = [m for m in local.sandbox.thread(REVIEW_CHANNEL, thread) if "voided" in m["text"]]
    assert len(said) == 1


def test_the_verdict_limits_decisions_and_blocker_owners_cannot_approve(local, convo):
    p = local.people
    gaps = {f"s{n}": ("partial", p.engineer) for n in (1, 2, 3, 4, 5)}
    gaps["s10"] = ("partial", p.quality)
    full_review(local, convo, gaps)  # 6 points: narrow
    card = request_signoff(local, convo)
    assert "only a staged rollout" in json.dumps(card["blocks"])
    offered = {(e["action_id"]) for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert "signoff_approve" not in offered and {"signoff_staged", "signoff_reject"} <= offered
    # a click the card does not offer (the offered one, edited and signed as Slack would sign it): refused
    click(local, p.quality, card, "signoff_staged", "quality")
    forge_last_click(local, lambda b: b["actions"][0].update(action_id="signoff_approve"))
    assert any("only a staged rollout can be approved" in r for r in refusals(local, p.quality))
    with session_scope(local.sessions) as s:
        assert list(s.scalars(select(Approval))) == []
    click(local, p.policy, card, "signoff_reject", "policy")
    local.driver.submit_view(p.policy, convo.last_view_id(), {"reason": "capacity unproven"})
    local.settle()
    with session_scope(local.sessions) as s:
        assert [(a.role, a.decision) for a in s.scalars(select(Approval))] == [("policy", "reject")]


def test_the_owner_of_an_open_blocker_cannot_approve(local, convo):
    p = local.people
    full_review(local, convo, {"s10": ("yes", p.quality)})
    card = request_signoff(local, convo)
    offered = {(e["action_id"]) for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert offered == {"signoff_reject", "waive"}  # no-go: only a rejection (and the waiver) is offered
    click(local, p.quality, card, "signoff_reject", "quality")
    forge_last_click(local, lambda b: b["actions"][0].update(action_id="signoff_approve"))
    assert any("own the open blocker(s) s10" in r for r in refusals(local, p.quality))
    with session_scope(local.sessions) as s:
        assert list(s.scalars(select(Approval))) == []


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_gate_needs_the_verdict_and_a_complete_sign_off(local, convo, monkeypatch, capsys):
    from bot.cli.main import main
    from bot.services import tokens

    p = local.people
    monkeypatch.setenv("DATABASE_URL", local.engine.url.render_as_string(hide_password=False))
    full_review(local, convo)
    assert main(["gate", "--system", "copilot", "--version", "2.0"]) == 1
    assert "sign-off incomplete: waiting for quality, policy, operations" in capsys.readouterr().out
    card = request_signoff(local, convo)
    for user, role in ((p.quality, "quality"), (p.policy, "policy"), (p.operations, "operations")):
        click(local, user, card, "signoff_approve", role)
    assert main(["gate", "--system", "copilot", "--version", "2.0"]) == 0
    assert "PASS copilot 2.0" in capsys.readouterr().out
    assert main(["gate", "--system", "copilot"]) == 2
    assert main(["gate", "--system", "nothing", "--version", "1"]) == 2

    with session_scope(local.sessions) as s:
        good = tokens.create(s, "T0READY", "ci", actor="test")
        other = tokens.create(s, "T0OTHER", "ci", actor="test")
    url = local.server.url + "/api/v1/gate?system=copilot&version=2.0"
    status, body = _get(url, good)
    assert status == 200 and body["passed"] is True and body["verdict"] == "go" and body["signoff"] == "approved"
    assert [a["decision"] for a in body["approvals"]] == ["approve", "approve", "approve"]
    for token in (None, "rdy_wrong", other):
        status, body = _get(url, token)
        assert status == 401 and set(body) == {"error"}
    with session_scope(local.sessions) as s:
        actions = [e.action for e in events(s, 1)]
    assert actions.count("gate.queried") == 3  # two from the command line, one over HTTP
