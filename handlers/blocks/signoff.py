"""Sign-off: the approvers modal, the approval card, the reason modal, and what the channel is told."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.core.review import Review
from bot.services.signoff import ALLOWED, APPROVE, REJECT, STAGED, WHY_NOT, WORDS, SignoffState
from handlers.blocks import text as t
from handlers.blocks.kit import (
    Block,
    actions,
    button,
    context,
    header,
    input_block,
    modal,
    plain,
    section,
    text_input,
)
from handlers.blocks.review import waived_lines
from handlers.ids import ActionId, BlockId, CallbackId, InputId
from handlers.state import DecisionRef, SignoffModalState

V = InputId.VALUE


def approvers_modal(state: SignoffModalState, label: str, roles: list[str], current: dict[str, str]) -> dict[str, Any]:
    blocks: list[Block] = [section(f"Name one approver per role for *{t.esc(label)}*. Each decides on the card "
                                   "posted in the release channel.")]
    for role in roles:
        element: dict[str, Any] = {"type": "users_select", "action_id": V}
        if current.get(role):
            element["initial_user"] = current[role]
        blocks.append(input_block(f"role:{role}", f"{role.title()} approver", element))
    return modal(CallbackId.SIGNOFF, "Request sign-off", blocks, submit="Post the card", private_metadata=state.dump())


def card(review: Review, st: SignoffState) -> tuple[str, list[Block]]:
    c = st.card
    verdict = c.verdict
    gaps = len(review.gaps())
    blocks: list[Block] = [
        header(f"Sign-off: {review.label}"),
        section(f"Score *{c.score} of {c.max_score}*, band *{c.band}*, verdict {t.verdict(verdict)}. "
                f"Blockers: {', '.join(c.blockers) or 'none'}. Open gaps: {gaps}."),
    ]
    if verdict in WHY_NOT:
        blocks.append(context(f"Why some buttons are refused: {WHY_NOT[verdict]}."))
    waived = waived_lines(review)
    if waived:
        blocks.append(section(t.clip("\n".join(waived), 2900)))
    for role in st.roles:
        if role.decision:
            why = f": {t.esc(role.reason)}" if role.reason else ""
            line = f"*{role.role.title()}* ({t.user(role.approver)}) {WORDS[role.decision]}{why}"
        else:
            line = f"*{role.role.title()}* ({t.user(role.approver)}): waiting"
        blocks.append(section(t.clip(line, 2900)))
        value = DecisionRef(assessment=review.assessment_id, role=role.role).dump()
        buttons = [button("Approve", ActionId.SIGNOFF_APPROVE, value, style="primary"),
                   button("Approve staged rollout", ActionId.SIGNOFF_STAGED, value),
                   button("Reject", ActionId.SIGNOFF_REJECT, value, style="danger")]
        blocks.append(actions(buttons, block_id=f"decide:{role.role}"))
    if c.blockers:
        blocks.append(actions([button("Waive a blocker", ActionId.WAIVE, SignoffModalState(
            assessment_id=review.assessment_id).dump())], block_id="waive"))
    allowed = ", ".join(d for d in (APPROVE, STAGED, REJECT) if d in ALLOWED[verdict])
    outcome = f" Outcome: *{st.outcome}*." if st.outcome else ""
    blocks.append(context(f"Allowed now: {allowed}. Any change of a mark voids the decisions given so far.{outcome}"))
    return f"Sign-off for {t.esc(review.label)}: verdict {t.VERDICT_WORD[verdict]}", blocks


def reason_modal(ref: DecisionRef, decision: str, label: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"{'Reject' if decision == REJECT else 'Approve a staged rollout of'} *{t.esc(label)}* as "
                f"{ref.role} approver."),
        text_input(BlockId.REASON, "Reason", action_id=V, multiline=True, max_length=1000),
    ]
    title = "Reject" if decision == REJECT else "Staged rollout"
    return modal(CallbackId.SIGNOFF_REASON, title, blocks, submit="Record decision",
                 private_metadata=ref.model_copy(update={"decision": decision}).dump())


def waiver_modal(state: SignoffModalState, label: str, blockers: list[tuple[str, str]], max_days: int,
                 latest: date) -> dict[str, Any]:
    options = [{"text": plain(t.clip(f"{item_id} {title}", 75)), "value": item_id} for item_id, title in blockers]
    blocks: list[Block] = [
        section(f"Waive a blocker of *{t.esc(label)}*. While the waiver holds, the blocker no longer forces "
                f"no-go; when it ends the blocker is back and decisions given meanwhile are void."),
        input_block(BlockId.WAIVE_ITEM, "Blocker", {"type": "static_select", "action_id": V, "options": options[:100]}),
        text_input(BlockId.REASON, "Why the rollout may go ahead with it", action_id=V, multiline=True,
                   max_length=1000),
        input_block(BlockId.WAIVE_UNTIL, "Waived through (UTC)", {"type": "datepicker", "action_id": V},
                    hint=f"At most {max_days} days: {latest.isoformat()} at the latest."),
    ]
    return modal(CallbackId.WAIVE, "Waive a blocker", blocks, submit="Waive", private_metadata=state.dump())


def waiver_notice(review: Review, item_id: str, granted_by: str, reason: str, expires_at: datetime, *,
                  ended: bool, voided: int, end_reason: str | None) -> tuple[str, list[Block]]:
    title = t.esc(review.checklist.item(item_id).title)
    if not ended:
        line = (f":shield: {t.user(granted_by)} waived blocker *{item_id}* {title} in *{t.esc(review.label)}* "
                f"until {t.when(expires_at)}: {t.esc(reason)}. Verdict now {t.verdict(review.card.verdict)}.")
        summary = f"Blocker {item_id} waived for {t.esc(review.label)}"
    else:
        why = "was re-marked" if end_reason == "re-marked" else "expired"
        line = (f":rotating_light: The waiver of *{item_id}* {title} in *{t.esc(review.label)}* {why}: the blocker "
                f"is back. Verdict now {t.verdict(review.card.verdict)}.")
        summary = f"Waiver of {item_id} ended for {t.esc(review.label)}: blocker back"
    if voided:
        line += f" {voided} sign-off decision(s) given on the waived scorecard are void: approvers, decide again."
    return summary, [section(t.clip(line, 2900))]


def voided(review: Review, item_id: str, actor: str, count: int) -> tuple[str, list[Block]]:
    line = (f":warning: {t.user(actor)} re-marked *{item_id}* in *{t.esc(review.label)}*: the {count} sign-off "
            f"decision(s) given so far are void, because they saw another scorecard. Approvers, please decide again.")
    return f"Sign-off decisions voided for {t.esc(review.label)}", [section(line)]


def outcome(review: Review, result: str) -> tuple[str, list[Block]]:
    icon = {"approved": ":white_check_mark:", "approved-staged": ":large_yellow_circle:"}.get(result, ":no_entry:")
    line = f"{icon} *Sign-off for {t.esc(review.label)}: {result}.*"
    return f"Sign-off for {t.esc(review.label)}: {result}", [section(line)]
