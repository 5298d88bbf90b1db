"""The cohort-by-metric grid as a picture: a self-contained inline SVG (the packet shows it).

Pure core: standard library only. Labels are text, so any script shows as the viewer's fonts draw it; their
room is measured in columns, where a wide (East Asian) character takes two.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from bot.core.evidence.judge import Cell, CohortScorecard, Outcome
from bot.core.evidence.metrics import Kind
from bot.core.markup import escape, quoteattr

MAX_COHORTS = 60
MAX_METRICS = 30
MAX_LABEL = 32

Colour = tuple[int, int, int]
COLOURS: dict[Outcome, Colour] = {
    Outcome.PASS: (31, 136, 61),
    Outcome.REGRESSION: (212, 114, 14),
    Outcome.FAIL: (207, 34, 46),
    Outcome.NOT_ENOUGH: (110, 119, 129),
}
EMPTY: Colour = (234, 238, 242)
INK: Colour = (36, 41, 47)
LEGEND = (
    (Outcome.PASS, "pass"),
    (Outcome.REGRESSION, "regression"),
    (Outcome.FAIL, "fail"),
    (Outcome.NOT_ENOUGH, "not enough evidence"),
)

def short_value(cell: Cell) -> str:
    """A cell's value in at most seven characters: rates in percent, latencies in their unit."""
    if cell.kind is Kind.RATE:
        text = f"{cell.candidate * 100:.1f}%"
    elif cell.kind is Kind.LATENCY:
        text = f"{cell.candidate:.0f}{cell.unit}" if cell.candidate < 10_000 else f"{cell.candidate:.3g}"
    else:
        text = f"{cell.candidate:.4g}"
    return text[:7]


def columns(text: str) -> int:
    """How many columns a label takes: two for a wide or full-width character, none for a combining mark."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def clip(text: str, limit: int = MAX_LABEL) -> str:
    """At most ``limit`` columns, with ".." when something was cut."""
    if columns(text) <= limit:
        return text
    out = ""
    for ch in text:
        if columns(out + ch) > limit - 2:
            break
        out += ch
    return out + ".."


_RANK = {Outcome.FAIL: 0, Outcome.REGRESSION: 0, Outcome.NOT_ENOUGH: 1, Outcome.PASS: 2}


def _worst_first(
    scorecard: CohortScorecard, names: tuple[str, ...], key: Callable[[Cell], str], limit: int
) -> tuple[str, ...]:
    """At most ``limit`` names, in their order; when some must be left out, those with failures stay."""
    if len(names) <= limit:
        return names
    rank: dict[str, int] = {}
    for cell in scorecard.cells:
        name = key(cell)
        rank[name] = min(rank.get(name, 2), _RANK[cell.outcome])
    kept = set(sorted(names, key=lambda n: (rank.get(n, 2), n))[:limit])
    return tuple(n for n in names if n in kept)


class _Layout:
    """Which cohorts and metrics are shown, and what was left out."""

    def __init__(self, scorecard: CohortScorecard) -> None:
        cohorts, metrics = scorecard.cohorts, scorecard.metrics
        self.cohorts = _worst_first(scorecard, cohorts, lambda c: c.cohort, MAX_COHORTS)
        self.metrics = _worst_first(scorecard, metrics, lambda c: c.metric, MAX_METRICS)
        self.cells = {(c.cohort, c.metric): c for c in scorecard.cells}
        self.more = [
            f"+{k} more {what}"
            for k, what in (
                (len(cohorts) - len(self.cohorts), "cohorts"),
                (len(metrics) - len(self.metrics), "metrics"),
            )
            if k > 0
        ]
        baseline = f" vs {scorecard.baseline_version}" if scorecard.baseline_version else ""
        self.title = clip(
            f"{scorecard.system} {scorecard.version}{baseline}, policy {scorecard.policy_id}", 80
        )

    def cell(self, cohort: str, metric: str) -> Cell | None:
        return self.cells.get((cohort, metric))


# SVG ------------------------------------------------------------------------

_SVG_CELL_W, _SVG_CELL_H, _SVG_CHAR = 62, 20, 7


def _hex(colour: Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def grid_svg(scorecard: CohortScorecard) -> str:
    """A self-contained SVG of the grid; each cell carries its rule text as a tooltip."""
    lay = _Layout(scorecard)
    left = 12 + _SVG_CHAR * max([columns(clip(c)) for c in lay.cohorts] + [6])
    slant = int(0.75 * _SVG_CHAR * max([columns(clip(m)) for m in lay.metrics] + [6]))
    top = 40 + slant
    width = max(left + _SVG_CELL_W * len(lay.metrics) + slant, 420)
    bottom = top + _SVG_CELL_H * len(lay.cohorts)
    height = bottom + 24 * (len(lay.more) + 2)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="18" font-size="13" fill="{_hex(INK)}">{escape(lay.title)}</text>',
    ]
    for j, metric in enumerate(lay.metrics):
        x, y = left + j * _SVG_CELL_W + _SVG_CELL_W // 2, top - 6
        out.append(
            f'<text x="{x}" y="{y}" transform="rotate(-45 {x} {y})" fill="{_hex(INK)}">'
            f"{escape(clip(metric))}</text>"
        )
    for i, cohort in enumerate(lay.cohorts):
        y = top + i * _SVG_CELL_H
        out.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" fill="{_hex(INK)}">'
            f"{escape(clip(cohort))}</text>"
        )
        for j, metric in enumerate(lay.metrics):
            out.append(_svg_cell(lay.cell(cohort, metric), left + j * _SVG_CELL_W, y))
    y = bottom + 20
    for line in lay.more:
        out.append(f'<text x="8" y="{y}" fill="{_hex(INK)}">{escape(line)}</text>')
        y += 24
    x = 8
    for outcome, label in LEGEND:
        out.append(
            f'<rect class="legend" x="{x}" y="{y - 10}" width="12" height="12" '
            f'fill="{_hex(COLOURS[outcome])}"/>'
        )
        out.append(f'<text x="{x + 16}" y="{y}" fill="{_hex(INK)}">{escape(label)}</text>')
        x += 30 + _SVG_CHAR * len(label)
    out.append("</svg>")
    return "\n".join(out)


def _svg_cell(cell: Cell | None, x: int, y: int) -> str:
    w, h = _SVG_CELL_W - 2, _SVG_CELL_H - 2
    if cell is None:
        return f'<rect class="empty" x="{x}" y="{y}" width="{w}" height="{h}" fill="{_hex(EMPTY)}"/>'
    tip = f"{cell.cohort} / {cell.metric}: {cell.outcome.value}. {cell.rule}"
    return (
        f"<g><title>{escape(tip)}</title>"
        f'<rect class="cell" data-outcome={quoteattr(cell.outcome.value)} x="{x}" y="{y}" '
        f'width="{w}" height="{h}" fill="{_hex(COLOURS[cell.outcome])}"/>'
        f'<text x="{x + w // 2}" y="{y + 14}" text-anchor="middle" fill="#ffffff">'
        f"{escape(short_value(cell))}</text></g>"
    )
