"""Section scores as an inline SVG bar chart: baseline and candidate bars grouped per section.

Pure: standard library only. Every text is escaped, so checklist titles cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.markup import escape, quoteattr
from bot.core.packet.model import SectionComparison

WIDTH = 760
LABEL_WIDTH = 260
LABEL_CHARS = 40  # longer section titles are cut with an ellipsis
VALUE_WIDTH = 70
BAR_HEIGHT = 14
BAR_GAP = 3
GROUP_GAP = 14
TOP = 44
COLOURS = {"baseline": "#9aa5b1", "candidate": "#2f6fb0"}


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:g}" y="{y:g}"{extra}>{escape(body)}</text>'


def _bar(series: str, section_id: str, x: float, y: float, width: float, value: int, top: int | None) -> str:
    label = f"{value}/{top}" if top is not None else str(value)
    return (
        f'<rect class="bar {series}" data-series="{series}" data-section={quoteattr(section_id)} '
        f'x="{x:g}" y="{y:g}" width="{width:g}" height="{BAR_HEIGHT}" fill="{COLOURS[series]}">'
        f"<title>{escape(f'{series}: {label}')}</title></rect>"
        + _text(x + width + 4, y + BAR_HEIGHT - 3, label, font_size="11", fill="#333")
    )


def section_chart(
    sections: Sequence[SectionComparison], *, candidate_label: str, baseline_label: str | None = None
) -> str:
    """Grouped horizontal bars, one per section per assessment; only candidate bars without a baseline.

    Bars share one scale (the largest section maximum), and a legend names both assessments. A lower
    score is better; a section that adds no points (a pass/fail gate) shows a zero-width bar.
    """
    show_baseline = baseline_label is not None
    series = ["baseline", "candidate"] if show_baseline else ["candidate"]
    tops = [v for s in sections for v in (s.baseline_max, s.candidate_max, s.baseline, s.candidate) if v]
    scale_top = max(tops, default=1)
    bar_area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    group_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    height = TOP + len(sections) * (group_height + GROUP_GAP) + 8

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="section-chart" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">',
        f"<title>Section scores, {'baseline and candidate' if show_baseline else 'candidate'} "
        "(lower is better)</title>",
    ]
    x = 0.0
    names = {"baseline": f"Baseline {baseline_label}", "candidate": f"Candidate {candidate_label}"}
    for name in series:
        parts.append(
            f'<rect class="legend {name}" x="{x:g}" y="6" width="12" height="12" fill="{COLOURS[name]}"/>'
        )
        parts.append(_text(x + 17, 16, names[name], font_size="12", fill="#222"))
        x += 17 + 7.2 * len(names[name]) + 24
    parts.append(_text(x, 16, "Lower is better", font_size="12", fill="#555", font_style="italic"))

    y = float(TOP)
    for section in sections:
        label_y = y + group_height / 2 + 4
        title = section.title if len(section.title) <= LABEL_CHARS else section.title[: LABEL_CHARS - 1] + "…"
        parts.append(_text(LABEL_WIDTH - 8, label_y, title, font_size="12", fill="#222", text_anchor="end"))
        for name in series:
            value = section.baseline if name == "baseline" else section.candidate
            top = section.baseline_max if name == "baseline" else section.candidate_max
            if value is not None:
                width = bar_area * value / scale_top
                parts.append(_bar(name, section.id, LABEL_WIDTH, y, width, value, top))
            y += BAR_HEIGHT + BAR_GAP
        y += GROUP_GAP - BAR_GAP
    parts.append("</svg>")
    return "".join(parts)
