"""What a person sees first after a mark: the message of the item they marked is edited before anything else the
mark causes (the parent message, the sign-off card, a blocker alert posted in the release channel)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, Conversation, LocalSlack

DUE = (date.today() + timedelta(days=10)).isoformat()


def edits_of(local: LocalSlack, since: int) -> list[tuple[float, str]]:
    return [(c.timestamp, str(c.args["ts"])) for c in local.sandbox.calls_to("chat.update")[since:] if c.ok]


def test_the_marked_items_message_is_edited_before_the_parent_message(local: LocalSlack, convo: Conversation):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.drain()
    item_ts = convo.item_message(REVIEW_CHANNEL, thread, "s1")
    before = len(local.sandbox.calls_to("chat.update"))
    convo.mark(p.engineer, thread, "s1", "no", evidence="https://evals.example.com/runs/1")
    local.drain()
    edited = [ts for _, ts in edits_of(local, before)]
    assert item_ts in edited and thread in edited, edited  # the item's message and the parent (its score)
    assert edited[0] == item_ts, edited


def test_a_blocker_shows_on_its_item_before_the_alert_is_posted(local: LocalSlack, convo: Conversation):
    p = local.people
    thread = convo.start_review(p.lead, "copilot", "2.0")
    local.drain()
    item_ts = convo.item_message(REVIEW_CHANNEL, thread, "s14")
    before_edits = len(local.sandbox.calls_to("chat.update"))
    before_posts = len(local.sandbox.calls_to("chat.postMessage"))
    convo.mark(p.quality, thread, "s14", "partial", owner=p.engineer, due=DUE, note="prompts only")
    local.drain()
    alerts = [c.timestamp for c in local.sandbox.calls_to("chat.postMessage")[before_posts:]
              if c.ok and c.args.get("channel") == RELEASE_CHANNEL and str(c.args.get("text", "")).startswith("Blocker")]
    item_edits = [at for at, ts in edits_of(local, before_edits) if ts == item_ts]
    assert len(alerts) == 1 and item_edits, (alerts, item_edits)
    assert item_edits[0] < alerts[0]  # the alert waits its turn in the channel; the item's message does not
