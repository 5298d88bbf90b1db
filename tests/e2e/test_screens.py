"""See it as people see it: a short review through the real app, its Slack surfaces drawn by bot.sandbox.slack_html
and screenshotted in headless Chromium at 1280 and 400 px into test-artifacts/ on every run.

The parent message, a section, the result (in the thread and in the release channel), the sign-off card, a
refused form and a gap owner's App Home each become their own page (kept as screen-*.html next to the PNGs),
plus the whole workspace page that `make demo` writes. The review's system is named with markup and a
broadcast, which must show as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.sandbox.local import RELEASE_CHANNEL, REVIEW_CHANNEL, Conversation, LocalSlack
from bot.sandbox.slack_html import collect, pages
from tests import browser

HOSTILE = "<script>x</script> <!channel>"
VERSION = "2.4.0"
WIDTHS = (1280, 400)
GAPS = {"s1": "partial", "s11": "yes", "s16": "partial"}  # s16 partial is a blocker: the verdict is No-go


@dataclass
class Screens:
    html: dict[str, str] = field(default_factory=dict)
    dom: dict[str, str] = field(default_factory=dict)
    scripts: dict[str, int] = field(default_factory=dict)
    broadcasts: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)
    shots: dict[str, Path] = field(default_factory=dict)


def visible_text(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<head>.*?</head>", " ", markup, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def run_review(local: LocalSlack) -> dict[str, str]:
    """Start a review, mark every item (three gaps, one a blocker, one refusal on the way), let the result
    post, request sign-off, open a gap owner's App Home. Returns the ts of what gets screenshotted."""
    p, c, driver = local.people, Conversation(local), local.driver
    assert driver is not None
    due = (date.today() + timedelta(days=14)).isoformat()
    driver.slash_command("/readiness", "start", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    answer = driver.submit_view(p.lead, c.last_view_id(), {"system": HOSTILE, "version": VERSION,
                                                           "release_channel": RELEASE_CHANNEL})
    assert answer.status == 200 and not answer.body.strip(), answer.body
    local.settle()
    thread = local.sandbox.messages(REVIEW_CHANNEL)[0]["ts"]
    refused = c.mark(p.engineer, thread, "s2", "no", evidence="   ")
    assert "errors" in refused.body  # type: ignore[attr-defined]
    refused_view = c.last_view_id()
    driver.close_view(p.engineer, refused_view)
    owners = {"s1": p.quality, "s11": p.operations, "s16": p.operations}
    soon = (date.today() + timedelta(days=2)).isoformat()  # s1 is due soon: its owner gets a reminder at once
    for item_id in local.app_checklist_ids():
        if item_id in GAPS:
            c.mark(p.quality, thread, item_id, GAPS[item_id], owner=owners[item_id], due=soon if item_id == "s1" else due,
                   note=f"gap {item_id}")
        else:
            c.mark(p.engineer, thread, item_id, "no", evidence=f"proof of {item_id} & <b>more</b>")
    local.drain()
    driver.slash_command("/readiness", "signoff", user=p.lead, channel=REVIEW_CHANNEL)
    local.settle()
    answer = driver.submit_view(p.lead, c.last_view_id(), {"role:quality": p.quality, "role:policy": p.policy,
                                                           "role:operations": p.operations})
    assert answer.status == 200 and not answer.body.strip(), answer.body
    local.settle()
    local.drain()
    driver.app_home_opened(p.quality)
    local.settle()

    def find(channel: str, prefix: str, in_thread: bool = False) -> str:
        source = local.sandbox.thread(channel, thread) if in_thread else local.sandbox.messages(channel)
        found = [m["ts"] for m in source if m["text"].startswith(prefix)]
        assert len(found) == 1, (channel, prefix, [m["text"][:60] for m in source])
        return str(found[0])

    digest = [m for m in local.sandbox.dm_messages(p.quality) if m["text"].startswith("Reminder")]
    assert digest, [m["text"] for m in local.sandbox.dm_messages(p.quality)]
    return {"thread": str(thread), "section": c.item_message(REVIEW_CHANNEL, thread, "s16"),
            "digest": str(digest[-1]["ts"]), "dm": local.sandbox.dm_channel(p.quality),
            "result": find(REVIEW_CHANNEL, "Result for", in_thread=True),
            "release_result": find(RELEASE_CHANNEL, "Result for"), "card": find(RELEASE_CHANNEL, "Sign-off for"),
            "refused_view": refused_view}


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Screens]:
    browser.chromium()  # skipped (or failed, under CI / REQUIRE_BROWSER) before any work when missing
    database = tmp_path_factory.mktemp("screens") / "readiness.db"
    always = {"working_hours": "00:00-23:59:59", "working_days": "mon,tue,wed,thu,fri,sat,sun"}  # the digest now
    with LocalSlack(f"sqlite:///{database}", **always) as local:
        ts = run_review(local)
        assert local.sandbox.violations == [], "the bot broke Slack's contract"
        ws = collect(local.sandbox)
    p = local.people
    built = Screens()
    built.html = {
        "parent": pages.messages_page(ws, [(REVIEW_CHANNEL, ts["thread"])], title="The review's parent message"),
        "section": pages.messages_page(ws, [(REVIEW_CHANNEL, ts["section"])], title="A section of the review"),
        "result": pages.messages_page(ws, [(REVIEW_CHANNEL, ts["result"]), (RELEASE_CHANNEL, ts["release_result"])],
                                      title="The result, in the thread and in the release channel"),
        "card": pages.messages_page(ws, [(RELEASE_CHANNEL, ts["card"])], title="The sign-off card"),
        "digest": pages.messages_page(ws, [(ts["dm"], ts["digest"])], title="A gap owner's reminder"),
        "refused-form": pages.view_page(ws, ts["refused_view"], title="A mark refused for blank evidence"),
        "home": pages.home_page(ws, p.quality, title="The App Home of a gap owner"),
        "workspace": pages.workspace_page(ws, title="Every Slack surface of the review"),
    }
    browser.ARTIFACTS.mkdir(exist_ok=True)
    with browser.Browser() as chromium:
        for name, page in built.html.items():
            path = browser.ARTIFACTS / f"screen-{name}.html"
            path.write_text(page, encoding="utf-8")
            url = path.as_uri()
            for width in WIDTHS if name != "workspace" else ():
                built.shots[f"{name}-{width}"] = chromium.screenshot(url, f"screen-{name}-{width}.png", width=width)
            chromium.open(url)
            built.dom[name] = chromium.dom()
            built.scripts[name] = chromium.count("script")
            built.broadcasts[name] = chromium.count(".mention-broadcast")
            built.unsupported[name] = chromium.count(".unsupported")
    yield built


def test_each_surface_is_screenshotted_at_desktop_and_phone_width_as_tall_as_its_content(screens):
    assert len(screens.shots) == 14
    for key, path in screens.shots.items():
        width, height = browser.png_size(path)
        assert path.stat().st_size > 5_000, key
        assert width == int(key.rsplit("-", 1)[1]), key
        assert 150 < height < 16_000, (key, height)  # fitted to the content, not a fixed window
    for name in ("parent", "section", "result", "card"):  # narrower means taller, never cut off
        assert browser.png_size(screens.shots[f"{name}-400"])[1] > browser.png_size(screens.shots[f"{name}-1280"])[1]


def test_the_pages_say_what_matters(screens):
    text = {name: visible_text(dom) for name, dom in screens.dom.items()}
    assert f"{HOSTILE} {VERSION}" in text["parent"]
    for word in ("No-go", "22/22", "s16", "Blockers", "now", "as first posted", "Readiness", "APP", "(edited)"):
        assert word in text["parent"], word
    assert re.search(r"\b4 of 42\b", text["parent"]), text["parent"][:600]
    for item_id in ("s14", "s15", "s16", "s17"):
        assert f"{item_id} ·" in text["section"], item_id
    assert "Partial" in text["section"] and "as first posted" in text["section"]
    assert text["result"].count("No-go") >= 2 and "# ai-rollout" in text["result"]
    assert "# release-approvals" in text["result"] and "s16" in text["result"] and "4 of 42" in text["result"]
    for role in ("Quality", "Policy", "Operations", "@dana", "@ines", "@sam", "waiting for a decision", "Reject"):
        assert role in text["card"], role
    assert "Only visible to" not in text["card"]
    assert "Your open gaps" in text["home"] and "s1" in text["home"] and "Home" in text["home"]
    for words in ("You own a gap", "s1", "Closed: mark No with evidence", "Propose a new due date", "Snooze"):
        assert words in text["digest"], words
    assert "No: s2" in text["refused-form"] and "submitted, answered with errors" in text["refused-form"]
    assert 'class="input-error"' in screens.dom["refused-form"]
    for heading in ("# ai-rollout", "# release-approvals", "Modals shown to @priya", "App Home of @dana"):
        assert heading in text["workspace"], heading


def test_every_block_the_app_sends_is_drawn(screens):
    assert screens.unsupported == dict.fromkeys(screens.html, 0)


def test_hostile_text_stays_text_in_the_browser(screens):
    for name, dom in screens.dom.items():
        assert screens.scripts[name] == 0, name  # no <script> element in the DOM
        assert screens.broadcasts[name] == 0, name  # and no @channel that would ping
        assert "<script>x" not in dom, name
    for name in ("parent", "result", "card", "home", "workspace"):
        assert "&lt;script&gt;x&lt;/script&gt; &lt;!channel&gt;" in screens.dom[name], name
        assert HOSTILE in visible_text(screens.dom[name]), name
    assert "proof of s2 &amp; &lt;b&gt;more&lt;/b&gt;" in screens.dom["workspace"]
