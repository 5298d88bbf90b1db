"""The cohort-by-metric grid as a picture: inline SVG, or PNG with no imaging library.

Pure core: standard library only. The PNG comes from a small encoder (zlib + struct, RGB,
filter 0) and a built-in 5x7 bitmap font; lower-case letters are drawn as capitals.
"""

from __future__ import annotations

import struct
import zlib
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
WHITE: Colour = (255, 255, 255)
INK: Colour = (36, 41, 47)
LEGEND = (
    (Outcome.PASS, "pass"),
    (Outcome.REGRESSION, "regression"),
    (Outcome.FAIL, "fail"),
    (Outcome.NOT_ENOUGH, "not enough evidence"),
)

# 5x7 glyphs: seven rows of five bits, leftmost pixel in the highest bit, as 14 hex digits.
_GLYPHS = {
    "A": "0E11111F111111",
    "B": "1E11111E11111E",
    "C": "0E11101010110E",
    "D": "1E11111111111E",
    "E": "1F10101E10101F",
    "F": "1F10101E101010",
    "G": "0E11101711110F",
    "H": "1111111F111111",
    "I": "0E04040404040E",
    "J": "0702020202120C",
    "K": "11121418141211",
    "L": "1010101010101F",
    "M": "111B1515111111",
    "N": "11111915131111",
    "O": "0E11111111110E",
    "P": "1E11111E101010",
    "Q": "0E11111115120D",
    "R": "1E11111E141211",
    "S": "0F10100E01011E",
    "T": "1F040404040404",
    "U": "1111111111110E",
    "V": "11111111110A04",
    "W": "1111111515150A",
    "X": "11110A040A1111",
    "Y": "11110A04040404",
    "Z": "1F01020408101F",
    "0": "0E11131519110E",
    "1": "040C040404040E",
    "2": "0E11010204081F",
    "3": "1F02040201110E",
    "4": "02060A121F0202",
    "5": "1F101E0101110E",
    "6": "0608101E11110E",
    "7": "1F010204080808",
    "8": "0E11110E11110E",
    "9": "0E11110F01020C",
    " ": "00000000000000",
    ".": "00000000000C0C",
    ",": "000000000C0408",
    "-": "0000001F000000",
    "_": "0000000000001F",
    "=": "00001F001F0000",
    ":": "000C0C000C0C00",
    "+": "0004041F040400",
    "%": "18190204081303",
    "/": "00010204081000",
    "(": "02040808080402",
    ")": "08040202020408",
    "[": "0E08080808080E",
    "]": "0E02020202020E",
    "<": "02040810080402",
    ">": "08040201020408",
    "?": "0E110102040004",
    "!": "04040404040004",
    "'": "04040000000000",
    '"': "0A0A0000000000",
    "#": "0A0A1F0A1F0A0A",
    "&": "0C12140815120D",
    "*": "0004150E150400",
    "@": "0E11171517100E",
    "|": "04040404040404",
}
FONT: dict[str, tuple[int, ...]] = {ch: tuple(bytes.fromhex(code)) for ch, code in _GLYPHS.items()}
ADVANCE = 6  # glyph width plus one column of space


def short_value(cell: Cell) -> str:
    """A cell's value in at most seven characters: rates in percent, latencies in their unit."""
    if cell.kind is Kind.RATE:
        text = f"{cell.candidate * 100:.1f}%"
    elif cell.kind is Kind.LATENCY:
        text = f"{cell.candidate:.0f}{cell.unit}" if cell.candidate < 10_000 else f"{cell.candidate:.3g}"
    else:
        text = f"{cell.candidate:.4g}"
    return text[:7]


def clip(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 2] + ".."


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
    left = 12 + _SVG_CHAR * max([len(clip(c)) for c in lay.cohorts] + [6])
    slant = int(0.75 * _SVG_CHAR * max([len(clip(m)) for m in lay.metrics] + [6]))
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


# PNG ------------------------------------------------------------------------


class Canvas:
    """An RGB pixel buffer with rectangles and bitmap text."""

    def __init__(self, width: int, height: int, background: Colour = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, colour: Colour) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        run = bytes(colour) * (x1 - x0)
        for row in range(y0, y1):
            start = (row * self.width + x0) * 3
            self.pixels[start : start + len(run)] = run

    def text(self, x: int, y: int, text: str, colour: Colour, scale: int = 1, vertical: bool = False) -> None:
        """Draw text with its top-left at (x, y); vertical text reads upwards from (x, y) as its bottom-left."""
        for index, char in enumerate(text):
            glyph = FONT.get(char.upper(), FONT["?"])
            for gy, bits in enumerate(glyph):
                for gx in range(5):
                    if bits & (0x10 >> gx):
                        if vertical:
                            px, py = x + gy * scale, y - (index * ADVANCE + gx + 1) * scale
                        else:
                            px, py = x + (index * ADVANCE + gx) * scale, y + gy * scale
                        self.rect(px, py, scale, scale, colour)

    def png(self) -> bytes:
        return encode_png(self.width, self.height, self.pixels)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(width: int, height: int, rgb: bytes | bytearray | memoryview) -> bytes:
    """A PNG file from packed 8-bit RGB rows (no interlace, filter type 0 on every row). The rows are
    compressed one by one from the buffer, without copying the picture."""
    stride = width * 3
    if len(rgb) != stride * height:
        raise ValueError(f"expected {stride * height} bytes of RGB, got {len(rgb)}")
    view = memoryview(rgb)
    packer = zlib.compressobj(6)
    compressed = []
    for row in range(height):
        compressed.append(packer.compress(b"\x00"))
        compressed.append(packer.compress(view[row * stride : (row + 1) * stride]))
    compressed.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(compressed))
        + _chunk(b"IEND", b"")
    )


def grid_png(scorecard: CohortScorecard, *, scale: int = 2) -> bytes:
    """The grid as a PNG; ``scale`` multiplies every dimension (1 = 5x7 pixel letters)."""
    lay = _Layout(scorecard)
    s, cell_w, cell_h, pad = scale, 44, 13, 6
    left = pad + ADVANCE * max([len(clip(c)) for c in lay.cohorts] + [4]) + pad
    top = pad + 7 + 2 * pad + ADVANCE * max([len(clip(m)) for m in lay.metrics] + [4])
    legend_w = sum(16 + ADVANCE * len(label) for _, label in LEGEND)
    width = max(
        left + cell_w * len(lay.metrics) + pad, pad + ADVANCE * len(lay.title) + pad, legend_w + 2 * pad
    )
    bottom = top + cell_h * len(lay.cohorts)
    height = bottom + pad + 12 * (len(lay.more) + 1) + pad
    canvas = Canvas(width * s, height * s)
    canvas.text(pad * s, pad * s, lay.title, INK, s)
    for j, metric in enumerate(lay.metrics):
        canvas.text(
            (left + j * cell_w + cell_w // 2 - 4) * s, (top - pad) * s, clip(metric), INK, s, vertical=True
        )
    for i, cohort in enumerate(lay.cohorts):
        y = top + i * cell_h
        canvas.text(pad * s, (y + 3) * s, clip(cohort), INK, s)
        for j, metric in enumerate(lay.metrics):
            _png_cell(canvas, lay.cell(cohort, metric), left + j * cell_w, y, cell_w, cell_h, s)
    y = bottom + pad
    for line in lay.more:
        canvas.text(pad * s, y * s, line, INK, s)
        y += 12
    x = pad
    for outcome, label in LEGEND:
        canvas.rect(x * s, y * s, 8 * s, 7 * s, COLOURS[outcome])
        canvas.text((x + 10) * s, y * s, label, INK, s)
        x += 16 + ADVANCE * len(label)
    return canvas.png()


def _png_cell(canvas: Canvas, cell: Cell | None, x: int, y: int, w: int, h: int, s: int) -> None:
    colour = EMPTY if cell is None else COLOURS[cell.outcome]
    canvas.rect(x * s, y * s, (w - 1) * s, (h - 1) * s, colour)
    if cell is not None:
        label = short_value(cell)
        canvas.text((x + (w - 1 - ADVANCE * len(label) + 1) // 2) * s, (y + 3) * s, label, WHITE, s)
