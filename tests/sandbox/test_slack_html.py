"""The Slack HTML renderer with plain inputs: mrkdwn, every block and element type, frames and pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox.slack_html import pages
from bot.sandbox.slack_html.attachments import attachments, bar_colour
from bot.sandbox.slack_html.blocks import block, blocks
from bot.sandbox.slack_html.collect import Person, Place, ViewRecord, ViewState, Workspace, view_histories
from bot.sandbox.slack_html.context import Ctx, Names
from bot.sandbox.slack_html.elements import element
from bot.sandbox.slack_html.frames import App, home, message, modal
from bot.sandbox.slack_html.mrkdwn import mrkdwn, plain_text, text_object

NAMES = Names(users={"U0DANA": "dana", "U0SAM": "sam"}, channels={"C0REVIEW": "ai-rollout"}, tz="Europe/Berlin")
CTX = Ctx(NAMES)
STAMP = 1764597900  # 2025-12-01 14:05 UTC, 15:05 in Berlin


def md(text: str) -> str:
    return mrkdwn(text, NAMES)


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def mk(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


# -- mrkdwn ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("*bold*", "<b>bold</b>"),
    ("_italic_", "<i>italic</i>"),
    ("~gone~", "<s>gone</s>"),
    ("`x = *y*`", '<code class="code">x = *y*</code>'),
    ("a *b* _c_ ~d~", "a <b>b</b> <i>c</i> <s>d</s>"),
    ("*s16* Rollback", "<b>s16</b> Rollback"),
    ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),  # no formatting inside words
    ("* not bold *", "* not bold *"),
    ("line one\nline two", "line one<br>line two"),
])
def test_mrkdwn_formatting(text, expected):
    assert md(text) == expected


def test_links_show_their_label_and_only_safe_schemes_become_links():
    assert md("<https://x.example/a?b=1&amp;c=2|the report>") == (
        '<a class="link" href="https://x.example/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">'
        "the report</a>")
    assert ">https://x.example/p</a>" in md("<https://x.example/p>")
    assert 'href="mailto:a@b.example"' in md("<mailto:a@b.example|mail>")
    unsafe = md("<javascript:alert(1)|click>")
    assert "href" not in unsafe and "click" in unsafe
    assert "<b>" not in md("<https://x.example|*x*>")  # a label is text, as Slack shows it


def test_mentions_become_chips_with_names():
    assert md("<@U0DANA>") == '<span class="mention mention-user">@dana</span>'
    assert md("<@U0NOBODY>") == '<span class="mention mention-user">@U0NOBODY</span>'
    assert md("<#C0REVIEW>") == '<span class="mention mention-channel">#ai-rollout</span>'
    assert "#old-name" in md("<#C0GONE|old-name>")
    assert 'mention-broadcast">@here<' in md("<!here>") and "@channel" in md("<!channel>")
    assert 'mention-group">@oncall<' in md("<!subteam^S0ABC|@oncall>")
    assert md("*<@U0SAM>*") == '<b><span class="mention mention-user">@sam</span></b>'


def test_dates_are_formatted_in_the_viewers_zone_or_fall_back():
    assert ">Dec 1, 2025 3:05 PM</time>" in md(f"<!date^{STAMP}^{{date_short}} {{time}}|2025-12-01 14:05 UTC>")
    assert ">2025-12-01</time>" in md(f"<!date^{STAMP}^{{date_num}}|fallback>")
    assert ">Monday, December 1st, 2025</time>" in md(f"<!date^{STAMP}^{{date_long}}|fallback>")
    assert ">the fallback</time>" in md(f"<!date^{STAMP}^{{no_such_token}}|the fallback>")
    today = mrkdwn(f"<!date^{STAMP}^{{date_short_pretty}} at {{time}}|x>",
                   Names(tz="UTC", now=datetime(2025, 12, 1, 20, 0, tzinfo=UTC)))
    assert ">today at 2:05 PM</time>" in today
    linked = md(f"<!date^{STAMP}^{{date_num}}^https://x.example/e|fallback>")
    assert linked.startswith('<a class="link" href="https://x.example/e"')


def test_slack_escaped_text_shows_as_typed_and_never_becomes_markup():
    assert md("&lt;script&gt;x&lt;/script&gt; &lt;!channel&gt; a &amp; b") == (
        "&lt;script&gt;x&lt;/script&gt; &lt;!channel&gt; a &amp; b")
    assert md("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"  # unescaped markup: shown, not run
    assert md("&amp;lt;b&amp;gt;") == "&amp;lt;b&amp;gt;"  # decoded once, as Slack does
    assert md('say "hi" \'now\'') == "say &quot;hi&quot; &#x27;now&#x27;"
    assert md("\ue000\ue001 *x*") == "\ufffd\ufffd <b>x</b>"  # placeholders cannot be forged


def test_emoji_shortcodes():
    assert md(":white_check_mark: done") == '<span class="emoji" title=":white_check_mark:">✅</span> done'
    assert md(":no_such_emoji_here:") == ":no_such_emoji_here:"
    assert md(":thumbsup::skin-tone-3:").count("👍") == 1 and "skin" not in md(":thumbsup::skin-tone-3:")
    assert "🔴" in md(":red_circle: *No-go*") and "<b>No-go</b>" in md(":red_circle: *No-go*")


def test_quotes_bullets_and_preformatted_text():
    assert md("&gt; quoted\n&gt; more\nafter") == '<blockquote class="quote">quoted<br>more</blockquote>after'
    assert md("&gt;&gt;&gt; all\nof this").startswith('<blockquote class="quote">all<br>of this')
    bullets = md("• one\n• *two*")
    assert bullets.count('class="bullet"') == 2 and "<b>two</b>" in bullets
    pre = md("before\n```\nx = *1* <@U0DANA>\n```\nafter")
    assert '<pre class="pre">x = *1* &lt;@U0DANA&gt;</pre>' in pre and pre.startswith("before") and pre.endswith("after")


def test_plain_text_is_shown_as_typed():
    assert plain_text("*not bold* <b>") == "*not bold* &lt;b&gt;"
    assert plain_text("a\nb :tada:") == 'a<br>b <span class="emoji" title=":tada:">🎉</span>'
    assert text_object({"type": "plain_text", "text": ":tada:", "emoji": False}, NAMES) == ":tada:"
    assert text_object({"type": "raw_text", "text": ":tada: *x*"}, NAMES) == ":tada: *x*"


# -- blocks ---------------------------------------------------------------------------------------------------


def test_section_with_text_fields_and_accessory():
    html = block({"type": "section", "block_id": "b1", "text": mk("*Score*"), "fields": [mk("*Band*\n0-4"), plain("x")],
                  "accessory": {"type": "button", "text": plain("Open"), "action_id": "a", "style": "primary"}}, CTX)
    assert 'data-block-id="b1"' in html and '<div class="section-text"><b>Score</b></div>' in html
    assert html.count('<div class="field">') == 2 and 'class="fields"' in html
    assert 'class="accessory accessory-button"' in html and 'class="btn btn-primary"' in html


def test_header_divider_context_actions():
    assert block({"type": "header", "text": plain("Result *x*")}, CTX) == '<div class="block header">Result *x*</div>'
    assert block({"type": "divider"}, CTX) == '<hr class="block divider">'
    context = block({"type": "context", "elements": [mk("_small_"), {"type": "image", "image_url": "https://x/i.png",
                                                                        "alt_text": "logo"}]}, CTX)
    assert 'class="block context"' in context and "<i>small</i>" in context and 'aria-label="logo"' in context
    acts = block({"type": "actions", "elements": [
        {"type": "button", "text": plain("Approve"), "action_id": "a", "style": "primary"},
        {"type": "button", "text": plain("Reject"), "action_id": "r", "style": "danger"},
        {"type": "button", "text": plain("Later"), "action_id": "l"},
        {"type": "overflow", "action_id": "o", "options": [{"text": plain("Edit"), "value": "e"}]}]}, CTX)
    assert acts.count('class="action"') == 4 and "btn-danger" in acts and 'class="btn" role="button"' in acts
    assert 'class="overflow"' in acts and "<li>Edit</li>" in acts


def test_input_block_label_optional_hint_and_error():
    html = block({"type": "input", "block_id": "note", "optional": True, "label": plain("Note"),
                  "hint": plain("What is missing"), "element": {"type": "plain_text_input", "action_id": "v",
                                                                   "multiline": True, "placeholder": plain("Type")}},
                 Ctx(NAMES, errors={"note": "Say <why>"}))
    assert '<div class="label">Note <span class="optional">(optional)</span></div>' in html
    assert 'class="hint">What is missing<' in html and "input-multiline" in html and "Type" in html
    assert 'class="input-error" role="alert">⚠ Say &lt;why&gt;<' in html and "has-error" in html
    assert "input-error" not in block({"type": "input", "block_id": "x", "label": plain("X"),
                                       "element": {"type": "plain_text_input", "action_id": "v"}}, CTX)


def test_image_rich_text_table_markdown_file_video():
    image = block({"type": "image", "image_url": "https://x.example/chart.png", "alt_text": "a chart",
                   "title": plain("Trend")}, CTX)
    assert 'role="img" aria-label="a chart"' in image and "Trend" in image and "<img" not in image  # nothing loaded
    rich = block({"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "hi <b>", "style": {"bold": True}},
                                                   {"type": "user", "user_id": "U0DANA"},
                                                   {"type": "emoji", "name": "tada", "unicode": "1f389"},
                                                   {"type": "link", "url": "https://x.example", "text": "x"}]},
        {"type": "rich_text_list", "style": "ordered", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "first"}]}]},
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "code"}]},
        {"type": "rich_text_quote", "elements": [{"type": "channel", "channel_id": "C0REVIEW"}]}]}, CTX)
    assert "<b>hi &lt;b&gt;</b>" in rich and "@dana" in rich and "🎉" in rich and 'href="https://x.example"' in rich
    assert "<ol" in rich and "<li>" in rich and '<pre class="pre">code</pre>' in rich and "#ai-rollout" in rich
    table = block({"type": "table", "column_settings": [{"is_wrapped": True}, {"align": "right"}],
                   "rows": [[{"type": "raw_text", "text": "Cohort"}, {"type": "raw_text", "text": "Score"}],
                            [{"type": "raw_text", "text": "eu <b>"}, {"type": "raw_text", "text": "🟢 97%"}]]}, CTX)
    assert table.count("<th") == 2 and table.count("<td") == 2 and 'class="align-right"' in table
    assert "eu &lt;b&gt;" in table and 'class="align-left wrap"' in table
    markdown = block({"type": "markdown", "text": "# Title\n**bold** and [a link](https://x.example)\n- item"}, CTX)
    assert "md-h1" in markdown and "<b>bold</b>" in markdown and 'href="https://x.example"' in markdown
    assert 'class="bullet"' in markdown
    assert "file-block" in block({"type": "file", "external_id": "F1", "source": "remote"}, CTX)
    assert "▶" in block({"type": "video", "title": plain("Demo"), "video_url": "https://x", "alt_text": "v",
                         "thumbnail_url": "https://x"}, CTX)


def test_unknown_types_are_shown_as_unsupported_not_dropped():
    assert 'class="unsupported">unsupported block: <code>carousel</code>' in block({"type": "carousel"}, CTX)
    assert "unsupported element: <code>magic_picker</code>" in block(
        {"type": "actions", "elements": [{"type": "magic_picker", "action_id": "m"}]}, CTX)
    assert "unsupported rich text element: <code>sparkle</code>" in block(
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "sparkle"}]}]}, CTX)
    assert "unsupported block: <code>&lt;b&gt;</code>" in block({"type": "<b>"}, CTX)
    assert "unsupported block" in blocks(["not a block"], CTX)


# -- elements ---------------------------------------------------------------------------------------------------


def test_selects_and_pickers_show_their_choice_or_placeholder():
    option = {"text": plain("High"), "value": "h"}
    assert "High" in element({"type": "static_select", "action_id": "s", "options": [option], "initial_option": option},
                             None, CTX)
    assert 'class="placeholder">Pick one<' in element({"type": "static_select", "action_id": "s", "options": [option],
                                                        "placeholder": plain("Pick one")}, None, CTX)
    assert "</span>dana</span>" in element({"type": "users_select", "action_id": "u", "initial_user": "U0DANA"}, None, CTX)
    multi = element({"type": "multi_users_select", "action_id": "u", "initial_users": ["U0DANA", "U0SAM"]}, None, CTX)
    assert "dana" in multi and "sam" in multi
    assert "ai-rollout" in element({"type": "conversations_select", "action_id": "c",
                                    "initial_conversation": "C0REVIEW"}, None, CTX)
    assert "Tue, Dec 1, 2026" in element({"type": "datepicker", "action_id": "d", "initial_date": "2026-12-01"}, None, CTX)
    assert "2:05 PM" in element({"type": "timepicker", "action_id": "t", "initial_time": "14:05"}, None, CTX)
    assert "caret" in element({"type": "datepicker", "action_id": "d"}, None, CTX)


def test_choices_and_inputs_show_the_state_the_user_entered():
    options = [{"text": plain("A"), "value": "a"}, {"text": plain("B"), "value": "b",
                                                     "description": plain("the second")}]
    boxes = element({"type": "checkboxes", "action_id": "c", "options": options, "initial_options": [options[1]]},
                    "blk", CTX)
    assert boxes.count('class="checkbox"') == 2 and boxes.count("choice-on") == 1 and "the second" in boxes
    ctx = Ctx(NAMES, values={"blk": {"r": {"type": "radio_buttons", "selected_option": options[0]},
                                     "t": {"type": "plain_text_input", "value": "typed <here>"},
                                     "d": {"type": "datepicker", "selected_date": "2026-12-24"}}})
    radios = element({"type": "radio_buttons", "action_id": "r", "options": options, "initial_option": options[1]},
                     "blk", ctx)
    assert re.search(r'choice choice-on"><span class="radio" aria-checked="true"></span><span class="choice-text">A',
                     radios)
    assert "typed &lt;here&gt;" in element({"type": "plain_text_input", "action_id": "t", "initial_value": "old"},
                                           "blk", ctx)
    assert "Thu, Dec 24, 2026" in element({"type": "datepicker", "action_id": "d", "initial_date": "2026-12-01"},
                                          "blk", ctx)


def test_buttons_of_an_old_version_look_disabled():
    html = element({"type": "button", "text": plain("Go"), "action_id": "g", "style": "primary"}, None,
                   Ctx(NAMES, inert=True))
    assert "btn-inert" in html and 'aria-disabled="true"' in html


# -- attachments and frames --------------------------------------------------------------------------------------


def test_attachments_have_a_colour_bar_and_carry_tables():
    assert bar_colour("good") == "#2eb67d" and bar_colour("e01e5a") == "#e01e5a" and bar_colour("red;x") == "#dddddd"
    html = attachments([{"color": "#36a64f", "title": "T", "text": "*t*", "fields": [{"title": "F", "value": "v",
                                                                                      "short": True}],
                         "blocks": [{"type": "table", "rows": [[{"type": "raw_text", "text": "h"}]]}]}], CTX)
    assert "border-left-color:#36a64f" in html and "<b>t</b>" in html and "<table" in html and "F" in html


def test_a_message_has_author_badge_time_and_edited_mark():
    posted = {"ts": f"{STAMP}.000100", "bot_id": "B0BOT", "user": "U0BOT", "text": "fallback",
              "blocks": [{"type": "section", "text": mk("hello <@U0DANA>")}], "edited": {"ts": "1"}}
    html = message(posted, CTX, App("Readiness", "U0BOT"))
    assert '<span class="author">Readiness</span><span class="badge">APP</span>' in html
    assert ">3:05 PM</time>" in html and '<span class="edited">(edited)</span>' in html and "fallback" not in html
    person = message({"ts": f"{STAMP}.0", "user": "U0DANA", "text": "hi *there*"}, CTX)
    assert '<span class="author">dana</span>' in person and "APP" not in person and "<b>there</b>" in person
    only = message({"ts": f"{STAMP}.0", "bot_id": "B", "text": "x", "is_ephemeral": True}, CTX)
    assert "Only visible to you" in only and "msg-ephemeral" in only


def test_a_modal_and_a_home_tab():
    view = {"type": "modal", "title": plain("Mark s1"), "submit": plain("Save"), "close": plain("Cancel"),
            "blocks": [{"type": "input", "block_id": "b", "label": plain("Owner"),
                        "element": {"type": "users_select", "action_id": "u"}}]}
    html = modal(view, CTX, status="open")
    assert 'class="modal-title">Mark s1<' in html and ">Save</span>" in html and ">Cancel</span>" in html
    assert 'class="modal-x"' in html and "Owner" in html and "open" in html
    assert ">Close<" not in modal({**view, "close": None}, CTX) and ">Cancel<" in modal({**view, "close": None}, CTX)
    tab = home({"type": "home", "blocks": [{"type": "header", "text": plain("Your open gaps")}]}, CTX)
    assert 'class="tab tab-on">Home<' in tab and "Your open gaps" in tab


# -- pages ---------------------------------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    ok: bool
    response: dict
    timestamp: float


def workspace() -> Workspace:
    parent = {"ts": "100.000001", "bot_id": "B", "text": "now", "thread_ts": "100.000001", "edited": {"ts": "2"},
              "blocks": [{"type": "section", "text": mk("Verdict *No-go*")}]}
    reply = {"ts": "100.000002", "bot_id": "B", "text": "a reply", "thread_ts": "100.000001"}
    first = {"ts": "100.000001", "bot_id": "B", "text": "first", "blocks": [{"type": "section", "text": mk("Incomplete")}]}
    errors = ViewState("submitted, answered with errors", {"type": "modal", "title": plain("Mark"), "blocks": [
        {"type": "input", "block_id": "evidence", "label": plain("Evidence"),
         "element": {"type": "plain_text_input", "action_id": "v"}}]}, 101.0, {"evidence": "Needs evidence"})
    return Workspace(
        team="sandbox", app=App(), people={"U0DANA": Person("U0DANA", "dana", "Dana", "Europe/Berlin")},
        places={"C0REVIEW": Place("C0REVIEW", "ai-rollout"), "D0DANA": Place("D0DANA", "D0DANA", True, "U0DANA")},
        messages={"C0REVIEW": [parent, reply], "D0DANA": [{"ts": "100.5", "bot_id": "B", "text": "your digest"}]},
        first_posted={("C0REVIEW", "100.000001"): first}, updates={("C0REVIEW", "100.000001"): 3},
        ephemerals=[{"ts": "101.0", "bot_id": "B", "text": "only you", "channel": "C0REVIEW", "recipient": "U0DANA",
                     "is_ephemeral": True}],
        modals=[ViewRecord("V1", "U0DANA", errors.view, [errors], False)],
        homes={"U0DANA": ViewRecord("V2", "U0DANA", {"type": "home", "blocks": [{"type": "header",
                                                                                "text": plain("Your open gaps")}]},
                                    [], True)})


def test_the_workspace_page_draws_every_surface():
    page = pages.workspace_page(workspace(), title="Run <1>")
    assert page.startswith("<!doctype html>") and "<script" not in page and "Content-Security-Policy" in page
    assert "<title>Run &lt;1&gt;</title>" in page and "# ai-rollout" in page
    assert "Verdict <b>No-go</b>" in page and "as first posted" in page and "Incomplete" in page
    assert "updated 3 times since it was posted" in page and "1 reply" in page and 'class="replies"' in page
    assert "@dana" in page and "your digest" in page and "Only visible to @dana" in page and "in #ai-rollout" in page
    assert "Modals shown to @dana" in page and "Needs evidence" in page and "App Home of @dana" in page


def test_a_message_page_shows_both_versions_side_by_side():
    page = pages.messages_page(workspace(), [("C0REVIEW", "100.000001")], title="parent", with_thread=True)
    assert 'class="versions"' in page and "as first posted" in page and "a reply" in page
    unchanged = pages.messages_page(workspace(), [("C0REVIEW", "100.000002")], title="reply")
    assert "as first posted" not in unchanged and "reply in a thread" in unchanged


def test_threads_group_replies_under_their_parent_and_keep_broadcasts_in_the_channel():
    parent, reply = {"ts": "1"}, {"ts": "2", "thread_ts": "1"}
    broadcast = {"ts": "3", "thread_ts": "1", "subtype": "thread_broadcast"}
    assert pages.threads([parent, reply, broadcast, {"ts": "4"}]) == [
        (parent, [reply, broadcast]), (broadcast, []), ({"ts": "4"}, [])]


def test_view_histories_keep_each_distinct_state_in_order():
    view = {"id": "V1", "type": "modal", "title": plain("T"), "blocks": []}
    changed = {**view, "blocks": [{"type": "divider"}]}
    calls = [Call("views.open", True, {"view": view}, 1.0), Call("views.update", True, {"view": view}, 2.0),
             Call("views.update", True, {"view": changed}, 3.0), Call("views.update", False, {}, 3.5)]
    answers = [{"view_id": "V1", "body": {"response_action": "errors", "errors": {"b": "no"}}, "submitted": None,
                "at": 4.0}, {"view_id": "V1", "body": None, "submitted": {"values": {}}, "at": 5.0}]
    states = view_histories(calls, answers)["V1"]
    assert [s.label for s in states] == ["opened (views.open)", "updated (views.update)",
                                         "submitted, answered with errors", "submitted, then closed"]
    assert states[2].errors == {"b": "no"} and states[2].view == changed


def test_a_view_changed_after_its_last_recorded_state_shows_as_it_is_now():
    from bot.sandbox.slack_html.collect import with_final

    opened = ViewState("opened (views.open)", {"type": "modal", "title": plain("T"), "blocks": []}, 1.0)
    same = {"type": "modal", "title": plain("T"), "blocks": []}
    assert with_final([opened], same) == [opened]
    clicked = {**same, "state": {"values": {"b": {"a": {"type": "static_select", "selected_option": None}}}}}
    assert [s.label for s in with_final([opened], clicked)] == ["opened (views.open)", "as it is now"]
    assert with_final([], same) == []


def test_the_demo_writes_one_page_of_every_surface_and_prints_its_path(tmp_path, capsys):
    from types import SimpleNamespace

    from bot.sandbox.demo import write_surfaces
    from bot.sandbox.server import SlackSandbox

    sandbox = SlackSandbox()
    sandbox.add_channel("C0REVIEW", "ai-rollout")
    sandbox.add_user("U0DANA", "dana")
    sandbox.add_message("C0REVIEW", "hello &lt;b&gt; <@U0DANA>", "U0DANA")
    path = write_surfaces(SimpleNamespace(sandbox=sandbox), tmp_path / "surfaces.html")  # type: ignore[arg-type]
    page = path.read_text(encoding="utf-8")
    assert "# ai-rollout" in page and "hello &lt;b&gt;" in page and "@dana" in page and "<script" not in page
    assert str(path) in capsys.readouterr().out


ALLOWED_TAGS = {"b", "i", "s", "code", "span", "a", "time", "br", "div", "pre", "blockquote"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"<>&|*_~`:!@#^;/ \nabcU0é\ue000", "&lt;", "&gt;", "&amp;", "<script>",
                                 "javascript:", "<!date^1^{time}|", "```", "<@U0DANA>", "<https://x|"]),
                max_size=40).map("".join))
def test_no_text_can_become_markup_other_than_the_renderers_own(text):
    parser = _Tags()
    parser.feed(mrkdwn(text, NAMES) + plain_text(text))
    for tag, attrs in parser.seen:
        assert tag in ALLOWED_TAGS, (text, tag)
        assert not any(name.startswith("on") for name in attrs), (text, attrs)
        href = attrs.get("href")
        assert href is None or href.split(":", 1)[0].lower() in ("http", "https", "mailto", "tel", "slack"), text
