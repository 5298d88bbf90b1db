"""Block Kit elements drawn as their Slack controls: buttons, menus, pickers, inputs, checkboxes, radios.

A control shows what the user entered when the view's state holds it (``Ctx.values``), else its
``initial_*`` value, else its placeholder. Controls are drawn, never live: the page has no scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox.slack_html.context import Ctx
from bot.sandbox.slack_html.dates import picker_date, picker_datetime, picker_time
from bot.sandbox.slack_html.marks import unsupported
from bot.sandbox.slack_html.mrkdwn import esc, plain_text, text_object, text_of
from bot.sandbox.slack_html.rich_text import rich_text

Element = Mapping[str, Any]


def _inert(ctx: Ctx) -> str:
    return ' aria-disabled="true"' if ctx.inert else ""


def _placeholder(element: Element, fallback: str) -> str:
    text = text_of(element.get("placeholder")) or fallback
    return f'<span class="placeholder">{plain_text(text)}</span>'


def _option_label(option: Any, ctx: Ctx) -> str:
    return text_object(option.get("text"), ctx.names) if isinstance(option, Mapping) else ""


def _chosen(element: Element, block_id: Any, ctx: Ctx, state_key: str, initial_key: str) -> Any:
    entry = ctx.entry(block_id, element.get("action_id"))
    if entry is not None and state_key in entry:
        return entry[state_key]
    return element.get(initial_key)


def button(element: Element, block_id: Any, ctx: Ctx) -> str:
    style = element.get("style")
    classes = "btn" + (f" btn-{style}" if style in ("primary", "danger") else "") + (" btn-inert" if ctx.inert else "")
    label = text_object(element.get("text"), ctx.names)
    external = ' <span class="btn-external" aria-hidden="true">↗</span>' if element.get("url") else ""
    confirm = ' data-confirm="true"' if element.get("confirm") else ""
    return f'<span class="{classes}" role="button"{_inert(ctx)}{confirm}>{label}{external}</span>'


def overflow(element: Element, block_id: Any, ctx: Ctx) -> str:
    items = "".join(f"<li>{_option_label(o, ctx)}</li>" for o in element.get("options") or [])
    return (f'<details class="overflow"{_inert(ctx)}><summary class="btn btn-overflow" aria-label="More options">'
            f"⋮</summary><ul class=\"menu\">{items}</ul></details>")


def _select_box(inner: str, ctx: Ctx, icon: str = "") -> str:
    lead = f'<span class="control-icon" aria-hidden="true">{icon}</span>' if icon else ""
    return (f'<span class="select"{_inert(ctx)}>{lead}<span class="select-value">{inner}</span>'
            '<span class="caret" aria-hidden="true">▾</span></span>')


def _avatar_chip(label: str, kind: str = "user") -> str:
    initial = esc(label[:1].upper()) if kind == "user" else "#"
    return f'<span class="chip chip-{kind}"><span class="chip-avatar">{initial}</span>{esc(label)}</span>'


def static_select(element: Element, block_id: Any, ctx: Ctx) -> str:
    multi = str(element.get("type", "")).startswith("multi_")
    key = ("selected_options", "initial_options") if multi else ("selected_option", "initial_option")
    chosen = _chosen(element, block_id, ctx, *key)
    if multi and isinstance(chosen, list) and chosen:
        inner = "".join(f'<span class="chip">{_option_label(o, ctx)}</span>' for o in chosen)
    elif not multi and isinstance(chosen, Mapping):
        inner = _option_label(chosen, ctx)
    else:
        inner = _placeholder(element, "Select an item")
    return _select_box(inner, ctx)


USER_SELECTS = {"users_select": ("selected_user", "initial_user"),
                "multi_users_select": ("selected_users", "initial_users")}
CONVERSATION_SELECTS = {
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


def _ids(value: Any) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def users_select(element: Element, block_id: Any, ctx: Ctx) -> str:
    ids = _ids(_chosen(element, block_id, ctx, *USER_SELECTS[str(element.get("type"))]))
    if not ids:
        return _select_box(_placeholder(element, "Select a person"), ctx)
    return _select_box("".join(_avatar_chip(ctx.names.user(i)) for i in ids), ctx)


def conversations_select(element: Element, block_id: Any, ctx: Ctx) -> str:
    kind = str(element.get("type"))
    ids = _ids(_chosen(element, block_id, ctx, *CONVERSATION_SELECTS[kind]))
    if not ids and element.get("default_to_current_conversation"):
        return _select_box('<span class="placeholder">The current conversation</span>', ctx)
    if not ids:
        return _select_box(_placeholder(element, "Select a channel"), ctx)
    return _select_box("".join(_avatar_chip(ctx.names.channel(i), "channel") for i in ids), ctx)


def datepicker(element: Element, block_id: Any, ctx: Ctx) -> str:
    chosen = _chosen(element, block_id, ctx, "selected_date", "initial_date")
    inner = esc(picker_date(chosen)) if isinstance(chosen, str) and chosen else _placeholder(element, "Select a date")
    return _select_box(inner, ctx, "📅")


def timepicker(element: Element, block_id: Any, ctx: Ctx) -> str:
    chosen = _chosen(element, block_id, ctx, "selected_time", "initial_time")
    inner = esc(picker_time(chosen)) if isinstance(chosen, str) and chosen else _placeholder(element, "Select time")
    return _select_box(inner, ctx, "🕒")


def datetimepicker(element: Element, block_id: Any, ctx: Ctx) -> str:
    chosen = _chosen(element, block_id, ctx, "selected_date_time", "initial_date_time")
    if isinstance(chosen, int | float) and not isinstance(chosen, bool):
        return _select_box(esc(picker_datetime(int(chosen), ctx.names.tz)), ctx, "📅")
    return _select_box('<span class="placeholder">Select a date and time</span>', ctx, "📅")


def text_input(element: Element, block_id: Any, ctx: Ctx) -> str:
    kind = str(element.get("type"))
    initial_key = "initial_value"
    chosen = _chosen(element, block_id, ctx, "value", initial_key)
    if isinstance(chosen, int | float) and not isinstance(chosen, bool):
        chosen = str(chosen)
    multiline = bool(element.get("multiline"))
    shown = plain_text(chosen, use_emoji=False) if isinstance(chosen, str) and chosen else _placeholder(element, "")
    classes = "input" + (" input-multiline" if multiline else "") + f" input-{kind.replace('_', '-')}"
    return f'<span class="{classes}"{_inert(ctx)}>{shown}</span>'


def rich_text_input(element: Element, block_id: Any, ctx: Ctx) -> str:
    entry = ctx.entry(block_id, element.get("action_id"))
    value = entry.get("rich_text_value") if entry is not None else element.get("initial_value")
    shown = rich_text(value, ctx) if isinstance(value, Mapping) else _placeholder(element, "")
    return f'<span class="input input-multiline input-rich"{_inert(ctx)}>{shown}</span>'


def file_input(element: Element, block_id: Any, ctx: Ctx) -> str:
    types = ", ".join(str(t) for t in element.get("filetypes") or [])
    accepted = f'<span class="hint">{esc(types)}</span>' if types else ""
    return f'<span class="file-drop"{_inert(ctx)}>Drag and drop or click to upload a file {accepted}</span>'


def _choices(element: Element, block_id: Any, ctx: Ctx, kind: str) -> str:
    multi = kind == "checkbox"
    key = ("selected_options", "initial_options") if multi else ("selected_option", "initial_option")
    chosen = _chosen(element, block_id, ctx, *key)
    picked = chosen if isinstance(chosen, list) else [chosen] if isinstance(chosen, Mapping) else []
    values = {o.get("value") for o in picked if isinstance(o, Mapping)}
    rows = []
    for option in element.get("options") or []:
        if not isinstance(option, Mapping):
            continue
        on = option.get("value") in values
        description = option.get("description")
        extra = f'<span class="choice-description">{text_object(description, ctx.names)}</span>' if description else ""
        rows.append(f'<span class="choice{" choice-on" if on else ""}"><span class="{kind}" aria-checked='
                    f'"{"true" if on else "false"}"></span><span class="choice-text">'
                    f"{_option_label(option, ctx)}{extra}</span></span>")
    return f'<span class="choices"{_inert(ctx)}>{"".join(rows)}</span>'


def checkboxes(element: Element, block_id: Any, ctx: Ctx) -> str:
    return _choices(element, block_id, ctx, "checkbox")


def radio_buttons(element: Element, block_id: Any, ctx: Ctx) -> str:
    return _choices(element, block_id, ctx, "radio")


def image_element(element: Element, block_id: Any, ctx: Ctx) -> str:
    """An image as a sized placeholder with its alt text: the page loads nothing from outside."""
    alt = esc(str(element.get("alt_text") or "image"))
    return f'<span class="img img-small" role="img" aria-label="{alt}" title="{alt}">🖼</span>'


def text_element(element: Element, block_id: Any, ctx: Ctx) -> str:
    return f"<span>{text_object(element, ctx.names)}</span>"


def workflow_button(element: Element, block_id: Any, ctx: Ctx) -> str:
    return button({**element, "style": element.get("style") or "primary"}, block_id, ctx)


ELEMENTS: dict[str, Callable[[Element, Any, Ctx], str]] = {
    "button": button,
    "workflow_button": workflow_button,
    "overflow": overflow,
    "static_select": static_select,
    "external_select": static_select,
    "multi_static_select": static_select,
    "multi_external_select": static_select,
    **{kind: users_select for kind in USER_SELECTS},
    **{kind: conversations_select for kind in CONVERSATION_SELECTS},
    "datepicker": datepicker,
    "timepicker": timepicker,
    "datetimepicker": datetimepicker,
    "plain_text_input": text_input,
    "email_text_input": text_input,
    "url_text_input": text_input,
    "number_input": text_input,
    "rich_text_input": rich_text_input,
    "file_input": file_input,
    "checkboxes": checkboxes,
    "radio_buttons": radio_buttons,
    "image": image_element,
    "plain_text": text_element,
    "mrkdwn": text_element,
}


def element(value: Any, block_id: Any, ctx: Ctx) -> str:
    """Any element by its type; an unknown type is shown as an ``unsupported element`` marker."""
    if not isinstance(value, Mapping):
        return unsupported(type(value).__name__)
    draw = ELEMENTS.get(str(value.get("type")))
    if draw is None:
        return unsupported(value.get("type"))
    return draw(value, block_id, ctx)
