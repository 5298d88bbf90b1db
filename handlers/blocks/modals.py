"""Modals: start a review, mark an item, mark a section."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.core.checklist import Checklist, Item, Mark
from bot.core.limits import MAX_SYSTEM, MAX_VERSION
from bot.core.marking import MAX_EVIDENCE, MAX_NOTE, MAX_REASON
from bot.core.review import ItemStatus
from handlers.blocks import text as t
from handlers.blocks.kit import Block, context, divider, input_block, modal, plain, section, text_input
from handlers.ids import BlockId, CallbackId, InputId
from handlers.state import MarkModalState, SectionModalState, StartModalState

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
             **({"initial_conversation": state.channel_id} if state.channel_id else {}),
             "default_to_current_conversation": True},
            hint="The checklist thread goes here. Readiness must be a member: invite it with /invite @Readiness.",
        ),
        input_block(
            BlockId.RELEASE_CHANNEL,
            "Release channel for alerts",
            {
                "type": "conversations_select",
                "action_id": V,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                **({"initial_conversation": first} if (first := (release_channels or [state.channel_id])[0]) else {}),
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


DEFAULT_DUE_DAYS = 14  # a new gap's proposed due date: two weeks out, never today or the past


def default_due(current: date | None, today: date) -> date:
    return current if current is not None and current > today else today + timedelta(days=DEFAULT_DUE_DAYS)


def _gap_fields(checklist: Checklist, mark: Mark, current: ItemStatus | None, today: date, suffix: str = "",
                optional: bool = False) -> list[Block]:
    """Owner, due date and note of a gap (``suffix`` makes the block ids one item's in a section form)."""
    owner_el: dict[str, Any] = {"type": "users_select", "action_id": V, "placeholder": plain("Who closes this gap")}
    if current is not None and current.owner:
        owner_el["initial_user"] = current.owner
    due = default_due(current.due if current is not None else None, today)
    due_el: dict[str, Any] = {"type": "datepicker", "action_id": V, "initial_date": due.isoformat()}
    note_label = "What is missing" if mark is Mark.YES else "Note"
    return [
        input_block(f"{BlockId.OWNER}{suffix}", "Owner", owner_el, optional=optional),
        input_block(f"{BlockId.DUE}{suffix}", "Due date", due_el, optional=optional),
        text_input(f"{BlockId.NOTE}{suffix}", note_label, action_id=V, multiline=True,
                   optional=optional or mark is not Mark.YES, max_length=MAX_NOTE,
                   initial=current.note if current is not None else None,
                   placeholder="What is missing, for which cohorts or releases"),
    ]


def mark_modal(checklist: Checklist, state: MarkModalState, current: ItemStatus, today: date, *,
               live_decisions: int = 0) -> dict[str, Any]:
    """One item's mark: what it asks, the mark as it stands, what saving changes (a blocker, voided decisions),
    then what the chosen mark needs."""
    item = checklist.item(state.item_id)
    label = checklist.marks[state.mark]
    blocks: list[Block] = [section(f"*{item.id} · {t.esc(item.title)}*\n{t.esc(item.question)}")]
    if current.mark is not None:
        blocks.append(context(f"Now: {t.MARK_ICON[current.mark]} *{checklist.marks[current.mark].label}*, set by "
                              f"{t.user(current.marked_by)} {t.when(current.marked_at)}"))
    blocks.append(context(f"Marking *{label.label}*: {t.esc(label.meaning)}"))
    warnings = []
    if state.mark in checklist.blocks_on(item):
        warnings.append(f":no_entry: *{label.label}* makes {item.id} a blocker: the verdict becomes No-go, "
                        "whatever the score.")
    if live_decisions and current.mark is not None and current.mark is not state.mark:
        warnings.append(f":warning: A new mark voids the {live_decisions} sign-off decision"
                        f"{'s' if live_decisions != 1 else ''} given so far: the approvers decide again.")
    if warnings:
        blocks.append(section("\n".join(warnings)))
    if state.mark is Mark.NO:
        blocks.append(
            text_input(BlockId.EVIDENCE, "Evidence", action_id=V, multiline=True, max_length=MAX_EVIDENCE,
                       initial=current.evidence if current.mark is Mark.NO else None,
                       placeholder="A link to the proof, or a short description of it",
                       hint=f"What proves it: {t.clip(item.evidence, 1900)}")
        )
    else:
        blocks += _gap_fields(checklist, state.mark, current, today)
    if current.mark is not None:
        blocks.append(
            text_input(BlockId.REASON, "Why the change", action_id=V, optional=True, max_length=MAX_REASON,
                       placeholder="e.g. the load test passed, a new owner took it over")
        )
    return modal(CallbackId.MARK_ITEM, f"{label.label}: {item.id}", blocks, submit="Save mark",
                 private_metadata=state.dump())


def section_modal(checklist: Checklist, state: SectionModalState, title: str, items: list[Item],
                  today: date) -> dict[str, Any]:
    """Every unmarked item of a section in one form: a mark for each, and what that mark needs. Items left
    without a mark stay unmarked; the form is saved all or nothing."""
    blocks: list[Block] = [context("Pick a mark for each item you can answer now. *No* needs evidence; *Partial* "
                                   "and *Yes* need an owner and a due date (and *Yes* what is missing). "
                                   "Fields of another mark than the one picked are ignored.")]
    for item in items:
        n = f":{item.id}"
        choices = [{"text": plain(t.CHOICE[m]), "value": m.value} for m in (Mark.NO, Mark.PARTIAL, Mark.YES)]
        blocks += [
            divider(),
            section(f"*{item.id} · {t.esc(item.title)}*\n{t.esc(item.question)}"),
            input_block(f"{BlockId.MARK}{n}", "Mark", {"type": "radio_buttons", "action_id": V, "options": choices},
                        optional=True),
            text_input(f"{BlockId.EVIDENCE}{n}", "Evidence (for No)", action_id=V, optional=True,
                       max_length=MAX_EVIDENCE, placeholder=t.clip(f"e.g. {item.evidence}", 150)),
            *_gap_fields(checklist, Mark.PARTIAL, None, today, suffix=n, optional=True),
        ]
    return modal(CallbackId.MARK_SECTION, t.clip(title, 24), blocks[:100], submit="Save marks",
                 private_metadata=state.dump())
