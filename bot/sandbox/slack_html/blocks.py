"""Block Kit layout blocks as HTML, laid out the way Slack lays them out.

Supported: ``section`` (text, two-column ``fields``, ``accessory``, ``expand``), ``header``, ``divider``,
``context``, ``actions``, ``input`` (label, ``optional``, ``hint``, the error a submission was answered
with), ``image``, ``rich_text``, ``table``, ``markdown``, ``file`` and ``video`` (as placeholders). Any
other type is drawn as a visible ``unsupported block`` marker.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.sandbox.slack_html.context import Ctx
from bot.sandbox.slack_html.elements import element, image_element
from bot.sandbox.slack_html.marks import unsupported
from bot.sandbox.slack_html.mrkdwn import esc, link, mrkdwn, plain_text, text_object, text_of
from bot.sandbox.slack_html.rich_text import rich_text

Block = Mapping[str, Any]
ALIGN = ("left", "center", "right")


def _id_attr(block: Block) -> str:
    block_id = block.get("block_id")
    return f' data-block-id="{esc(block_id)}"' if isinstance(block_id, str) else ""


def section(block: Block, ctx: Ctx) -> str:
    parts = []
    if block.get("text") is not None:
        parts.append(f'<div class="section-text">{text_object(block["text"], ctx.names)}</div>')
    fields = block.get("fields") or []
    if fields:
        cells = "".join(f'<div class="field">{text_object(f, ctx.names)}</div>' for f in fields)
        parts.append(f'<div class="fields">{cells}</div>')
    accessory = block.get("accessory")
    body = f'<div class="section-body">{"".join(parts)}</div>'
    if accessory is None:
        return f'<div class="block section"{_id_attr(block)}>{body}</div>'
    kind = accessory.get("type") if isinstance(accessory, Mapping) else None
    drawn = image_element(accessory, block.get("block_id"), ctx).replace("img-small", "img-accessory") \
        if kind == "image" else element(accessory, block.get("block_id"), ctx)
    return (f'<div class="block section section-with-accessory"{_id_attr(block)}>{body}'
            f'<div class="accessory accessory-{esc(str(kind))}">{drawn}</div></div>')


def header(block: Block, ctx: Ctx) -> str:
    return f'<div class="block header"{_id_attr(block)}>{text_object(block.get("text"), ctx.names)}</div>'


def divider(block: Block, ctx: Ctx) -> str:
    return f'<hr class="block divider"{_id_attr(block)}>'


def context(block: Block, ctx: Ctx) -> str:
    items = []
    for item in block.get("elements") or []:
        if isinstance(item, Mapping) and item.get("type") == "image":
            items.append(image_element(item, block.get("block_id"), ctx).replace("img-small", "img-context"))
        elif isinstance(item, Mapping) and item.get("type") in ("mrkdwn", "plain_text"):
            items.append(f'<span class="context-item">{text_object(item, ctx.names)}</span>')
        else:
            items.append(element(item, block.get("block_id"), ctx))
    return f'<div class="block context"{_id_attr(block)}>{"".join(items)}</div>'


def actions(block: Block, ctx: Ctx) -> str:
    items = "".join(f'<span class="action">{element(e, block.get("block_id"), ctx)}</span>'
                    for e in block.get("elements") or [])
    return f'<div class="block actions"{_id_attr(block)}>{items}</div>'


def input_block(block: Block, ctx: Ctx) -> str:
    label = plain_text(text_of(block.get("label")))
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    block_id = block.get("block_id")
    hint = block.get("hint")
    hint_html = f'<div class="hint">{text_object(hint, ctx.names)}</div>' if hint else ""
    error = ctx.errors.get(block_id) if isinstance(block_id, str) else None
    error_html = f'<div class="input-error" role="alert">⚠ {plain_text(str(error))}</div>' if error else ""
    classes = "block input-block" + (" has-error" if error else "")
    control = element(block.get("element"), block_id, ctx)
    return (f'<div class="{classes}"{_id_attr(block)}><div class="label">{label}{optional}</div>'
            f'<div class="control">{control}</div>{error_html}{hint_html}</div>')


def image(block: Block, ctx: Ctx) -> str:
    title = block.get("title")
    title_html = f'<div class="image-title">{text_object(title, ctx.names)}</div>' if title else ""
    alt = esc(str(block.get("alt_text") or "image"))
    source = block.get("image_url") or (block.get("slack_file") or {}).get("url") or ""
    where = f'<span class="img-source">{esc(str(source))}</span>' if source else ""
    return (f'<div class="block image"{_id_attr(block)}>{title_html}<div class="img img-block" role="img" '
            f'aria-label="{alt}"><span class="img-icon">🖼</span><span class="img-alt">{alt}</span>{where}'
            "</div></div>")


def rich_text_block(block: Block, ctx: Ctx) -> str:
    return f'<div class="block rich-text"{_id_attr(block)}>{rich_text(block, ctx)}</div>'


def _cell(cell: Any, ctx: Ctx) -> str:
    if isinstance(cell, Mapping) and cell.get("type") == "rich_text":
        return rich_text(cell, ctx)
    if isinstance(cell, Mapping) and cell.get("type") == "raw_text":
        return plain_text(str(cell.get("text") or ""), use_emoji=False)
    if isinstance(cell, Mapping):
        return text_object(cell, ctx.names)
    return esc(str(cell))


def table(block: Block, ctx: Ctx) -> str:
    settings = block.get("column_settings") or []
    rows = [r for r in block.get("rows") or [] if isinstance(r, list)]
    out = []
    for index, row in enumerate(rows):
        tag = "th" if index == 0 else "td"
        cells = []
        for column, cell in enumerate(row):
            setting = settings[column] if column < len(settings) and isinstance(settings[column], Mapping) else {}
            align = setting.get("align") if setting.get("align") in ALIGN else "left"
            wrapped = " wrap" if setting.get("is_wrapped") else ""
            cells.append(f'<{tag} class="align-{align}{wrapped}">{_cell(cell, ctx)}</{tag}>')
        out.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="block table-block"{_id_attr(block)}><div class="table-scroll"><table class="table">'
            f"{''.join(out)}</table></div></div>")


# -- the markdown block: standard Markdown, a small subset ----------------------------------------------

MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
MD_BOLD = re.compile(r"\*\*(?!\s)(.+?)(?<!\s)\*\*")
MD_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
MD_CODE = re.compile(r"`([^`\n]+)`")
MD_BULLET = re.compile(r"^\s*[-*+]\s+")


def _md_inline(line: str) -> str:
    held: list[str] = []

    def hold(rendered: str) -> str:
        held.append(rendered)
        return f"\ue000{len(held) - 1}\ue001"

    text = MD_CODE.sub(lambda m: hold(f'<code class="code">{esc(m.group(1))}</code>'), line.replace("\ue000", ""))
    text = MD_LINK.sub(lambda m: hold(link(m.group(2), esc(m.group(1)))), text)
    text = html.escape(text, quote=False)
    text = MD_ITALIC.sub(r"<i>\1</i>", MD_BOLD.sub(r"<b>\1</b>", text))
    return re.sub("\ue000(\\d+)\ue001", lambda m: held[int(m.group(1))], text)


def markdown(block: Block, ctx: Ctx) -> str:
    out = []
    for line in str(block.get("text") or "").split("\n"):
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            out.append(f'<div class="md-h md-h{len(heading.group(1))}">{_md_inline(heading.group(2))}</div>')
        elif MD_BULLET.match(line):
            item = _md_inline(MD_BULLET.sub("", line, count=1))
            out.append(f'<div class="bullet"><span class="bullet-mark">•</span><span>{item}</span></div>')
        elif line.startswith(">"):
            out.append(f'<blockquote class="quote">{_md_inline(line[1:].lstrip())}</blockquote>')
        else:
            out.append(f'<div class="md-line">{_md_inline(line) or "&nbsp;"}</div>')
    return f'<div class="block markdown"{_id_attr(block)}>{"".join(out)}</div>'


def file_block(block: Block, ctx: Ctx) -> str:
    name = esc(str(block.get("external_id") or block.get("file_id") or "file"))
    return f'<div class="block file-block"{_id_attr(block)}><span class="file-icon">📄</span>{name}</div>'


def video(block: Block, ctx: Ctx) -> str:
    title = text_object(block.get("title"), ctx.names)
    return (f'<div class="block video"{_id_attr(block)}><div class="img img-block" role="img">'
            f'<span class="img-icon">▶</span><span class="img-alt">{title}</span></div></div>')


BLOCKS: dict[str, Callable[[Block, Ctx], str]] = {
    "section": section,
    "header": header,
    "divider": divider,
    "context": context,
    "actions": actions,
    "input": input_block,
    "image": image,
    "rich_text": rich_text_block,
    "table": table,
    "markdown": markdown,
    "file": file_block,
    "video": video,
}


def block(value: Any, ctx: Ctx) -> str:
    if not isinstance(value, Mapping):
        return unsupported(type(value).__name__, "block")
    draw = BLOCKS.get(str(value.get("type")))
    if draw is None:
        return unsupported(value.get("type"), "block")
    return draw(value, ctx)


def blocks(values: Iterable[Any], ctx: Ctx) -> str:
    """A list of blocks, in order, each in its own element."""
    return "".join(block(v, ctx) for v in values)


def fallback_text(text: str, ctx: Ctx) -> str:
    """A message without blocks shows its ``text`` as mrkdwn."""
    return f'<div class="block section"><div class="section-text">{mrkdwn(text, ctx.names)}</div></div>'
