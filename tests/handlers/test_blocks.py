"""Block Kit builders are pure: every message and view they build stays inside Slack's limits."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest

from bot.core.checklist import Mark, parse_checklist
from bot.core.desk import Checkin, Decision, Desk, WaitingProposal
from bot.core.review import GapRow, ItemStatus, Review, ReviewRow, message_parts
from bot.core.scoring import MarkEntry, score
from bot.sandbox.blockkit import check_message_blocks, check_view
from handlers.blocks import review as rb
from handlers.blocks.home import help_blocks, home_view, lines_message
from handlers.blocks.modals import mark_modal, start_modal
from handlers.ids import ActionId, item_block_id
from handlers.state import ItemRef, MarkChoice, MarkModalState, StartModalState

WHEN = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
LONG = "<!channel> & <https://evil.example|click> " + "x" * 1950


def make_review(checklist, marks: dict[str, ItemStatus] | None = None, **kw) -> Review:
    marks = marks or {}
    entries = {k: MarkEntry(mark=v.mark, evidence=v.evidence, owner=v.owner, due=v.due, note=v.note)
               for k, v in marks.items() if v.mark}
    return Review(assessment_id=7, team_id="T1", system=kw.get("system", "copilot"), version="2.0",
                  started_by="U1", status="open", checklist=checklist, card=score(checklist, entries),
                  items=marks, cohorts=kw.get("cohorts", ["eu", "jp"]), channel_id="C1", thread_ts="1.0",
                  release_channel_id="C2")


def worst_case(checklist) -> dict[str, ItemStatus]:
    return {i: ItemStatus(item_id=i, mark=Mark.YES, owner="U2", due=date(2027, 1, 1), note=LONG,
                          marked_by="U3", marked_at=WHEN) for i in checklist.item_ids}


def test_every_review_message_is_within_limits(checklist):
    review = make_review(checklist, worst_case(checklist), system="s" * 120, cohorts=["c" * 200] * 20)
    messages = [rb.parent_message(review), rb.result_message(review, "https://x.slack.com/archives/C1/p1")]
    messages += [rb.section_message(review, part) for part in message_parts(checklist)]
    messages += [rb.blocker_alert(review, "s14", "U3", None), rb.blocker_cleared(review, "s14", "U3", "https://l"),
                 rb.owner_assigned(review, "s5", "U3", None)]
    for text, blocks in messages:
        assert text
        assert check_message_blocks(blocks) == [], text


def test_item_controls_carry_the_checklist_id(checklist):
    review = make_review(checklist)
    part = next(p for p in message_parts(checklist) if p.section.id == "release")
    _, blocks = rb.section_message(review, part)
    action_blocks = [b for b in blocks if b["type"] == "actions"]
    assert [b["block_id"] for b in action_blocks] == [item_block_id(i) for i in ("s14", "s15", "s16", "s17")] + [
        "section:release"]
    buttons = action_blocks[0]["elements"]
    assert [b["action_id"] for b in buttons] == [ActionId.MARK_NO, ActionId.MARK_PARTIAL, ActionId.MARK_YES]
    assert [b["text"]["text"] for b in buttons] == ["No: controlled", "Partial: partly controlled", "Yes: a gap"]
    assert not any(b.get("style") for b in buttons)  # the worst answer is not the loudest button
    assert ItemRef.model_validate_json(buttons[0]["value"]).item == "s14"
    [section_button] = action_blocks[-1]["elements"]
    assert section_button["action_id"] == ActionId.MARK_SECTION and "4 items" in section_button["text"]["text"]


def interactive(blocks) -> int:
    kinds = ("button", "overflow", "static_select", "users_select", "datepicker", "radio_buttons")
    return sum(1 for b in blocks for e in [*(b.get("elements") or []), b.get("accessory") or {}]
               if isinstance(e, dict) and e.get("type") in kinds)


def test_a_marked_item_is_one_line_with_one_control(checklist):
    marks = {"s14": ItemStatus(item_id="s14", mark=Mark.PARTIAL, owner="U9", due=date(2027, 1, 2), note="half",
                               marked_by="U1", marked_at=WHEN)}
    part = next(p for p in message_parts(checklist) if p.section.id == "release")
    _, blocks = rb.section_message(make_review(checklist, marks), part)
    [line] = [b for b in blocks if b.get("block_id") == item_block_id("s14")]
    assert line["type"] == "section" and line["accessory"]["type"] == "overflow"
    options = {MarkChoice.model_validate_json(o["value"]).mark for o in line["accessory"]["options"]}
    assert options == set(Mark)  # the two other marks, and the details of this one
    assert "<@U9>" in line["text"]["text"] and ":no_entry: *blocker*" in line["text"]["text"]
    _, unmarked = rb.section_message(make_review(checklist), part)
    assert interactive(blocks) == interactive(unmarked) - 2  # its three buttons became one menu
    closed = make_review(checklist, marks)
    closed = type(closed)(**{**closed.__dict__, "status": "closed"})
    assert interactive(rb.section_message(closed, part)[1]) == 0  # a closed review's marks are frozen


def test_a_long_section_is_split_not_cut(checklist_data):
    data = copy.deepcopy(checklist_data)
    items = data["sections"][0]["items"]
    for n in range(30):
        extra = dict(items[0])
        extra["id"] = f"x{n}"
        items.append(extra)
    big = parse_checklist(data)
    parts = [p for p in message_parts(big) if p.section.id == "outcome"]
    assert len(parts) == 3
    assert sum(len(p.items) for p in parts) == 34
    review = make_review(big, worst_case(big))
    for part in parts:
        _, blocks = rb.section_message(review, part)
        assert check_message_blocks(blocks) == []


def test_user_text_cannot_ping_or_link(checklist):
    review = make_review(checklist, worst_case(checklist))
    text = str(rb.section_message(review, message_parts(checklist)[0])[1])
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://evil.example" not in text


def test_parent_message_shows_progress_score_band_verdict_blockers(checklist):
    marks = {"s14": ItemStatus(item_id="s14", mark=Mark.PARTIAL, owner="U9", due=date(2027, 1, 2),
                               marked_by="U1", marked_at=WHEN)}
    text, blocks = rb.parent_message(make_review(checklist, marks))
    flat = str(blocks)
    assert "1/22 marked" in flat and "1 of 42 (provisional)" in flat and "No-go" in flat
    assert "s14" in flat and "<@U9>" in flat
    assert "1/22 marked" in text


def test_modals_are_valid_for_each_mark(checklist):
    today = date(2026, 11, 27)
    for mark in Mark:
        state = MarkModalState(assessment_id=1, item_id="s5", mark=mark, channel_id="C1", message_ts="1.1")
        current = ItemStatus(item_id="s5", mark=Mark.YES, owner="U2", due=date(2026, 1, 1), note="old")
        view = mark_modal(checklist, state, current, today)
        assert check_view(view) == []
        ids = {b.get("block_id") for b in view["blocks"]}
        assert ("evidence" in ids) == (mark is Mark.NO)
        assert ("owner" in ids and "due" in ids) == (mark is not Mark.NO)
        assert "reason" in ids
        assert MarkModalState.model_validate_json(view["private_metadata"]) == state
    start = start_modal(StartModalState(channel_id="C1", user_id="U1"), system="copilot",
                        baselines=[(n, "copilot 1." + "9" * 100) for n in range(150)])
    assert check_view(start) == []


def test_home_and_lists_stay_within_limits(checklist):
    gaps = [GapRow(n + 1, "copilot 2.0", "s1", "t" * 60, "Yes", "U1", date(2026, 12, n % 28 + 1), n % 2 == 0)
            for n in range(300)]
    card = score(checklist, {})
    rows = [ReviewRow(n, "copilot " + "v" * 80, "open", card, "C1") for n in range(300)]
    link = "https://x.slack.com/archives/C1/p1"
    full = Desk(decisions=[Decision(n, "copilot " + "v" * 80, "quality", link) for n in range(1, 300)],
                proposals=[WaitingProposal(n, n, "s1", "U1", date(2027, 1, 1), date(2027, 2, 1), LONG[:500])
                           for n in range(1, 300)], proposals_total=300,
                checkins=[Checkin(n, 3, "copilot", link) for n in range(300)],
                overdue=[g for g in gaps if g.overdue], gaps=[g for g in gaps if not g.overdue], gaps_total=300,
                reviews=rows, reviews_total=10_000)
    assert check_view(home_view(full)) == []  # whatever the data, within Slack's 100 blocks
    assert check_view(home_view(Desk())) == []
    assert check_message_blocks(lines_message("t", [LONG] * 200, "none")) == []
    assert check_message_blocks(help_blocks()) == []


@pytest.mark.parametrize("mark", list(Mark))
def test_status_line_names_who_and_when(checklist, mark):
    st = ItemStatus(item_id="s2", mark=mark, evidence="link", owner="U5", due=date(2027, 1, 1),
                    marked_by="U4", marked_at=WHEN)
    line = rb.item_status_text(make_review(checklist, {"s2": st}), checklist.item("s2"))
    # 2026-11-27 09:30 UTC is 1795771800 seconds after the epoch; Slack renders the token in the reader's zone.
    assert "by <@U4> <!date^1795771800^{date_short_pretty} {time}|2026-11-27 09:30 UTC>" in line


def test_a_huge_checklist_result_stays_within_limits_and_says_what_it_left_out(checklist_data):
    data = copy.deepcopy(checklist_data)
    items = data["sections"][0]["items"]
    for n in range(900):
        extra = dict(items[0])
        extra["id"] = f"x{n}"
        items.append(extra)
    big = parse_checklist(data)
    review = make_review(big, worst_case(big))
    for text, blocks in (rb.result_message(review, "https://x"), rb.parent_message(review)):
        assert check_message_blocks(blocks) == [], text
    assert "more gaps" in json.dumps(rb.result_message(review, None)[1])
