"""The grid picture: SVG that parses, stays inert, and shows any script (its labels are measured in columns)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.core.evidence.evidence_set import evidence_from_data
from bot.core.evidence.judge import Outcome, judge
from bot.core.evidence.picture import COLOURS, MAX_COHORTS, MAX_METRICS, clip, columns, grid_svg
from bot.core.evidence.policy import policy_from_data

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"


def card_with_every_outcome():
    policy = policy_from_data(
        {
            "id": "p",
            "version": "1",
            "min_sample": 30,
            "rules": [
                {"metric": "task_success_rate", "floor": 0.8, "max_regression": {"absolute": 0.0}},
                {"metric": "latency_p95_end_to_end", "ceiling": 3000},
            ],
        }
    )
    rows = [
        ("pass", 0.95, 1000, 0.95),
        ("fail", 0.5, 1000, 0.5),
        ("regressed", 0.85, 1000, 0.95),
        ("thin", 1.0, 5, 1.0),
        (EVIL, 0.95, 1000, 0.95),
    ]
    candidate = [{"cohort": c, "metric": "task_success_rate", "value": v, "n": n} for c, v, n, _ in rows]
    candidate.append({"cohort": "pass", "metric": "latency_p95_end_to_end", "value": 1200, "n": 1000})
    baseline = [{"cohort": c, "metric": "task_success_rate", "value": b, "n": 1000} for c, _, _, b in rows]
    return judge(
        policy,
        evidence_from_data({"system": "s", "version": "2", "rows": candidate}),
        evidence_from_data({"system": "s", "version": "1", "rows": baseline}),
    )


def test_the_fixture_has_every_outcome():
    card = card_with_every_outcome()
    assert all(n > 0 for n in card.counts().values())


def test_svg_parses_with_one_rect_per_cell_and_inert_labels():
    card = card_with_every_outcome()
    text = grid_svg(card)
    root = ET.fromstring(text)
    cells = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "cell"]
    assert len(cells) == len(card.cells)
    assert {r.get("data-outcome") for r in cells} == {o.value for o in Outcome}
    assert {r.get("fill") for r in cells} == {"#{:02x}{:02x}{:02x}".format(*COLOURS[o]) for o in Outcome}
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "empty"]) == 4  # 5 x 2 grid, 6 cells
    assert not list(root.iter(f"{SVG}script")) and "<script>" not in text
    assert "&lt;script&gt;" in text
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert EVIL in labels  # the label reads as text, not markup
    assert any(t.text == "not enough evidence" for t in root.iter(f"{SVG}text"))


def test_large_grids_are_capped_and_say_how_much_is_left_out():
    policy = policy_from_data(
        {
            "id": "p",
            "version": "1",
            "min_sample": 1,
            "metrics": {f"m{j}": {"unit": "points", "direction": "higher"} for j in range(MAX_METRICS + 3)},
            "rules": [{"metric": f"m{j}", "floor": 0} for j in range(MAX_METRICS + 3)],
        }
    )
    rows = [
        {"cohort": f"c{i:03d}", "metric": f"m{j}", "value": 1, "n": 1}
        for i in range(MAX_COHORTS + 2)
        for j in range(MAX_METRICS + 3)
    ]
    declared = {f"m{j}": {"unit": "points", "direction": "higher"} for j in range(MAX_METRICS + 3)}
    card = judge(
        policy, evidence_from_data({"system": "s", "version": "1", "metrics": declared, "rows": rows})
    )
    root = ET.fromstring(grid_svg(card))
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "cell"]) == MAX_COHORTS * MAX_METRICS
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "+2 more cohorts" in texts and "+3 more metrics" in texts


def test_when_cohorts_are_left_out_the_failing_ones_stay_in_the_picture():
    policy = policy_from_data(
        {"id": "p", "version": "1", "min_sample": 1, "rules": [{"metric": "task_success_rate", "floor": 0.5}]}
    )
    rows = [
        {"cohort": f"c{i:03d}", "metric": "task_success_rate", "value": 0.1 if i >= MAX_COHORTS else 0.9, "n": 10}
        for i in range(MAX_COHORTS + 5)
    ]
    card = judge(policy, evidence_from_data({"system": "s", "version": "1", "rows": rows}))
    root = ET.fromstring(grid_svg(card))
    shown = [t.text for t in root.iter(f"{SVG}text")]
    assert all(f"c{i:03d}" in shown for i in range(MAX_COHORTS, MAX_COHORTS + 5))  # the five failures
    assert "c000" in shown and f"c{MAX_COHORTS - 1:03d}" not in shown and "+5 more cohorts" in shown
    failed = [r for r in root.iter(f"{SVG}rect") if r.get("data-outcome") == Outcome.FAIL.value]
    assert len(failed) == 5


def test_non_ascii_cohort_names_show_whole_and_get_room_for_their_width():
    policy = policy_from_data({"id": "p", "version": "1", "min_sample": 1,
                               "rules": [{"metric": "task_success_rate", "floor": 0.5}]})
    names = ["日本-サポート", "Zürich", "ascii"]
    rows = [{"cohort": c, "metric": "task_success_rate", "value": 0.9, "n": 10} for c in names]
    card = judge(policy, evidence_from_data({"system": "s", "version": "1", "rows": rows}))
    text = grid_svg(card)
    root = ET.fromstring(text)
    labels = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert sorted(t.text for t in labels) == sorted(names)  # the names themselves, not "?" or entities
    assert "日本-サポート" in text and "Zürich" in text
    assert columns("日本-サポート") == 13 and columns("Zürich") == 6 and columns("e\u0301") == 1
    left = int(labels[0].get("x")) + 6
    assert left >= 12 + 7 * 13  # room for 13 columns, where len() would have made room for 7
    assert clip("日" * 40) == "日" * 15 + ".." and columns(clip("日" * 40)) <= 32
