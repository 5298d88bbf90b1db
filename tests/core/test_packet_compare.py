"""Pure packet builders: the versioned comparison, item statuses, the gate policy, Markdown escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.checklist import Checklist, Mark, Verdict
from bot.core.packet import checklist_rows, compare, gate_policy, item_status, person
from bot.core.packet.chart import section_chart
from bot.core.packet.model import ItemState, Trend, Waiver
from bot.core.packet.render import md_block, md_inline, md_line, md_link, safe_href
from bot.core.scoring import MarkEntry

TODAY = date(2026, 12, 14)


def all_no(checklist: Checklist) -> dict[str, MarkEntry]:
    return {i: MarkEntry(mark=Mark.NO, evidence="e") for i in checklist.item_ids}


def test_without_baseline_only_the_candidate_is_scored(checklist: Checklist) -> None:
    card = compare(checklist, all_no(checklist), None, None)
    assert card.baseline is None and card.checklist_diff is None
    assert card.score_trend is Trend.NEW
    assert {s.trend for s in card.sections} == {Trend.NEW} and all(s.baseline is None for s in card.sections)
    assert [i.id for i in card.items] == list(checklist.item_ids)
    svg = section_chart(card.sections, candidate_label="1.0")
    assert svg.count('data-series="candidate"') == len(checklist.sections)
    assert 'data-series="baseline"' not in svg and "Baseline" not in svg


def test_same_checklist_baseline_reports_better_and_worse(checklist: Checklist) -> None:
    before = all_no(checklist) | {
        "s1": MarkEntry(mark=Mark.YES, owner="U1"),
        "s2": MarkEntry(mark=Mark.PARTIAL),
    }
    after = all_no(checklist) | {"s2": MarkEntry(mark=Mark.YES, owner="U1")}
    del after["s3"]
    card = compare(checklist, after, None, before)  # the baseline falls back to the candidate's checklist
    assert card.baseline is not None and card.baseline.score == 3 and card.candidate.score == 2
    assert card.score_trend is Trend.BETTER
    assert card.improved == ("s1",) and card.regressed == ("s2",)
    assert {i.id: i.trend for i in card.items}["s3"] is Trend.UNMARKED
    assert card.candidate.verdict is Verdict.INCOMPLETE
    assert card.checklist_diff is not None and card.checklist_diff.same_content
    assert not (card.checklist_diff.added or card.checklist_diff.removed or card.checklist_diff.changed)


def test_waivers_apply_per_side(checklist: Checklist) -> None:
    marks = all_no(checklist) | {"s10": MarkEntry(mark=Mark.YES, owner="U1")}
    card = compare(checklist, marks, checklist, marks, waived={"s10"})
    assert card.candidate.waived_blockers == ["s10"] and card.candidate.blockers == []
    assert card.baseline is not None and card.baseline.blockers == ["s10"]
    assert card.baseline.verdict is Verdict.NO_GO and card.candidate.verdict is Verdict.GO


def test_unknown_baseline_item_raises(checklist: Checklist) -> None:
    with pytest.raises(KeyError):
        compare(checklist, {}, checklist, {"nope": MarkEntry(mark=Mark.NO)})


@pytest.mark.parametrize(
    "mark, due, waived, expected",
    [
        (None, None, False, ItemState.UNMARKED),
        (None, date(2026, 1, 1), True, ItemState.UNMARKED),
        (Mark.NO, date(2026, 1, 1), False, ItemState.CLOSED),
        (Mark.PARTIAL, None, False, ItemState.OPEN),
        (Mark.YES, TODAY, False, ItemState.OPEN),
        (Mark.YES, date(2026, 12, 13), False, ItemState.OVERDUE),
        (Mark.YES, date(2026, 12, 13), True, ItemState.WAIVED),
    ],
)
def test_item_status(mark: Mark | None, due: date | None, waived: bool, expected: ItemState) -> None:
    assert item_status(mark, due, TODAY, waived=waived) is expected


def test_checklist_rows_show_waivers_only_on_blockers(checklist: Checklist) -> None:
    until = datetime(2026, 12, 20, tzinfo=UTC)
    waivers = {
        i: Waiver(item_id=i, granted_by=person("U0LEAD01", {"U0LEAD01": "Lead"}), expires_at=until)
        for i in ("s10", "s1")
    }
    marks = {"s10": MarkEntry(mark=Mark.YES, owner="U0SAM001"), "s1": MarkEntry(mark=Mark.YES, owner="dana")}
    rows = {r.id: r for r in checklist_rows(checklist, marks, today=TODAY, waivers=waivers)}
    assert rows["s10"].status is ItemState.WAIVED and rows["s10"].waiver is not None and rows["s10"].blocker
    assert rows["s10"].waiver.granted_by.display == "Lead"
    assert rows["s1"].status is ItemState.OPEN and rows["s1"].waiver is None and not rows["s1"].blocker
    assert rows["s10"].owner is not None and rows["s10"].owner.display == "U0SAM001"  # an unknown id, as it is
    assert rows["s1"].owner is not None and rows["s1"].owner.display == "dana"
    assert rows["s2"].status is ItemState.UNMARKED and rows["s2"].owner is None
    assert list(rows) == list(checklist.item_ids)


def test_gate_policy_lists_bands_flags_and_categories(checklist: Checklist) -> None:
    policy = gate_policy(checklist)
    assert [b.verdict for b in policy.bands] == [Verdict.GO, Verdict.NARROW, Verdict.HOLD, Verdict.NO_GO]
    flags = {f.name: f for f in policy.flags}
    assert flags["override"].blocks_on == (Mark.PARTIAL, Mark.YES)
    assert flags["override"].items == ("s14", "s16", "s18", "data-boundary")
    assert not flags["gate"].scores
    assert {c.id: c.items for c in policy.categories}["rollback-readiness"] == ("s16",)


def test_markdown_escaping() -> None:
    assert md_inline("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    assert (
        md_inline("a|b\nc *d* _e_ `f` [g] #h ~i~ \\")
        == "a\\|b c \\*d\\* \\_e\\_ \\`f\\` \\[g\\] \\#h \\~i\\~ \\\\"
    )
    assert md_inline("2.4.0 +0.02") == "2.4.0 +0.02"
    assert md_line("- item") == "\\- item" and md_line("3. step") == "3\\. step" and md_line("2.4") == "2.4"
    assert md_block("# Title\n\n===\n1) one\x00") == "\\# Title\n\n\\===\n\n1\\) one"


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://traces.example.com/t/1", True),
        ("HTTP://traces.example.com/t/1", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//traces.example.com/t/1", False),
        ("https:///nohost", False),
        ("https://a.example.com/x y", False),
        ("https://a.example.com/\\evil", False),
        ("ftp://a.example.com/f", False),
    ],
)
def test_safe_href(url: str, ok: bool) -> None:
    assert (safe_href(url) is not None) is ok


def test_markdown_link_encodes_breaking_characters() -> None:
    link = md_link("https://t.example.com/a_(b)|c?x=1&y=<2>", "see [this]")
    assert link == "[see \\[this\\]](https://t.example.com/a_%28b%29%7Cc?x=1&amp;y=%3C2%3E)"
    assert md_link("javascript:alert(1)", "x").startswith("x (link not shown")


def test_chart_escapes_titles(checklist: Checklist) -> None:
    card = compare(checklist, all_no(checklist), None, None)
    evil = card.sections[0].model_copy(update={"title": '<script>"x"</script>'})
    svg = section_chart((evil,), candidate_label="<b>", baseline_label=None)
    assert "<script" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg

