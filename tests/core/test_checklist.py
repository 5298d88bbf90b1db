"""The checklist file: the shipped one, and the validation of a team's own."""

from __future__ import annotations

import copy
from datetime import date
from importlib import resources
from typing import Any

import pytest

from bot.core.checklist import (
    DEFAULT_CHECKLIST,
    ChecklistError,
    Mark,
    Verdict,
    checklist_from_text,
    checklist_json_schema,
    load_checklist,
    parse_checklist,
)
from bot.core.scoring import MarkEntry, score

EXPECTED_IDS = [f"s{n}" for n in range(1, 22)] + ["data-boundary"]


def test_shipped_checklist_has_the_21_signals_and_the_gate_in_order(checklist):
    assert list(checklist.item_ids) == EXPECTED_IDS
    assert [s.id for s in checklist.sections] == [
        "outcome", "grounding", "serving", "release", "observability", "data-boundary",
    ]
    assert [len(s.items) for s in checklist.sections] == [4, 5, 4, 4, 4, 1]
    assert checklist.max_score == 42


def test_shipped_flags_match_the_blocker_rules(checklist):
    critical = {i.id for i in checklist.items if "critical" in i.flags}
    override = {i.id for i in checklist.items if "override" in i.flags}
    assert critical == {"s10", "s14", "s15", "s16", "s18", "s20", "data-boundary"}
    assert override == {"s14", "s16", "s18", "data-boundary"}
    assert {i.id: i.category for i in checklist.items if i.category} == {
        "s14": "release-gating", "s16": "rollback-readiness",
        "s18": "traceability", "data-boundary": "data-boundary",
    }
    gate = checklist.item("data-boundary")
    assert checklist.points_for(gate, Mark.YES) == 0
    assert checklist.blocks_on(checklist.item("s10")) == {Mark.YES}
    assert checklist.blocks_on(checklist.item("s16")) == {Mark.PARTIAL, Mark.YES}


def test_shipped_checklist_is_plain_ascii():
    # Read as UTF-8; being ASCII it also reads the same under any locale's default encoding.
    raw = resources.files("bot.checklists").joinpath(DEFAULT_CHECKLIST).read_bytes()
    assert raw.isascii()


def test_bands_and_points_come_from_the_file(checklist):
    assert [(b.label, b.min, b.max, b.verdict) for b in checklist.scoring.bands] == [
        ("0-4", 0, 4, Verdict.GO), ("5-9", 5, 9, Verdict.NARROW),
        ("10-15", 10, 15, Verdict.HOLD), ("16+", 16, None, Verdict.NO_GO),
    ]
    assert checklist.scoring.points == {Mark.NO: 0, Mark.PARTIAL: 1, Mark.YES: 2}


def test_every_item_and_section_has_texts_that_are_not_blank(checklist):
    # The model only requires non-empty strings; a title of spaces would pass it and show as nothing.
    blank = [
        f"{item.id}.{field}" for item in checklist.items
        for field in ("title", "question", "evidence") if not getattr(item, field).strip()
    ]
    blank += [f"{section.id}.title" for section in checklist.sections if not section.title.strip()]
    blank += [f"mark {mark}.{field}" for mark, text in checklist.marks.items()
              for field in ("label", "meaning", "action") if not getattr(text, field).strip()]
    blank += [f"band {band.label}.action" for band in checklist.scoring.bands if not band.action.strip()]
    assert blank == []


def _expect_error(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ChecklistError) as info:
        parse_checklist(data, "team.yaml")
    message = str(info.value)
    assert message.startswith("team.yaml: ")
    assert fragment in message
    assert "\n" not in message


def test_duplicate_item_ids_are_refused(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["sections"][1]["items"][0]["id"] = "s1"
    _expect_error(data, "duplicate item id 's1'")


def test_unknown_flag_is_refused(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["sections"][0]["items"][0]["flags"] = ["critcal"]
    _expect_error(data, "unknown flag(s) critcal")


def test_unknown_category_is_refused(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["sections"][0]["items"][0]["category"] = "nowhere"
    _expect_error(data, "unknown category")


def test_bands_must_be_contiguous(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][1]["min"] = 6
    _expect_error(data, "contiguous")


def test_bands_must_start_at_zero(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][0]["min"] = 1
    _expect_error(data, "start at 0")


def test_bands_must_reach_the_maximum_score(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][-1]["max"] = 30
    _expect_error(data, "below the maximum score 42")


def test_open_band_must_be_last(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][1]["max"] = None
    _expect_error(data, "open-ended")


def test_points_for_every_mark(checklist_data):
    data = copy.deepcopy(checklist_data)
    del data["scoring"]["points"]["partial"]
    _expect_error(data, "points missing for mark(s): partial")


def test_unknown_field_is_refused(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["sections"][0]["items"][0]["titel"] = "typo"
    _expect_error(data, "titel")


def test_a_smaller_team_checklist_is_accepted_and_scored_to_its_own_max(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["sections"] = data["sections"][:1]
    data["scoring"]["bands"] = [
        {"label": "0-2", "min": 0, "max": 2, "verdict": "go", "action": "ship"},
        {"label": "3+", "min": 3, "verdict": "hold", "action": "fix"},
    ]
    checklist = parse_checklist(data)
    assert checklist.item_ids == ("s1", "s2", "s3", "s4")
    assert checklist.max_score == 8

    def card(**marks: str):
        entries = {
            item_id: MarkEntry(mark=Mark(mark), evidence="proof", owner="U1", due=date(2027, 1, 15))
            for item_id, mark in marks.items()
        }
        return score(checklist, entries)

    assert [(b.label, b.min, b.max) for b in checklist.scoring.bands] == [("0-2", 0, 2), ("3+", 3, None)]
    on_the_edge = card(s1="yes", s2="no", s3="no", s4="no")
    assert (on_the_edge.score, on_the_edge.max_score, on_the_edge.band, on_the_edge.verdict) == (2, 8, "0-2", Verdict.GO)
    assert on_the_edge.band_action == "ship"
    over = card(s1="yes", s2="partial", s3="no", s4="no")
    assert (over.score, over.max_score, over.band, over.band_action, over.verdict) == (3, 8, "3+", "fix", Verdict.HOLD)
    worst = card(s1="yes", s2="yes", s3="yes", s4="yes")
    assert (worst.score, worst.band, worst.verdict, worst.total) == (8, "3+", Verdict.HOLD, 4)
    assert [(s.id, s.score, s.max_score) for s in worst.sections] == [("outcome", 8, 8)]
    assert card(s1="no").verdict is Verdict.INCOMPLETE and card(s1="no").unmarked == ["s2", "s3", "s4"]


def test_content_hash_ignores_layout_but_not_content(checklist, checklist_data):
    import yaml

    relaid = checklist_from_text(yaml.safe_dump(checklist_data, sort_keys=True))
    assert relaid.content_hash == checklist.content_hash
    changed = copy.deepcopy(checklist_data)
    changed["sections"][0]["items"][0]["title"] = "Another title"
    assert parse_checklist(changed).content_hash != checklist.content_hash


def test_yaml_error_names_the_line():
    with pytest.raises(ChecklistError, match=r"x.yaml: not valid YAML at line 2"):
        checklist_from_text("id: a\n  : : [\n", "x.yaml")


def test_json_schema_describes_the_format():
    schema = checklist_json_schema()
    assert "sections" in schema["properties"]
    assert "Item" in schema["$defs"]


def test_band_errors_read_in_full(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][0]["min"] = 1
    with pytest.raises(ChecklistError, match=r"^team\.yaml: scoring\.bands: the first band must start at 0$"):
        parse_checklist(data, "team.yaml")
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][-1]["max"] = 41
    with pytest.raises(ChecklistError, match=r"^<checklist>: scoring\.bands: the last band ends at 41, below the "
                                             r"maximum score 42$"):
        parse_checklist(data)


def test_a_closed_last_band_may_end_exactly_at_the_maximum(checklist_data):
    data = copy.deepcopy(checklist_data)
    data["scoring"]["bands"][-1]["max"] = 42
    closed = parse_checklist(data)
    assert closed.band_for(42).label == "16+" and closed.band_for(16).label == "16+"
    # a score past every band (not one `score` can reach) falls in the last band
    assert closed.band_for(43).label == "16+"
    assert closed.band_for(0).label == "0-4" and closed.band_for(5).label == "5-9"


def test_an_unknown_item_is_a_key_error_naming_it(checklist):
    with pytest.raises(KeyError) as info:
        checklist.item("s99")
    assert info.value.args == ("s99",)
    assert checklist.item("s14").title == checklist.items[13].title


def test_errors_name_the_source_and_default_to_checklist(checklist_data):
    with pytest.raises(ChecklistError, match=r"^x\.yaml: expected a mapping at the top level$"):
        parse_checklist([checklist_data], "x.yaml")
    with pytest.raises(ChecklistError, match=r"^<checklist>: expected a mapping at the top level$"):
        parse_checklist("id: a")
    with pytest.raises(ChecklistError, match=r"^<checklist>: version: Field required$"):
        checklist_from_text("id: a\n")
    with pytest.raises(ChecklistError, match=r"^team\.yaml: version: Field required$"):
        checklist_from_text("id: a\n", "team.yaml")


def test_a_team_checklist_file_is_loaded_and_its_problems_name_the_file(tmp_path, checklist, checklist_data):
    import yaml

    good = tmp_path / "team.yaml"
    good.write_text(yaml.safe_dump(checklist_data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    loaded = load_checklist(good)
    assert loaded.content_hash == checklist.content_hash and loaded.item_ids == checklist.item_ids
    assert load_checklist(str(good)).content_hash == checklist.content_hash
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: a\n", encoding="utf-8")
    with pytest.raises(ChecklistError, match=rf"^{broken}: version: Field required$"):
        load_checklist(broken)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ChecklistError, match=rf"^{missing}: cannot read file"):
        load_checklist(missing)
    large = tmp_path / "large.yaml"  # a checklist is about 10 KB: YAML past 2 MB is refused before parsing
    large.write_text("id: a\n" + "# padding\n" * 300_000, encoding="utf-8")
    with pytest.raises(ChecklistError, match=rf"^{large}: larger than 2 MB; nothing was read past that$"):
        load_checklist(large)
