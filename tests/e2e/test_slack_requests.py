"""Slack's requests as the app reads them: a body is read once, by its fields, and bolt gets what was signed."""

from __future__ import annotations

import json

from bot.sandbox.local import REVIEW_CHANNEL


def test_a_command_whose_text_holds_the_word_payload_is_answered(local, convo):
    """A command's form has no ``payload`` field, whatever its text says: it is answered as the command it is."""
    p = local.people
    convo.start_review(p.lead, "payload-service", "1.0")
    response = local.driver.slash_command("/readiness", "status payload-service", user=p.lead, channel=REVIEW_CHANNEL)
    assert response.status == 200
    shown = json.dumps(response.json)
    assert "Latest review of payload-service" in shown and "payload-service 1.0" in shown
