"""The rollout packet in Slack: the trace-example and rollout-plan modals, and what the thread is told."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from handlers.blocks import text as t
from handlers.blocks.kit import Block, context, input_block, modal, plain, section, text_input
from handlers.ids import BlockId, CallbackId, InputId
from handlers.state import PacketModalState

V = InputId.VALUE
KIND_LABELS = {"good": "Good path", "bad": "Bad path", "escalation": "Escalation path"}
KIND_HINTS = {
    "good": "the system did the right thing",
    "bad": "a wrong or harmful answer",
    "escalation": "the system handed off or abstained",
}
_UNSAFE_IN_LINK = re.compile(r"[<>|\s]")
_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def slack_link(url: str, label: str) -> str:
    """A mrkdwn link whose URL cannot close the link early and whose label is escaped."""
    href = _UNSAFE_IN_LINK.sub(lambda m: f"%{ord(m[0]):02X}", url)
    return f"<{href}|{t.esc(label) or 'link'}>"


def missing_text(missing: list[str]) -> str:
    if not missing:
        return "All three trace examples are there: good, bad and escalation path."
    return "Still missing: " + ", ".join(KIND_LABELS[k].lower() for k in missing) + "."


def trace_modal(state: PacketModalState, label: str, missing: list[str]) -> dict[str, Any]:
    options = [{"text": plain(f"{KIND_LABELS[k]}: {KIND_HINTS[k]}"), "value": k} for k in KIND_LABELS]
    kind: dict[str, Any] = {"type": "radio_buttons", "action_id": V, "options": options}
    blocks: list[Block] = [
        section(f"Link one traced request of *{t.esc(label)}* for its rollout packet. {missing_text(missing)}"),
        input_block(BlockId.TRACE_KIND, "Kind of path", kind),
        text_input(BlockId.LINK, "Link to the trace", action_id=V, max_length=2000,
                   placeholder="https://traces.example.com/t/8812", hint="An http or https link."),
        text_input(BlockId.DESCRIPTION, "What it shows", action_id=V, max_length=300,
                   placeholder="Refund question answered with two valid citations"),
    ]
    return modal(CallbackId.TRACE, "Add trace example", blocks, submit="Add", private_metadata=state.dump())


def plan_modal(state: PacketModalState, label: str, staged_rollout: str | None, rollback: str | None) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"The staged rollout path and the rollback steps of *{t.esc(label)}*, as the rollout packet "
                "shows them under the release policy."),
        text_input(BlockId.STAGED_ROLLOUT, "Staged rollout path", action_id=V, multiline=True, max_length=3000,
                   initial=staged_rollout, placeholder="1. Canary at 5% of EU tenants for 48 hours\n2. 25% per "
                   "tenant group\n3. All tenants"),
        text_input(BlockId.ROLLBACK, "Rollback steps", action_id=V, multiline=True, max_length=3000,
                   initial=rollback, placeholder="1. Turn the feature flag off\n2. Point the index alias back"),
    ]
    return modal(CallbackId.ROLLOUT_PLAN, "Rollout plan", blocks, submit="Save plan", private_metadata=state.dump())


def trace_added(label: str, user: str, kind: str, url: str, description: str,
                missing: list[str]) -> tuple[str, list[Block]]:
    line = (f"{t.user(user)} added a trace example to the packet of *{t.esc(label)}*: "
            f"{KIND_LABELS[kind].lower()}, {slack_link(url, t.clip(description, 200))}")
    return f"Trace example added to the packet of {t.esc(label)}", [section(line), context(missing_text(missing))]


def plan_saved(label: str, user: str) -> tuple[str, list[Block]]:
    line = (f"{t.user(user)} wrote the rollout plan of *{t.esc(label)}*: its staged rollout path and rollback "
            "steps are in the next packet.")
    return f"Rollout plan of {t.esc(label)} saved", [section(line)]


def packet_ready(label: str, link: str, expires: datetime, content_hash: str,
                 missing: list[str]) -> tuple[str, list[Block]]:
    lines = [
        f":page_facing_up: *Rollout packet: {t.esc(label)}*",
        f"{slack_link(link, 'Open the packet page')} (readable without Slack; the link works until "
        f"{expires.strftime('%Y-%m-%d %H:%M UTC')}). The Markdown and HTML files are shared in this thread.",
    ]
    if missing:
        lines.append(f":warning: {missing_text(missing)} Add them with *Add trace example* or `/readiness trace`.")
    blocks = [section("\n".join(lines)), context(f"Content hash sha256:{content_hash}")]
    return f"Rollout packet of {t.esc(label)}", blocks


def file_name(system: str, version: str, extension: str) -> str:
    stem = _FILENAME.sub("-", f"rollout-packet-{system}-{version}").strip("-.")[:120]
    return f"{stem or 'rollout-packet'}.{extension}"
