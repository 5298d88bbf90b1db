"""Cohort evidence in Slack: the suggestions posted in a review's thread, the dismiss modal, the prefilled
mark modal, and the answer to `/readiness evidence`. Cohort and metric names, sources, rule texts and
reasons come from pushed files and policies: every one is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.checklist import Checklist, Mark
from bot.core.evidence import Cell, Outcome
from bot.core.marking import MAX_EVIDENCE, MAX_NOTE, MAX_REASON
from bot.services.evidence import OUTCOME_WORDS, Judged, cell_texts
from handlers.blocks import text as t
from handlers.blocks.kit import (
    Block,
    actions,
    button,
    context,
    header,
    modal,
    section,
    sections_of,
    text_input,
)
from handlers.ids import ActionId, BlockId, CallbackId, InputId
from handlers.state import ApplySuggestionState, DismissSuggestionState, SuggestionRef
from models import MarkSuggestion

Message = tuple[str, list[Block]]
MAX_SHOWN = 20  # suggestions with buttons in one message (two blocks each; Slack allows 50 blocks)
MAX_LINES = 15
REASON_LIMIT = 1500


def counts_text(counts: Mapping[str, int]) -> str:
    words = [f"{counts.get(o.value, 0)} {OUTCOME_WORDS[o]}" for o in Outcome if counts.get(o.value, 0)]
    return ", ".join(words) if words else "no cell judged"


def _status_line(row: MarkSuggestion) -> str:
    if row.status == "applied":
        return f":white_check_mark: Applied by {t.user(row.decided_by)} {t.when(row.decided_at)}".rstrip()
    if row.status == "dismissed":
        reason = t.clip(t.esc(row.decision_reason or ""), 500)
        return f":heavy_multiplication_x: Dismissed by {t.user(row.decided_by)}: {reason}"
    return ":hourglass: Superseded by newer evidence"


def _suggestion_blocks(checklist: Checklist, row: MarkSuggestion, contradicted: bool) -> list[Block]:
    item = checklist.item(row.item_id)
    mark = checklist.marks[Mark(str(row.mark))]
    flag = "\n:warning: *It is marked No, and the numbers contradict that.*" if contradicted else ""
    reason = t.clip(t.esc(row.reason.removeprefix(f"{mark.label}: ")), REASON_LIMIT)
    text = f"*{item.id} · {t.esc(item.title)}*: the numbers suggest *{mark.label}*: {reason}.{flag}"
    blocks: list[Block] = [section(text)]
    if row.status == "open":
        value = SuggestionRef(suggestion=row.id).dump()
        blocks.append(actions([button(f"Apply: {mark.label}", ActionId.APPLY_SUGGESTION, value, style="primary"),
                               button("Dismiss", ActionId.DISMISS_SUGGESTION, value)],
                              block_id=f"suggestion:{row.id}"))
    else:
        blocks.append(context(_status_line(row), block_id=f"suggestion:{row.id}"))
    return blocks


def suggestions_message(label: str, checklist: Checklist, payload: Mapping[str, Any],
                        rows: Sequence[MarkSuggestion]) -> Message:
    """What a new evidence set suggests for the review's items, with Apply / Dismiss on each."""
    contradicted = set(payload.get("contradicted") or [])
    marked = [r for r in rows if r.mark is not None]
    thin = [r for r in rows if r.mark is None]
    summary = (f"Evidence set #{payload.get('evidence')} pushed by {t.esc(str(payload.get('pushed_by')))}: "
               f"{counts_text(payload.get('counts') or {})}.\n{t.esc(str(payload.get('baseline')))}; "
               f"policy: {t.esc(str(payload.get('policy')))}.")
    blocks: list[Block] = [header(f"Cohort evidence: {label}"), section(summary)]
    missing = list(payload.get("missing") or [])
    if missing:
        more = int(payload.get("missing_count") or len(missing)) - len(missing)
        extra = f" and {more} more" if more > 0 else ""
        blocks.append(section(f":grey_question: Cohorts missing from this set: {t.esc(', '.join(missing))}{extra}."))
    gaps = [str(g) for g in payload.get("missing_metrics") or []]
    if gaps:
        more = int(payload.get("missing_metrics_count") or len(gaps)) - len(gaps)
        extra = f" and {more} more" if more > 0 else ""
        blocks.append(section(f":grey_question: Metrics missing from cohorts of this set: "
                              f"{t.clip(t.esc(', '.join(gaps)), 2500)}{extra}."))
    for row in marked[:MAX_SHOWN]:
        blocks.extend(_suggestion_blocks(checklist, row, row.item_id in contradicted))
    if len(marked) > MAX_SHOWN:
        blocks.append(context(f"{len(marked) - MAX_SHOWN} more suggestion(s): see `/readiness evidence`."))
    if not marked:
        blocks.append(section(":white_check_mark: The marks agree with the numbers: nothing to change."))
    if thin:
        lines = [f"*{r.item_id}*: {t.clip(t.esc(r.reason), 400)}" for r in thin]
        blocks.extend(sections_of(["Too little evidence to suggest a mark:", *lines], 3, "more items"))
    blocks.append(context("A suggestion is advice: a mark changes only when someone saves it. "
                          "`/readiness evidence` shows the whole cohort scorecard."))
    text = f"Cohort evidence for {t.esc(label)}: {len(marked)} suggested mark(s)"
    return text, blocks


def dismiss_modal(state: DismissSuggestionState, checklist: Checklist, row: MarkSuggestion) -> dict[str, Any]:
    item = checklist.item(row.item_id)
    mark = checklist.marks[Mark(str(row.mark))].label if row.mark else "no mark"
    blocks: list[Block] = [
        section(f"*{item.id} · {t.esc(item.title)}*: the numbers suggest *{mark}*.\n"
                f"{t.clip(t.esc(row.reason), REASON_LIMIT)}"),
        text_input(BlockId.REASON, "Why it does not apply", action_id=InputId.VALUE, multiline=True,
                   max_length=500, placeholder="e.g. the failing cohort is out of scope for this release"),
    ]
    return modal(CallbackId.DISMISS_SUGGESTION, f"Dismiss: {item.id}", blocks, submit="Dismiss",
                 private_metadata=state.dump())


def _prefill(view: dict[str, Any], block_id: str, text: str, limit: int) -> None:
    for block in view.get("blocks", []):
        if block.get("block_id") == block_id and block.get("type") == "input":
            element = block["element"]
            if not element.get("initial_value"):
                element["initial_value"] = t.clip(text, limit)


def as_apply_modal(view: dict[str, Any], state: ApplySuggestionState, row: MarkSuggestion,
                   evidence_label: str) -> dict[str, Any]:
    """The usual mark modal (already built), prefilled from the suggestion and sent back to us on submit."""
    said = f"Cohort evidence {evidence_label}: {row.reason}"
    out = {**view, "callback_id": CallbackId.APPLY_SUGGESTION.value, "private_metadata": state.dump(),
           "blocks": [dict(b, element=dict(b["element"])) if b.get("type") == "input" else b
                      for b in view.get("blocks", [])]}
    _prefill(out, BlockId.EVIDENCE.value, said, MAX_EVIDENCE)
    _prefill(out, BlockId.NOTE.value, said, MAX_NOTE)
    _prefill(out, BlockId.REASON.value, f"Applied the evidence suggestion ({evidence_label})", MAX_REASON)
    return out


# -- `/readiness evidence` ----------------------------------------------------------------------------


def _cell_line(cell: Cell) -> str:
    texts = cell_texts(cell)
    return (f"*{t.esc(cell.cohort)}* {t.esc(cell.metric)}: {OUTCOME_WORDS[cell.outcome]}, candidate {texts['candidate']}, "
            f"baseline {texts['baseline']}, delta {texts['delta']}. _{t.clip(t.esc(cell.rule), 300)}_")


def scorecard_reply(label: str, judged: Judged, contradicted: Sequence[str] = ()) -> Message:
    card = judged.scorecard
    verdict = ":white_check_mark: every judged cell passes" if card.passed else ":x: not a pass"
    blocks: list[Block] = [
        header(f"Cohort scorecard: {label}"),
        section(f"{verdict}: {counts_text(card.counts())}.\n{t.esc(judged.baseline_note)}; "
                f"policy: {t.esc(judged.policy_source)}; evidence set #{judged.candidate.id} "
                f"({judged.candidate.row_count} rows, pushed by {t.esc(judged.candidate.pushed_by)})."),
    ]
    failed = [_cell_line(c) for c in card.failures()]
    if failed:
        blocks.extend(sections_of(["*Failures and regressions*", *failed], 4, "more: see the table"))
    thin = [_cell_line(c) for c in card.with_outcome(Outcome.NOT_ENOUGH)]
    if thin:
        blocks.extend(sections_of(["*Not enough evidence* (never a pass)", *thin[:MAX_LINES]], 3, "more"))
    if card.missing_cohorts:
        names = ", ".join(card.missing_cohorts[:40])
        blocks.append(section(f"*Cohorts missing from this set*: {t.clip(t.esc(names), 2500)}"))
    if card.missing_metrics:
        gaps = ", ".join(f"{k.cohort}: {k.metric}" for k in card.missing_metrics[:40])
        blocks.append(section(f"*Metrics missing from cohorts of this set* (never a pass): {t.clip(t.esc(gaps), 2500)}"))
    if contradicted:
        blocks.append(section(f":warning: Marked No but contradicted by the numbers: {t.esc(', '.join(contradicted))}"))
    if card.unjudged:
        blocks.append(context(f"{len(card.unjudged)} row(s) had no rule in the policy and were not judged."))
    blocks.append(context("The cohort-by-metric grid follows in this channel as a table."))
    text = f"Cohort scorecard for {t.esc(label)}: {counts_text(card.counts())}"
    return text, blocks


def grid_comment(judged: Judged) -> str:
    return f"{counts_text(judged.scorecard.counts())} ({t.esc(judged.baseline_note)})."
