"""`/readiness config` through the sandbox: who may open it, what it validates, what it changes."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL
from bot.services import config, tokens
from bot.services.audit import events
from models import ApiToken, AuditEvent, Waiver
from tests.e2e.test_release_paths import waive
from tests.e2e.test_signoff import _get, full_review, request_signoff


def open_config(local, convo, user: str) -> str | None:
    before = len(local.sandbox.calls_to("views.open"))
    local.driver.slash_command("/readiness", "config", user=user, channel=REVIEW_CHANNEL)
    local.settle()
    if len(local.sandbox.calls_to("views.open")) == before:
        return None
    return convo.last_view_id() if convo.last_view().get("submit") else None  # a refusal is a notice, no form


def stored(local):
    with session_scope(local.sessions) as s:
        return config.get(s, "T0READY")


def test_only_admins_change_settings_and_every_change_is_audited(local, convo):
    p = local.people
    local.sandbox.add_user(p.lead, "alex", tz="America/New_York", is_admin=True)
    assert open_config(local, convo, p.engineer) is None
    assert "Only workspace admins" in json.dumps(convo.last_view()["blocks"])  # said in the modal itself

    view = open_config(local, convo, p.lead)
    assert view is not None
    refused = local.driver.submit_view(p.lead, view, {"roles": "Quality!!, policy", "waiver_days": "7"})
    assert "roles" in json.loads(refused.body)["errors"]
    assert stored(local) == config.Config()

    answer = local.driver.submit_view(p.lead, view, {
        "release_channels": [RELEASE_CHANNEL], "roles": "quality, policy, security", "admins": [p.engineer],
        "waiver_days": "7", "new_token": "ci-main"})
    body = json.loads(answer.body)
    assert body["response_action"] == "update"
    token = next(w for w in json.dumps(body["view"]).split("`") if w.startswith("rdy_"))
    assert stored(local) == config.Config([RELEASE_CHANNEL], ["quality", "policy", "security"], [p.engineer], 7)
    status, answer = _get(local.server.url + "/api/v1/gate?system=x&version=1", token)
    assert "has no review of x 1" in answer["error"]  # the token is accepted; there is just no such review

    # the admin group member may now change settings too: revoke the token
    view = open_config(local, convo, p.engineer)
    assert view is not None
    local.driver.submit_view(p.engineer, view, {"revoke_tokens": ["ci-main"]})
    local.settle()
    status, answer = _get(local.server.url + "/api/v1/gate?system=x&version=1", token)
    assert status == 401 and "valid workspace token" in answer["error"]
    with session_scope(local.sessions) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert s.scalar(select(ApiToken)).revoked_at is not None
        assert tokens.authenticate(s, token) is None
    assert actions.count("config.changed") == 1  # the second save changed no setting
    assert "token.created" in actions and "token.revoked" in actions


@pytest.mark.clocked
def test_configured_release_channels_and_waiver_limit_apply(local, convo, clock):
    p = local.people
    with session_scope(local.sessions) as s:
        config.update(s, "T0READY", config.Config([RELEASE_CHANNEL], ["quality", "policy", "operations"], [], 7),
                      actor="test")
    local.driver.slash_command("/readiness", "start copilot 2.0", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    view = convo.last_view_id()
    opened = convo.last_view()
    assert RELEASE_CHANNEL in json.dumps(opened["blocks"])
    refused = local.driver.submit_view(p.lead, view, {"system": "copilot", "version": "2.0",
                                                      "release_channel": REVIEW_CHANNEL})
    assert "release_channel" in json.loads(refused.body)["errors"]
    with session_scope(local.sessions) as s:
        assert [e.action for e in events(s, 1)] == []

    # The workspace's 7-day limit, not the default 14, bounds a waiver: the form says so, 8 days is
    # refused with the reason and nothing stored, 7 days is granted.
    full_review(local, convo, {"s14": ("yes", p.engineer)})
    card = request_signoff(local, convo)
    today = clock.now.astimezone(UTC).date()
    local.driver.click(p.policy, RELEASE_CHANNEL, card["ts"], "waive", block_id="waive")
    local.settle()
    form = json.dumps(convo.last_view()["blocks"])
    assert f"At most 7 days: {today + timedelta(days=7)} at the latest." in form
    refused = local.driver.submit_view(p.policy, convo.last_view_id(), {
        "waive_item": "s14", "reason": "canary capped at 1%", "waive_until": (today + timedelta(days=8)).isoformat()})
    local.settle()
    assert refused.body.strip(), "an 8-day waiver was granted under a 7-day workspace limit"
    assert json.loads(refused.body)["errors"] == {
        "waive_until": f"A waiver lasts at most 7 days: pick {today + timedelta(days=7)} or earlier."}
    with session_scope(local.sessions) as s:
        assert list(s.scalars(select(Waiver))) == []
    granted = waive(local, convo, card, p.policy, "s14", "canary capped at 1%", (today + timedelta(days=7)).isoformat())
    assert granted.status == 200 and not granted.body.strip()
    with session_scope(local.sessions) as s:
        waiver = s.scalars(select(Waiver)).one()
    assert (waiver.item_id, waiver.expires_at.date()) == ("s14", today + timedelta(days=8))  # ends as day 8 starts

def test_rights_are_checked_again_on_submit_from_slack_and_the_database(local, convo):
    """A forged submission (validly signed, its form state naming the sender) and an admin demoted after
    opening the form are both refused, and nothing changes."""
    p = local.people
    local.sandbox.add_user(p.lead, "alex", tz="America/New_York", is_admin=True)
    view_id = open_config(local, convo, p.lead)
    assert view_id is not None
    form = convo.last_view()
    for metadata in ({"user_id": p.engineer}, {"user_id": p.engineer, "workspace_admin": True}):
        forged = {**form, "private_metadata": json.dumps(metadata),
                  "state": {"values": {"waiver_days": {"value": {"type": "plain_text_input", "value": "30"}},
                                       "new_token": {"value": {"type": "plain_text_input", "value": "stolen"}}}}}
        payload = local.driver._common("view_submission", p.engineer)
        payload.update(trigger_id=local.sandbox.issue_trigger_id(p.engineer), view=forged, response_urls=[])
        refused = local.driver._send_interactive(payload, retry_num=None, retry_reason="", timestamp=None)
        assert refused.status == 200 and "errors" in refused.body
    local.sandbox.add_user(p.lead, "alex", tz="America/New_York", is_admin=False)  # demoted meanwhile
    demoted = local.driver.submit_view(p.lead, view_id, {"waiver_days": "30", "new_token": "late"})
    assert demoted.status == 200 and "Only workspace admins" in demoted.body
    with session_scope(local.sessions) as s:
        assert s.scalars(select(ApiToken)).all() == []
        assert [e.action for e in s.scalars(select(AuditEvent))] == []
    assert stored(local).waiver_max_days == config.DEFAULT_WAIVER_DAYS
