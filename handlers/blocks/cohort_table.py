"""The cohort-by-metric grid as Slack table blocks: native text (any script, any emoji), one table a message.

Slack's table block reference: at most 100 rows and 20 cells a row, 20 column settings, one table per message,
the table in the message's ``attachments``, and (as Slack enforces it) 10,000 characters across a table's
cells. Slack does not say what it counts as a character (a code point, a UTF-16 unit, a byte), so a table's
text is measured in UTF-8 bytes (:func:`text_size`), never less than either other count: an emoji is 4, a CJK
character 3, and cohort names of emoji never push a table over the limit. A grid larger than that is split:
metrics into groups of up to 19 (the cohort is every row's first cell), cohorts into groups of up to 99 rows
under the header row, each part its own message that says which part it is. A cell shows its outcome as a
coloured mark and its value; a cohort the metric was not measured in shows a dash.
"""

from __future__ import annotations

from typing import Any

from bot.core.evidence import Cell, CohortScorecard, Outcome
from bot.core.evidence.picture import short_value
from handlers.blocks import text as t
from handlers.blocks.kit import Block, context, section

MAX_ROWS = 100  # header included
MAX_CELLS = 20  # the cohort column included
MAX_TABLE_CHARS = 10_000  # Slack's limit, measured with text_size()
MAX_PARTS = 8  # messages one answer posts; the rest is in `readiness evidence show` and the packet
MAX_CELL = 60
MARKS = {Outcome.PASS: "🟢", Outcome.REGRESSION: "🟠", Outcome.FAIL: "🔴", Outcome.NOT_ENOUGH: "⚪"}
WORDS = {Outcome.PASS: "pass", Outcome.REGRESSION: "regression", Outcome.FAIL: "fail",
         Outcome.NOT_ENOUGH: "too few"}
EMPTY = "–"
LEGEND = "  ".join(f"{MARKS[o]} {WORDS[o]}" for o in Outcome) + f"  {EMPTY} not measured"

Message = dict[str, Any]


def raw(text: str) -> dict[str, str]:
    return {"type": "raw_text", "text": t.clip(text, MAX_CELL) or EMPTY}


def text_size(text: str) -> int:
    """A cell's text as it counts against MAX_TABLE_CHARS: its UTF-8 bytes, the strictest reading of Slack's
    "characters" (the sandbox checks the same reading, with its own code)."""
    return len(text.encode("utf-8", "surrogatepass"))


def cell_text(cell: Cell | None) -> str:
    if cell is None:
        return EMPTY
    return f"{MARKS[cell.outcome]} {short_value(cell)} {WORDS[cell.outcome]}"


def table(rows: list[list[str]]) -> Block:
    settings: list[dict[str, Any] | None] = [{"is_wrapped": True}] + [{"align": "right"}] * (len(rows[0]) - 1)
    return {"type": "table", "column_settings": settings, "rows": [[raw(c) for c in row] for row in rows]}


def _chunks(items: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [()]


def _row_groups(header: list[str], body: list[list[str]]) -> list[list[list[str]]]:
    """Body rows in groups under the header: at most MAX_ROWS rows and MAX_TABLE_CHARS (by text_size) each."""
    head = sum(text_size(raw(c)["text"]) for c in header)
    groups: list[list[list[str]]] = []
    current: list[list[str]] = []
    size = head
    for row in body:
        width = sum(text_size(raw(c)["text"]) for c in row)
        if current and (len(current) + 1 >= MAX_ROWS or size + width > MAX_TABLE_CHARS):
            groups.append(current)
            current, size = [], head
        current.append(row)
        size += width
    return groups + [current] if current else groups


def grid_messages(label: str, scorecard: CohortScorecard, comment: str) -> list[Message]:
    """The grid as chat.postMessage arguments (text, blocks, attachments), one table each."""
    cells = {(c.cohort, c.metric): c for c in scorecard.cells}
    parts: list[tuple[tuple[str, ...], list[list[str]]]] = []
    for metrics in _chunks(scorecard.metrics, MAX_CELLS - 1):
        header = ["Cohort", *metrics]
        body = [[cohort, *(cell_text(cells.get((cohort, m))) for m in metrics)] for cohort in scorecard.cohorts]
        parts += [(metrics, [header, *group]) for group in _row_groups(header, body)]
    shown, left = parts[:MAX_PARTS], len(parts) - MAX_PARTS
    messages = []
    for index, (metrics, rows) in enumerate(shown, start=1):
        where = f" (part {index} of {len(parts)}: cohorts {t.esc(rows[1][0])} to {t.esc(rows[-1][0])}, " \
                f"{len(metrics)} metric(s))" if len(parts) > 1 else ""
        blocks: list[Block] = [section(f"*Cohort scorecard: {t.esc(label)}*{where}\n{comment}")]
        if index == len(shown):
            more = f" {left} more part(s): `readiness evidence show` or the packet has them all." if left > 0 else ""
            blocks.append(context(t.clip(LEGEND + "." + more, 2000)))
        messages.append({"text": f"Cohort scorecard for {t.esc(label)}{where}", "blocks": blocks,
                         "attachments": [{"blocks": [table(rows)]}]})
    return messages
