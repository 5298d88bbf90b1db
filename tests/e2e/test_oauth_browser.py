"""The install as a person does it, in headless Chromium: open /slack/install, click "Add to Slack", click
Allow on the sandbox's authorize page, land on the success page; then the new workspace runs a review with
its own token, and the other workspace's data stays invisible to it.

The browser is driven over the Chrome DevTools Protocol (``tests.browser.Page``): the clicks are mouse
events at the buttons' places, the cookies are the browser's own (bolt's state cookie must come back).
"""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db import session_scope
from bot.sandbox.local import REVIEW_CHANNEL, TEAM, Conversation
from models import slack_bots
from tests.browser import Page

from .test_oauth import OTHER, OTHER_LEAD, OTHER_OWNER, OTHER_RELEASE, OTHER_REVIEW, clock, two  # noqa: F401


def test_a_person_installs_through_the_browser_and_the_new_workspace_works_alone(two, clock):  # noqa: F811
    local, other = two
    local.install(TEAM)  # the first workspace, already there, with a review of its own
    mine = Conversation(local)
    mine.start_review(local.people.lead, "copilot", "2.0")

    local.sandbox.oauth.sign_in(OTHER)
    with Page() as page:
        page.goto(local.server.url + "/slack/install")
        assert "Readiness" in page.text
        page.click("#add-to-slack")
        page.wait_for(f"location.href.startsWith({json.dumps(local.sandbox.url)})")
        assert "Other Corp" in page.text and "chat:write" in page.text
        page.screenshot("oauth-authorize.png")
        page.click("#allow")
        page.wait_for("location.pathname === '/slack/oauth_redirect' && document.readyState === 'complete'")
        landed, text = page.url, page.text
        page.screenshot("oauth-success.png")
    assert landed.startswith(local.server.url) and "Thank you" in text, text[:300]

    with session_scope(local.sessions) as s:
        assert sorted(s.scalars(select(slack_bots.c.team_id))) == sorted([TEAM, OTHER])
    thread = other.start_review(OTHER_LEAD, "assistant", "1.0", channel=OTHER_REVIEW, release_channel=OTHER_RELEASE)
    other.mark(OTHER_LEAD, thread, "s2", "partial", owner=OTHER_OWNER, due=clock.day(1), note="n", channel=OTHER_REVIEW)
    local.settle()
    local.delivery.deliverer.sweep()
    theirs = local.sandbox.oauth.calls_by(OTHER)
    assert any(m == "chat.postMessage" and a.get("channel") == OTHER_REVIEW for m, a in theirs)
    assert not any(a.get("channel") == REVIEW_CHANNEL for _, a in theirs)
    listing = other.driver.slash_command("/readiness", "list", user=OTHER_LEAD, channel=OTHER_REVIEW)
    local.settle()
    shown = json.dumps(listing.json or {})
    assert "assistant" in shown and "copilot" not in shown
