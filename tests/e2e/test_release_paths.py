"""The two release paths end to end through the sandbox, with a controlled clock, and the audit export.

1. review -> sign-off -> gate go
2. blocker -> waiver -> gate go -> the waiver expires -> gate no-go (approvals voided, channel told)
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

import handlers.lazy
from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL
from models import Approval, Waiver
from tests.e2e.conftest import forge_last_click
from tests.e2e.test_signoff import _get, click, full_review, refusals, request_signoff

pytestmark = pytest.mark.clocked


def gate(local, monkeypatch, capsys) -> tuple[int, str]:
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", local.engine.url.render_as_string(hide_password=False))
    code = main(["gate", "--system", "copilot", "--version", "2.0"])
    return code, capsys.readouterr().out


def audit_actions(local, monkeypatch, capsys) -> list[dict]:
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", local.engine.url.render_as_string(hide_password=False))
    assert main(["audit", "export", "--assessment", "1", "--format", "jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def approve_all(local, card) -> None:
    p = local.people
    for user, role in ((p.quality, "quality"), (p.policy, "policy"), (p.operations, "operations")):
        click(local, user, card, "signoff_approve", role)


def waive(local, convo, card, user: str, item: str, reason: str, until: str):
    local.driver.click(user, RELEASE_CHANNEL, card["ts"], "waive", block_id="waive")
    local.settle()
    response = local.driver.submit_view(user, convo.last_view_id(), {
        "waive_item": item, "reason": reason, "waive_until": until})
    local.settle()
    return response


def test_review_then_sign_off_then_the_gate_says_go(local, convo, monkeypatch, capsys):
    full_review(local, convo)
    assert gate(local, monkeypatch, capsys)[0] == 1
    card = request_signoff(local, convo)
    approve_all(local, card)
    local.drain()
    code, out = gate(local, monkeypatch, capsys)
    assert code == 0 and "PASS copilot 2.0" in out
    exported = audit_actions(local, monkeypatch, capsys)
    actions = [e["action"] for e in exported]
    assert actions[0] == "review.started"
    assert actions.count("mark.changed") == len(local.app_checklist_ids())
    assert actions.count("signoff.approvers") == 1 and actions.count("approval.given") == 3
    assert actions.count("gate.queried") == 2
    assert [e["after"]["passed"] for e in exported if e["action"] == "gate.queried"] == [False, True]


def test_a_waiver_lets_a_blocker_pass_until_it_expires(local, convo, clock, monkeypatch, capsys):
    p = local.people
    full_review(local, convo, {"s14": ("yes", p.engineer)})  # 2 points, but s14 is a blocker
    card = request_signoff(local, convo)
    code, out = gate(local, monkeypatch, capsys)
    assert code == 1 and "blockers: s14" in out

    until = (clock.now + timedelta(days=3)).date().isoformat()
    too_late = (clock.now + timedelta(days=15)).date().isoformat()
    # Only the named policy approver may waive; others are refused before any modal opens.
    local.driver.click(p.quality, RELEASE_CHANNEL, card["ts"], "waive", block_id="waive")
    local.settle()
    assert any("named policy approver" in r for r in refusals(local, p.quality))
    refused = waive(local, convo, card, p.policy, "s14", "   ", too_late)
    errors = json.loads(refused.body)["errors"]
    assert "14 days" in errors["waive_until"] and "reason" in errors
    with session_scope(local.sessions) as s:
        assert list(s.scalars(select(Waiver))) == []

    assert waive(local, convo, card, p.policy, "s14", "rollback drill booked for Monday", until).status == 200
    local.drain()
    parent = json.dumps(local.sandbox.messages("C0REVIEW")[0]["blocks"])
    assert "waived" in parent and "rollback drill booked" in parent
    told = [m for m in local.sandbox.all_messages(RELEASE_CHANNEL) if "waived blocker" in json.dumps(m["blocks"])]
    assert len(told) == 1

    approve_all(local, card)
    code, out = gate(local, monkeypatch, capsys)
    assert code == 0, out
    with session_scope(local.sessions) as s:
        from bot.services import tokens

        token = tokens.create(s, "T0READY", "ci", actor="test")
    status, body = _get(local.server.url + "/api/v1/gate?system=copilot&version=2.0", token)
    assert status == 200 and body["passed"] is True
    assert [w["item"] for w in body["waivers"]] == ["s14"] and body["blockers"] == []

    clock.now += timedelta(days=4)  # past the end of the waiver's last day
    local.drain()
    with session_scope(local.sessions) as s:
        waiver = s.scalars(select(Waiver)).one()
        approvals = list(s.scalars(select(Approval)))
    assert waiver.end_reason == "expired" and all(a.voided_at is not None for a in approvals)
    ended = [m for m in local.sandbox.all_messages(RELEASE_CHANNEL) if "blocker is back" in json.dumps(m["blocks"])]
    assert len(ended) == 1 and "3 sign-off decision(s)" in json.dumps(ended[0]["blocks"])
    local.drain()  # running the expiry again changes nothing and says nothing twice
    assert len([m for m in local.sandbox.all_messages(RELEASE_CHANNEL)
                if "blocker is back" in json.dumps(m["blocks"])]) == 1

    code, out = gate(local, monkeypatch, capsys)
    assert code == 1 and "blockers: s14" in out and "waiting for quality, policy, operations" in out
    status, body = _get(local.server.url + "/api/v1/gate?system=copilot&version=2.0", token)
    assert body["passed"] is False and body["verdict"] == "no-go" and body["waivers"] == []

    actions = [e["action"] for e in audit_actions(local, monkeypatch, capsys)]
    for expected, count in (("waiver.granted", 1), ("waiver.expired", 1), ("approval.given", 3),
                            ("approval.voided", 3), ("gate.queried", 5)):
        assert actions.count(expected) == count, (expected, actions)


def _decisions(local) -> list[tuple[str, str, str]]:
    with session_scope(local.sessions) as s:
        return [(a.role, a.user_id, a.decision) for a in s.scalars(select(Approval).order_by(Approval.id))]


def test_no_decision_or_waiver_gets_through_unauthorised(local, convo, monkeypatch):
    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 2.0)  # forms built well inside the trigger's life
    from bot.sandbox.driver import SlackDriver
    from bot.sandbox.local import SIGNING_SECRET

    p = local.people
    full_review(local, convo, {"s14": ("yes", p.engineer)})
    card = request_signoff(local, convo)
    click(local, p.quality, card, "signoff_reject", "quality")
    local.driver.submit_view(p.quality, convo.last_view_id(), {"reason": "s14 is open"})
    local.settle()
    before = _decisions(local)
    assert before == [("quality", p.quality, "reject")]

    # A person of another workspace (the same app installed there) clicking the card: refused.
    local.sandbox.add_user("U0MALLORY", "mallory")
    other = SlackDriver(local.driver.app_url, SIGNING_SECRET, local.sandbox, team_id="T0OTHER")
    for action, role in (("signoff_reject", "policy"), ("waive", None)):
        other.click("U0MALLORY", RELEASE_CHANNEL, card["ts"], action, block_id=f"decide:{role}" if role else "waive")
        local.settle()
    assert len(refusals(local, "U0MALLORY")) == 2

    # Forged payloads, each signed as Slack would sign it: the stored rules decide, not the payload.
    click(local, p.policy, card, "signoff_reject", "policy")  # the real approver's click, then edited
    forgeries = [
        lambda b: b["actions"][0].update(value=b["actions"][0]["value"].replace("policy", "quality")),
        lambda b: b["actions"][0].update(value=b["actions"][0]["value"].replace('"a":1', '"a":999')),
        lambda b: b["actions"][0].update(value="{not json"),
        lambda b: b["user"].update(id="U0NOBODY"),
    ]
    for forge in forgeries:
        assert forge_last_click(local, forge) == 200
    assert len(refusals(local, p.policy)) == len(forgeries)
    # The approver's click arriving with another workspace's team (a Slack Connect channel: the payload names
    # the clicker's workspace) is about this installation's review: it opens the reason form, decides nothing.
    forms = len(local.sandbox.calls_to("views.open"))
    assert forge_last_click(local, lambda b: (b["team"].update(id="T0OTHER"), b["user"].update(team_id="T0OTHER"))) == 200
    opened = local.sandbox.calls_to("views.open")[forms:]  # the reason form itself, in one call
    assert len(opened) == 1 and opened[0].args["view"].get("submit") and convo.last_view().get("submit")
    local.driver.click(p.engineer, RELEASE_CHANNEL, card["ts"], "waive", block_id="waive")
    local.settle()
    assert forge_last_click(local, lambda b: b["user"].update(id=p.quality)) == 200
    # both refused: the engineer is not the policy approver, nor is the quality approver (the refusal goes
    # to the response URL of the click, which Slack bound to the engineer)
    assert len(refusals(local, p.engineer)) == 2
    assert _decisions(local) == before
    with session_scope(local.sessions) as s:
        assert list(s.scalars(select(Waiver))) == []


def _outcomes(local) -> list[dict]:
    """The outcome posts in the release channel (the card itself is not one: it has the decision buttons)."""
    return [m for m in local.sandbox.all_messages(RELEASE_CHANNEL) if m["text"].startswith("Sign-off for")
            and m["text"].rsplit(": ", 1)[-1] in ("approved", "approved for a staged rollout", "rejected")
            and '"header"' not in json.dumps(m["blocks"])]


def test_only_the_release_lead_names_approvers_and_replayed_decisions_count_once(local, convo):
    p = local.people
    full_review(local, convo)
    local.driver.slash_command("/readiness", "signoff", user=p.engineer, channel="C0REVIEW")
    local.settle()
    refused = convo.last_view()  # the modal that opened says why the form cannot be shown
    assert "submit" not in refused and "release lead" in json.dumps(refused["blocks"])
    card = request_signoff(local, convo)

    click(local, p.quality, card, "signoff_approve", "quality")
    local.driver.replay()  # Slack retries the click
    local.settle()
    click(local, p.policy, card, "signoff_staged", "policy")
    view = convo.last_view_id()
    local.driver.submit_view(p.policy, view, {"reason": "EU first"})
    local.driver.replay()  # the same submission delivered twice
    local.settle()
    click(local, p.operations, card, "signoff_approve", "operations")
    local.driver.replay()
    local.drain()
    assert [(r, d) for r, _, d in _decisions(local)] == [("quality", "approve"), ("policy", "staged"),
                                                         ("operations", "approve")]
    assert len(_outcomes(local)) == 1


def test_a_waiver_is_not_for_its_own_owner_and_ends_with_a_re_mark_or_the_close(local, convo, clock):
    p = local.people
    thread = full_review(local, convo, {"s14": ("yes", p.policy), "s16": ("yes", p.engineer)})
    card = request_signoff(local, convo)
    until = (clock.now + timedelta(days=3)).date().isoformat()
    refused = waive(local, convo, card, p.policy, "s14", "I will fix it", until)
    assert "You own s14" in json.loads(refused.body)["errors"]["waive_item"]
    assert waive(local, convo, card, p.policy, "s16", "rollback drill booked", until).status == 200

    # a new owner is not a new mark: the scorecard is the same, so the waiver holds
    convo.mark(p.engineer, thread, "s16", "yes", owner=p.quality, due=until, note="quality takes it over",
               reason="new owner")
    local.drain()
    with session_scope(local.sessions) as s:
        assert s.scalars(select(Waiver)).one().ended_at is None
    convo.mark(p.engineer, thread, "s16", "partial", owner=p.engineer, due=until, note="drill half done",
               reason="replanned")  # still a blocker (an override item), but not the mark the waiver was given for
    local.drain()
    with session_scope(local.sessions) as s:
        assert s.scalars(select(Waiver)).one().end_reason == "re-marked"
    told = [m for m in local.sandbox.all_messages(RELEASE_CHANNEL) if "was re-marked" in json.dumps(m["blocks"])]
    assert len(told) == 1

    assert waive(local, convo, card, p.policy, "s16", "rollback drill booked", until).status == 200
    local.driver.slash_command("/readiness", "close 1", user=p.lead, channel="C0REVIEW")
    local.settle()
    clock.now += timedelta(days=4)
    local.drain()
    with session_scope(local.sessions) as s:
        ends = sorted(w.end_reason for w in s.scalars(select(Waiver)))
    assert ends == ["closed", "re-marked"]
    # the closed review's waiver never "expires": nothing more is said after the close
    assert not [m for m in local.sandbox.all_messages(RELEASE_CHANNEL) if "expired" in json.dumps(m["blocks"])]


def test_a_waiver_the_gate_finds_lapsed_ends_and_the_card_shows_it(local, convo, clock):
    from bot.services import tokens

    p = local.people
    with session_scope(local.sessions) as s:
        token = tokens.create(s, "T0READY", "ci", actor="test")
    full_review(local, convo, {"s14": ("yes", p.engineer)})
    card = request_signoff(local, convo)
    until = (clock.now + timedelta(days=1)).date().isoformat()
    assert waive(local, convo, card, p.policy, "s14", "drill booked", until).status == 200
    approve_all(local, card)
    assert "waived" in json.dumps(local.sandbox.find_message(RELEASE_CHANNEL, card["ts"])["blocks"])
    clock.now += timedelta(days=3)
    # the gate (over HTTP, on the app's clock) ends the lapsed waiver before the scheduler does
    status, body = _get(local.server.url + "/api/v1/gate?system=copilot&version=2.0", token)
    assert body["passed"] is False and body["blockers"] == ["s14"]
    local.delivery.deliverer.sweep()
    blocks = local.sandbox.find_message(RELEASE_CHANNEL, card["ts"])["blocks"]
    shown = json.dumps(blocks)
    assert ":shield:" not in shown  # the waiver is no longer shown as holding
    roles = [b["text"]["text"] for b in blocks if b["type"] == "section" and "Waiting for a new decision" in
             b.get("text", {}).get("text", "")]
    assert len(roles) == 3 and all("voided" in line for line in roles)  # each decision shown voided, not live
    assert [b["block_id"] for b in blocks if b["type"] == "actions"][:3] == [
        "decide:quality", "decide:policy", "decide:operations"]
