"""The cohort grid as Slack table blocks: native text for any script, split above the table's limits, every
part accepted by the sandbox's Block Kit checks."""

from __future__ import annotations

from bot.core.evidence.evidence_set import evidence_from_data
from bot.core.evidence.judge import judge
from bot.core.evidence.policy import policy_from_data
from bot.sandbox.blockkit import check_attachments, check_message_blocks
from handlers.blocks.cohort_table import MAX_PARTS, MAX_TABLE_CHARS, grid_messages


def card(cohorts: list[str], metrics: int = 1):
    names = ["task_success_rate"] + [f"m{j:02d}" for j in range(metrics - 1)]
    declared = {m: {"unit": "points", "direction": "higher"} for m in names[1:]}
    policy = policy_from_data({"id": "p", "version": "1", "min_sample": 30, "metrics": declared,
                               "rules": [{"metric": m, "floor": 0.5} for m in names]})
    rows = [{"cohort": c, "metric": m, "value": 0.9 if i % 3 else 0.2, "n": 100 if i % 5 else 10}
            for i, c in enumerate(cohorts) for m in names]
    return judge(policy, evidence_from_data({"system": "s", "version": "1", "metrics": declared, "rows": rows}))


def tables(messages):
    for message in messages:
        assert check_message_blocks(message["blocks"]) == [] and check_attachments(message["attachments"]) == []
        [attachment] = message["attachments"]
        [block] = attachment["blocks"]
        yield block


def test_non_ascii_cohort_names_are_native_text_in_the_table():
    messages = grid_messages("copilot 2.0", card(["日本-サポート", "Zürich", "us-retail"]), "1 fail.")
    [block] = list(tables(messages))
    header, *rows = block["rows"]
    assert [c["text"] for c in header] == ["Cohort", "task_success_rate"]
    assert [r[0] for r in rows] == [{"type": "raw_text", "text": "Zürich"}, {"type": "raw_text", "text": "us-retail"},
                                    {"type": "raw_text", "text": "日本-サポート"}]
    assert rows[2][1]["text"] == "⚪ 20.0% too few"  # n=10 is below min_sample 30: never a pass or a fail
    assert rows[0][1]["text"] == "🟢 90.0% pass"
    assert "Cohort scorecard: copilot 2.0" in messages[0]["blocks"][0]["text"]["text"]


def test_a_large_grid_is_split_into_parts_each_within_the_limits():
    big = card([f"cohort-{i:03d}" for i in range(150)], metrics=25)
    messages = grid_messages("copilot 2.0", big, "")
    blocks = list(tables(messages))
    assert {len(b["rows"][0]) for b in blocks} == {20, 7}  # 25 metrics: 19 + 6 columns beside the cohort
    assert all(len(b["rows"]) <= 100 for b in blocks)
    assert all(sum(len(c["text"].encode()) for row in b["rows"] for c in row) <= MAX_TABLE_CHARS for b in blocks)
    assert f"part 1 of {len(messages)}: cohorts cohort-000 to " in messages[0]["text"]
    shown = [(row[0]["text"], head["text"]) for b in blocks for row in b["rows"][1:] for head in b["rows"][0][1:]]
    assert len(shown) == len(set(shown)) == 150 * 25  # every cell once

    narrow = grid_messages("copilot 2.0", card([f"c{i:03d}" for i in range(150)]), "")
    assert [len(b["rows"]) for b in tables(narrow)] == [100, 52]  # 99 cohorts under the header, then 51

    wide = card([f"{'x' * 150}-{i:03d}" for i in range(300)], metrics=40)  # long names, many parts
    messages = grid_messages("copilot 2.0", wide, "")
    assert len(messages) == MAX_PARTS and "more part(s): `readiness evidence show`" in str(messages[-1]["blocks"])
    for block in tables(messages):
        assert sum(len(c["text"].encode()) for row in block["rows"] for c in row) <= MAX_TABLE_CHARS


def test_emoji_heavy_cohort_names_never_push_a_table_over_the_limit():
    """Cohort names of emoji (4 bytes each in UTF-8, 2 UTF-16 units, 1 code point) and a family emoji joined by
    zero-width joiners: every part is within 10,000 counted as UTF-8 bytes, the strictest reading of Slack's
    'characters', which the sandbox checks; counted as Python's len() the grid would be packed four times fuller."""
    names = [f"{'🚀🌏👩‍👩‍👧' * 8}-{i:03d}" for i in range(150)]  # 60 code points (a cell's most), 212 bytes
    messages = grid_messages("copilot 2.0", card(names, metrics=19), "")
    blocks = list(tables(messages))  # each accepted by the sandbox
    sizes = [sum(len(c["text"].encode()) for row in b["rows"] for c in row) for b in blocks]
    assert max(sizes) <= MAX_TABLE_CHARS and len(blocks) > 2
    shown = [row[0]["text"] for b in blocks for row in b["rows"][1:]]
    assert len(shown) == 150 and all(s.startswith("🚀🌏👩‍👩‍👧") for s in shown)



def test_the_notification_text_escapes_the_review_label():
    """Regression: the grid's `text` (what Slack shows in pushes) embedded the label raw, so `<!channel> x` pinged."""
    messages = grid_messages("<!channel> x 1.0", card(["eu", "us"]), "")
    assert messages[0]["text"] == "Cohort scorecard for &lt;!channel&gt; x 1.0"
    assert "<!" not in str([m["text"] for m in messages])
