"""The grid picture: SVG that parses and stays inert, PNG that decodes to the outcome colours."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib

import pytest

from bot.core.evidence.evidence_set import evidence_from_data
from bot.core.evidence.judge import Outcome, judge
from bot.core.evidence.picture import (
    COLOURS,
    EMPTY,
    FONT,
    MAX_COHORTS,
    MAX_METRICS,
    encode_png,
    grid_png,
    grid_svg,
)
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


def read_png(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour_type, interlace) == (8, 2, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * 3 + 1
    assert len(raw) == stride * height
    assert all(raw[row * stride] == 0 for row in range(height))  # filter type 0
    pixels = b"".join(raw[row * stride + 1 : (row + 1) * stride] for row in range(height))
    return width, height, pixels


def colours_in(pixels: bytes) -> set[tuple[int, int, int]]:
    return {tuple(pixels[i : i + 3]) for i in range(0, len(pixels), 3)}


def test_png_decodes_and_shows_every_outcome_colour():
    card = card_with_every_outcome()
    width, height, pixels = read_png(grid_png(card, scale=1))
    assert 200 < width < 1000 and 100 < height < 600
    found = colours_in(pixels)
    assert {COLOURS[o] for o in Outcome} <= found
    assert EMPTY in found
    big_width, big_height, _ = read_png(grid_png(card, scale=2))
    assert (big_width, big_height) == (2 * width, 2 * height)


def test_encoder_round_trips_a_tiny_image():
    rgb = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    assert read_png(encode_png(2, 2, rgb)) == (2, 2, rgb)
    with pytest.raises(ValueError):
        encode_png(2, 2, rgb[:-1])


def test_font_covers_letters_digits_and_label_punctuation():
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-_=:+%/()[]<>?!":
        assert len(FONT[char]) == 7 and all(0 <= row < 32 for row in FONT[char])
    assert len(set(FONT[c] for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")) == 36


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
    width, height, _ = read_png(grid_png(card, scale=1))
    assert width < 2000 and height < 1200


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
