"""Modals: start a review, mark an item."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.checklist import Checklist, Mark
from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from bot.core.marking import MAX_EVIDENCE, MAX_NOTE, MAX_REASON
from bot.core.review import ItemStatus
from handlers.blocks import text as t
from handlers.blocks.kit import Block, context, input_block, modal, plain, section, text_input
from handlers.ids import BlockId, CallbackId, InputId
from handlers.state import MarkModalState, StartModalState

V = InputId.VALUE


def start_modal(
    state: StartModalState,
    *,
    system: str = "",
    version: str = "",
    baselines: list[tuple[int, str]] | None = None,
    release_channels: list[str] | None = None,
) -> dict[str, Any]:
    """``release_channels``: the workspace's configured ones (the first is proposed), or None for any."""
    blocks: list[Block] = [
        section("Start a rollout-readiness review: the bot posts the checklist as a thread in the review channel."),
        text_input(BlockId.SYSTEM, "System", action_id=V, initial=system, max_length=MAX_SYSTEM,
                   placeholder="e.g. support-search-assistant"),
        text_input(BlockId.VERSION, "Candidate version", action_id=V, initial=version, max_length=MAX_VERSION,
                   placeholder="e.g. 2.4.0"),
        text_input(BlockId.COHORTS, "Cohorts that matter", action_id=V, optional=True, max_length=500,
                   placeholder="tenants, workflows, languages: comma separated"),
        input_block(
            BlockId.REVIEW_CHANNEL,
            "Review channel",
            {"type": "conversations_select", "action_id": V,
             "filter": {"include": ["public", "private"], "exclude_bot_users": True},
             "initial_conversation": state.channel_id, "default_to_current_conversation": True},
            hint="The checklist thread goes here. Readiness must be a member: invite it with /invite @Readiness.",
        ),
        input_block(
            BlockId.RELEASE_CHANNEL,
            "Release channel for alerts",
            {
                "type": "conversations_select",
                "action_id": V,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                "initial_conversation": (release_channels or [state.channel_id])[0],
                "default_to_current_conversation": False,
            },
            hint="Blocker alerts and the result are posted here."
            + (" This workspace allows only its configured release channels." if release_channels else ""),
        ),
    ]
    if baselines:
        options = [
            {"text": plain(t.clip(f"#{aid} {label}", 75)), "value": str(aid)} for aid, label in baselines[:100]
        ]
        blocks.append(
            input_block(
                BlockId.BASELINE,
                "Baseline (an earlier review of the same system)",
                {"type": "static_select", "action_id": V, "options": options},
                optional=True,
            )
        )
    return modal(CallbackId.START_REVIEW, "Readiness review", blocks, submit="Start review",
                 private_metadata=state.dump())


def mark_modal(checklist: Checklist, state: MarkModalState, current: ItemStatus, today: date) -> dict[str, Any]:
    item = checklist.item(state.item_id)
    label = checklist.marks[state.mark]
    blocks: list[Block] = [
        section(f"*{item.id} · {t.esc(item.title)}*\n{t.esc(item.question)}"),
        context(f"Marking *{label.label}*: {t.esc(label.meaning)}"),
    ]
    if state.mark is Mark.NO:
        blocks.append(
            text_input(BlockId.EVIDENCE, "Evidence", action_id=V, multiline=True, max_length=MAX_EVIDENCE,
                       initial=current.evidence if current.mark is Mark.NO else None,
                       placeholder="A link to the proof, or a short description of it",
                       hint=f"What proves it: {t.clip(item.evidence, 1900)}")
        )
    else:
        owner_el: dict[str, Any] = {"type": "users_select", "action_id": V, "placeholder": plain("Who closes this gap")}
        if current.owner:
            owner_el["initial_user"] = current.owner
        due_el: dict[str, Any] = {"type": "datepicker", "action_id": V}
        due_el["initial_date"] = (current.due if current.due and current.due >= today else today).isoformat()
        blocks += [
            input_block(BlockId.OWNER, "Owner", owner_el),
            input_block(BlockId.DUE, "Due date", due_el),
            text_input(BlockId.NOTE, "Note", action_id=V, multiline=True, optional=True, max_length=MAX_NOTE,
                       initial=current.note, placeholder="What is missing, for which cohorts or releases"),
        ]
    if current.mark is not None:
        blocks.append(
            text_input(BlockId.REASON, "Why the change", action_id=V, optional=True, max_length=MAX_REASON,
                       placeholder=f"Currently {checklist.marks[current.mark].label}")
        )
    return modal(CallbackId.MARK_ITEM, f"Mark {item.id}: {label.label}", blocks, submit="Save mark",
                 private_metadata=state.dump())
