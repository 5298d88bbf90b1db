"""Scoring rules on plain inputs: points, bands and their edges, blockers, verdict order."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bot.core.checklist import Mark, Verdict, parse_checklist
from bot.core.scoring import MarkEntry, score

DUE = date(2027, 1, 15)
PLAIN = [f"s{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 17, 19, 21)]  # no blocker flag


def no() -> MarkEntry:
    return MarkEntry(mark=Mark.NO, evidence="https://evidence.example/1")


def gap(mark: Mark, owner: str | None = "U1") -> MarkEntry:
    return MarkEntry(mark=mark, owner=owner, due=DUE)


def all_no(checklist) -> dict[str, MarkEntry]:
    return {item_id: no() for item_id in checklist.item_ids}


def with_points(checklist, points: int) -> dict[str, MarkEntry]:
    """Every item marked; `points` spread over non-blocking items (Yes = 2, Partial = 1)."""
    marks = all_no(checklist)
    for item_id in PLAIN:
        if points >= 2:
            marks[item_id], points = gap(Mark.YES), points - 2
        elif points == 1:
            marks[item_id], points = gap(Mark.PARTIAL), 0
    assert points == 0
    return marks


@pytest.mark.parametrize(
    ("points", "band", "verdict"),
    [
        (0, "0-4", Verdict.GO), (4, "0-4", Verdict.GO),
        (5, "5-9", Verdict.NARROW), (9, "5-9", Verdict.NARROW),
        (10, "10-15", Verdict.HOLD), (15, "10-15", Verdict.HOLD),
        (16, "16+", Verdict.NO_GO), (30, "16+", Verdict.NO_GO),
    ],
)
def test_band_edges(checklist, points, band, verdict):
    card = score(checklist, with_points(checklist, points))
    assert (card.score, card.band, card.verdict) == (points, band, verdict)
    assert card.max_score == 42
    assert card.blockers == []


NO_BLOCK_ON_PARTIAL = [*PLAIN, "s10", "s15", "s20"]  # 18 items: Partial scores 1 and never blocks


def with_partials(checklist, points: int, unmarked: int = 0) -> dict[str, MarkEntry]:
    """`points` Partial marks (1 point each) on items that do not block on Partial; `unmarked` Nos removed."""
    marks = all_no(checklist)
    for item_id in NO_BLOCK_ON_PARTIAL[:points]:
        marks[item_id] = gap(Mark.PARTIAL)
    spare = [i for i in checklist.item_ids if marks[i].mark is Mark.NO]
    for item_id in spare[:unmarked]:
        del marks[item_id]
    return marks


@pytest.mark.parametrize(
    ("points", "band", "verdict"),
    [
        (1, "0-4", Verdict.GO), (4, "0-4", Verdict.GO), (5, "5-9", Verdict.NARROW),
        (9, "5-9", Verdict.NARROW), (10, "10-15", Verdict.HOLD), (15, "10-15", Verdict.HOLD),
        (16, "16+", Verdict.NO_GO), (18, "16+", Verdict.NO_GO),
    ],
)
def test_band_edges_reached_with_partial_marks(checklist, points, band, verdict):
    card = score(checklist, with_partials(checklist, points))
    assert (card.score, card.band, card.verdict, card.blockers) == (points, band, verdict, [])
    assert card.band_action == next(b.action for b in checklist.scoring.bands if b.label == band)


@pytest.mark.parametrize(("points", "verdict"), [(4, Verdict.INCOMPLETE), (15, Verdict.INCOMPLETE),
                                                 (16, Verdict.NO_GO), (17, Verdict.NO_GO)])
def test_a_provisional_score_is_no_go_from_16_and_incomplete_below(checklist, points, verdict):
    card = score(checklist, with_partials(checklist, points, unmarked=3))
    assert card.score == points and len(card.unmarked) == 3 and card.blockers == []
    assert card.verdict is verdict
    assert card.band == ("16+" if points >= 16 else "10-15" if points >= 10 else "0-4")


def test_a_provisional_score_follows_the_checklists_own_no_go_band(checklist_data):
    data = checklist_data
    data["scoring"]["bands"] = [
        {"label": "0-2", "min": 0, "max": 2, "verdict": "go", "action": "ship"},
        {"label": "3+", "min": 3, "verdict": "no-go", "action": "stop"},
    ]
    small = parse_checklist(data)
    assert score(small, {"s1": gap(Mark.YES)}).verdict is Verdict.INCOMPLETE  # 2 points, 21 unmarked
    card = score(small, {"s1": gap(Mark.YES), "s2": gap(Mark.PARTIAL)})
    assert (card.score, card.band, card.verdict) == (3, "3+", Verdict.NO_GO)


@pytest.mark.parametrize("item_id", ["s10", "s14", "s15", "s16", "s18", "s20", "data-boundary"])
def test_a_critical_yes_blocks_even_with_a_low_score(checklist, item_id):
    marks = all_no(checklist)
    marks[item_id] = gap(Mark.YES)
    card = score(checklist, marks)
    assert card.blockers == [item_id]
    assert card.verdict is Verdict.NO_GO


@pytest.mark.parametrize("item_id", ["s14", "s16", "s18", "data-boundary"])
def test_override_items_block_already_on_partial(checklist, item_id):
    marks = all_no(checklist)
    marks[item_id] = gap(Mark.PARTIAL)
    card = score(checklist, marks)
    assert card.blockers == [item_id]
    assert card.verdict is Verdict.NO_GO


@pytest.mark.parametrize("item_id", ["s10", "s15", "s20"])
def test_critical_items_outside_the_override_do_not_block_on_partial(checklist, item_id):
    marks = all_no(checklist)
    marks[item_id] = gap(Mark.PARTIAL)
    card = score(checklist, marks)
    assert card.blockers == []
    assert card.verdict is Verdict.GO


def test_the_gate_scores_no_points(checklist):
    marks = all_no(checklist)
    marks["data-boundary"] = gap(Mark.YES)
    assert score(checklist, marks).score == 0


def test_blockers_come_in_checklist_order(checklist):
    marks = all_no(checklist)
    for item_id in ("data-boundary", "s18", "s10"):
        marks[item_id] = gap(Mark.YES)
    assert score(checklist, marks).blockers == ["s10", "s18", "data-boundary"]


def test_unmarked_items_make_the_verdict_incomplete(checklist):
    marks = all_no(checklist)
    del marks["s3"], marks["s21"]
    card = score(checklist, marks)
    assert card.verdict is Verdict.INCOMPLETE
    assert card.unmarked == ["s3", "s21"]
    assert (card.marked, card.total) == (20, 22)


def test_blocker_beats_incomplete(checklist):
    card = score(checklist, {"s16": gap(Mark.PARTIAL)})
    assert card.verdict is Verdict.NO_GO


def test_a_provisional_score_in_the_top_band_is_already_no_go(checklist):
    marks = {item_id: gap(Mark.YES) for item_id in PLAIN[:8]}  # 16 points, 14 items unmarked
    card = score(checklist, marks)
    assert card.score == 16 and card.unmarked
    assert card.verdict is Verdict.NO_GO
    assert card.blockers == []


def test_empty_assessment_is_incomplete(checklist):
    card = score(checklist, {})
    assert (card.score, card.verdict, len(card.unmarked)) == (0, Verdict.INCOMPLETE, 22)


def test_unowned_gaps_and_unevidenced_nos_are_listed(checklist):
    marks = all_no(checklist)
    marks["s2"] = gap(Mark.PARTIAL, owner=None)
    marks["s5"] = gap(Mark.YES, owner="  ")
    marks["s7"] = MarkEntry(mark=Mark.NO)
    card = score(checklist, marks)
    assert card.unowned_gaps == ["s2", "s5"]
    assert card.unevidenced == ["s7"]


def test_waived_blockers_do_not_force_no_go(checklist):
    marks = all_no(checklist)
    marks["s18"] = gap(Mark.PARTIAL)
    card = score(checklist, marks, waived={"s18"})
    assert card.blockers == [] and card.waived_blockers == ["s18"]
    assert card.verdict is Verdict.GO


def test_unknown_item_is_an_error(checklist):
    with pytest.raises(KeyError):
        score(checklist, {"s99": no()})


def test_section_scores_add_up(checklist):
    card = score(checklist, with_points(checklist, 11))
    assert sum(s.score for s in card.sections) == card.score == 11
    assert sum(s.max_score for s in card.sections) == 42


def test_summary_has_exactly_the_documented_keys(checklist):
    assert set(score(checklist, {}).summary()) == {
        "score", "max_score", "band", "verdict", "blockers", "unmarked", "unowned_gaps", "unevidenced",
    }


ORDER = [Mark.NO, Mark.PARTIAL, Mark.YES]
marks_strategy = st.dictionaries(
    st.sampled_from([f"s{n}" for n in range(1, 22)] + ["data-boundary"]),
    st.sampled_from(ORDER),
)


def _entries(raw: dict[str, Mark]) -> dict[str, MarkEntry]:
    return {k: (no() if m is Mark.NO else gap(m)) for k, m in raw.items()}


@settings(max_examples=300, deadline=None)
@given(raw=marks_strategy, data=st.data())
def test_score_never_falls_when_a_mark_gets_worse(checklist, raw, data):
    if not raw:
        return
    item_id = data.draw(st.sampled_from(sorted(raw)))
    current = raw[item_id]
    worse_choices = ORDER[ORDER.index(current) + 1 :]
    if not worse_choices:
        return
    worse = dict(raw)
    worse[item_id] = data.draw(st.sampled_from(worse_choices))
    before, after = score(checklist, _entries(raw)), score(checklist, _entries(worse))
    assert after.score >= before.score
    assert len(after.blockers) >= len(before.blockers)


ITEM_IDS = [f"s{n}" for n in range(1, 22)] + ["data-boundary"]
CAN_BLOCK = ["s10", "s14", "s15", "s16", "s18", "s20", "data-boundary"]
# A complete assessment (every item No, with evidence) with a subset varied: a number of plain items
# marked Partial or Yes (so every band comes up), a few of the items that can block, and a few items
# left unmarked. Complete assessments without a blocker stay common, so go, narrow and hold are reached.
_marks = st.sampled_from([Mark.PARTIAL, Mark.YES])
changes_strategy = st.tuples(
    st.integers(0, len(PLAIN)).flatmap(
        lambda k: st.dictionaries(st.sampled_from(PLAIN), _marks, min_size=k, max_size=k)
    ),
    st.dictionaries(st.sampled_from(CAN_BLOCK), _marks, max_size=3),
    st.sets(st.sampled_from(ITEM_IDS), max_size=2).map(sorted),
).map(lambda t: (t[0] | t[1], t[2]))


def _changed(checklist, changes: dict[str, Mark], unmarked: list[str]) -> dict[str, MarkEntry]:
    marks = all_no(checklist)
    for item_id, mark in changes.items():
        marks[item_id] = gap(mark)
    for item_id in unmarked:
        del marks[item_id]
    return marks


def test_verdict_is_never_go_with_a_blocker(checklist):
    reached: set[Verdict] = set()

    @settings(max_examples=300, deadline=None)
    @given(drawn=changes_strategy)
    def check(drawn):
        changes, unmarked = drawn
        card = score(checklist, _changed(checklist, changes, unmarked))
        event(f"verdict {card.verdict.value}")
        reached.add(card.verdict)
        expected_blockers = [
            i for i in ITEM_IDS if i in changes and i not in unmarked and changes[i] in checklist.blocks_on(checklist.item(i))
        ]
        assert card.blockers == expected_blockers
        if card.blockers:
            assert card.verdict is Verdict.NO_GO
        if card.verdict in (Verdict.GO, Verdict.NARROW, Verdict.HOLD):
            assert not card.blockers and not card.unmarked
            low, high = {Verdict.GO: (0, 4), Verdict.NARROW: (5, 9), Verdict.HOLD: (10, 15)}[card.verdict]
            assert low <= card.score <= high
        if card.verdict is Verdict.INCOMPLETE:
            assert card.unmarked and not card.blockers and card.score <= 15
        if card.verdict is Verdict.NO_GO:
            assert card.blockers or card.score >= 16
        assert card.band == ("0-4" if card.score <= 4 else "5-9" if card.score <= 9 else "10-15" if card.score <= 15
                             else "16+")

    check()
    assert reached == set(Verdict), f"the strategy reached only {sorted(v.value for v in reached)}"


def test_an_unmarked_item_is_never_a_blocker(checklist):
    from bot.core.scoring import is_blocker

    assert [i for i in checklist.item_ids if is_blocker(checklist, i, None)] == []
    assert is_blocker(checklist, "s16", Mark.PARTIAL) and not is_blocker(checklist, "s10", Mark.PARTIAL)


def test_unknown_item_ids_are_named(checklist):
    with pytest.raises(KeyError) as info:
        score(checklist, {"s99": no(), "s98": no(), "s1": no()})
    assert info.value.args == ("unknown item id(s): s98, s99",)
