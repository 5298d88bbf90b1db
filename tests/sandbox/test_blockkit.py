"""Block Kit checks as pure functions."""

from __future__ import annotations

from typing import Any

from bot.sandbox.blockkit import check_message_blocks, check_view, with_generated_ids


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def button(action_id: str, value: str = "v", text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": value, "text": {"type": "plain_text", "text": text}}


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Readiness"},
            "submit": {"type": "plain_text", "text": "Save"}, "blocks": blocks, **extra}


def test_good_message_blocks_pass() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Readiness review"}},
        section("*Score*: 72", "score"),
        {"type": "actions", "block_id": "act", "elements": [button("approve"), button("reject")]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "updated"}]},
        {"type": "divider"},
    ]
    assert check_message_blocks(blocks) == []
    assert check_message_blocks([section("x")] * 50) == []


def test_limits_are_reported_by_name() -> None:
    assert "51 blocks" in check_message_blocks([section("x")] * 51)[0]
    assert "3001 characters" in check_message_blocks([section("x" * 3001)])[0]
    long_value = check_message_blocks([{"type": "actions", "elements": [button("a", value="v" * 2001)]}])
    assert long_value and "value" in long_value[0] and "2000" in long_value[0]
    long_id = check_message_blocks([section("x", block_id="b" * 256)])
    assert long_id and "block_id" in long_id[0]
    long_action = check_message_blocks([{"type": "actions", "elements": [button("a" * 256)]}])
    assert long_action and "action_id" in long_action[0]
    header = check_message_blocks([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
    assert header and "150" in header[0]


def test_bad_types_and_duplicates() -> None:
    assert "unknown block type 'sektion'" in check_message_blocks([{"type": "sektion"}])[0]
    accessory = section("x")
    accessory["accessory"] = {"type": "buton", "action_id": "a"}
    assert "unknown element type 'buton'" in check_message_blocks([accessory])[0]
    dup = check_message_blocks([section("a", "same"), section("b", "same")])
    assert dup == ["blocks[1].block_id: duplicate block_id 'same' (also blocks[0])"]
    dup_action = check_message_blocks([{"type": "actions", "elements": [button("a"), button("a")]}])
    assert "duplicate action_id" in dup_action[0]
    assert check_message_blocks("not a list")[0].startswith("blocks: must be a JSON array")


def test_slack_sdk_model_rejections_are_reported() -> None:
    problems = check_message_blocks([{"type": "section"}])
    assert problems and "text or fields" in problems[0]
    bad_input = check_view(modal([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                                   "element": button("a")}]))
    assert bad_input and "input block" in bad_input[0]


def test_views() -> None:
    good = modal([{"type": "input", "block_id": "owner", "label": {"type": "plain_text", "text": "Owner"},
                   "element": {"type": "users_select", "action_id": "pick"}}], private_metadata="x" * 3000)
    assert check_view(good) == []
    assert check_view({"type": "home", "blocks": [section("hi")]}) == []
    assert "101 blocks" in check_view(modal([section("x")] * 101))[0]
    assert "private_metadata" in check_view(modal([section("x")], private_metadata="x" * 3001))[0]
    no_submit = modal([good["blocks"][0]])
    del no_submit["submit"]
    assert "submit" in check_view(no_submit)[0]
    assert "title" in check_view(modal([section("x")], title={"type": "plain_text", "text": "t" * 25}))[0]
    assert "home tab cannot have a submit" in check_view({"type": "home", "blocks": [section("x")],
                                                          "submit": {"type": "plain_text", "text": "s"}})[0]
    assert "view.type" in check_view({"type": "dialog", "blocks": []})[0]
    dup = check_view(modal([section("a", "same"), section("b", "same")]))
    assert "duplicate block_id" in dup[0]


def test_generated_ids_fill_only_missing_ones() -> None:
    blocks = [section("a"), {"type": "actions", "block_id": "keep", "elements": [button("mine"), {
        "type": "button", "text": {"type": "plain_text", "text": "x"}}]}]
    filled = with_generated_ids(blocks)
    assert "block_id" not in blocks[0]  # input untouched
    assert filled[0]["block_id"] and filled[1]["block_id"] == "keep"
    assert filled[1]["elements"][0]["action_id"] == "mine" and filled[1]["elements"][1]["action_id"]


def raw_cell(text: str = "x") -> dict[str, Any]:
    return {"type": "raw_text", "text": text}


def a_table(rows: int = 2, cells: int = 2, **extra: Any) -> dict[str, Any]:
    return {"type": "table", "rows": [[raw_cell() for _ in range(cells)] for _ in range(rows)], **extra}


def test_table_blocks_are_checked_against_slacks_limits() -> None:
    from bot.sandbox.blockkit import check_attachments

    rich = {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                               "elements": [{"type": "text", "text": "日本-サポート"}]}]}
    good = a_table(column_settings=[{"is_wrapped": True}, None, {"align": "right"}])
    good["rows"][1][0] = rich
    assert check_attachments([{"blocks": [good]}]) == []
    assert check_attachments([{"blocks": [a_table(100, 20)]}]) == []
    problems = check_attachments([{"blocks": [a_table(101, 21)]}])
    assert "attachments[0].blocks[0].rows: has 101 rows; the limit is 100" in problems
    assert "attachments[0].blocks[0].rows[0]: has 21 cells; the limit is 20" in problems
    assert check_attachments([{"blocks": [a_table(column_settings=[None] * 21)]}]) == [
        "attachments[0].blocks[0].column_settings: an array of at most 20 items"]
    assert "align: one of left, center, right" in check_attachments(
        [{"blocks": [a_table(column_settings=[{"align": "middle"}])]}])[0]
    assert "a raw_text cell needs non-empty text" in check_attachments(
        [{"blocks": [{"type": "table", "rows": [[raw_cell("")]]}]}])[0]
    assert "the cells hold 10001 characters counted as UTF-8 bytes" in check_attachments(
        [{"blocks": [{"type": "table", "rows": [[raw_cell("x" * 10_001)]]}]}])[0]
    assert check_attachments([{"blocks": [a_table()]}, {"blocks": [a_table()]}]) == [
        "attachments: 2 table blocks; a message holds at most 1"]
    assert check_message_blocks([a_table()]) == [
        "blocks: a table block goes in the message's attachments (Slack's table block reference)"]


def test_a_tables_characters_are_counted_so_emoji_never_pass_under_the_limit() -> None:
    """Slack's reference gives 10,000 characters across a table's cells without saying what a character is, and
    text of emoji has been refused under a count of code points; the sandbox counts UTF-8 bytes, the strictest
    reading (never fewer than code points or UTF-16 units), so a table it accepts is within every reading."""
    from bot.sandbox.blockkit import check_attachments, table_size

    assert [table_size(t) for t in ("x", "é", "日", "🟢", "👩‍👩‍👧")] == [1, 2, 3, 4, 18]
    emoji = [[raw_cell("🟢" * 1_250)] for _ in range(2)]  # 2,500 code points, 5,000 UTF-16 units, 10,000 bytes
    assert check_attachments([{"blocks": [{"type": "table", "rows": emoji}]}]) == []
    emoji[1][0] = raw_cell("🟢" * 1_250 + "x")
    assert check_attachments([{"blocks": [{"type": "table", "rows": emoji}]}]) == [
        "attachments[0].blocks[0].rows: the cells hold 10001 characters counted as UTF-8 bytes; the limit is 10000"]
